"""The threading policy: usable cores from affinity and cgroup quota, the OpenMP environment,
the thread count, and one thread per pool worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from cvtool.core.errors import ParameterError
from cvtool.core.parallel import parallel_map
from cvtool.core.threads import (
    RUNTIME_ENV,
    cgroup_cpu_limit,
    policy_threads,
    prepare_runtime,
    set_threads,
    usable_cores,
)


def _cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "limit"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        (
            {"cpu,cpuacct/cpu.cfs_quota_us": "200000", "cpu,cpuacct/cpu.cfs_period_us": "100000"},
            2.0,
        ),
        ({"cpu.max": "garbage"}, None),
        ({}, None),
    ],
)
def test_cgroup_cpu_limit(tmp_path: Path, files: dict[str, str], limit: float | None) -> None:
    assert cgroup_cpu_limit(_cgroup(tmp_path, files)) == limit


def test_usable_cores_is_capped_by_the_quota(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    assert usable_cores(_cgroup(tmp_path / "none", {})) == affinity
    assert usable_cores(_cgroup(tmp_path / "half", {"cpu.max": "50000 100000"})) == 1
    quota = _cgroup(tmp_path / "1.5", {"cpu.max": "150000 100000"})
    assert usable_cores(quota) == min(affinity, 2)  # rounded up, as joblib does


def test_prepare_runtime_keeps_what_the_user_set() -> None:
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    prepare_runtime(env)
    assert env == {**RUNTIME_ENV, "OMP_WAIT_POLICY": "ACTIVE"}


def test_thread_count_follows_omp_num_threads_then_the_cores(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert policy_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert policy_threads() == usable_cores()


def test_set_threads() -> None:
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
        with pytest.raises(ParameterError, match="threads must be a positive integer") as err:
            set_threads(0)
        assert err.value.param == "threads"
    finally:
        torch.set_num_threads(before)


def _worker_threads(_: int) -> tuple[str, int]:
    from threadpoolctl import threadpool_info

    return os.environ["OMP_NUM_THREADS"], max(p["num_threads"] for p in threadpool_info())


def test_pool_workers_run_one_thread() -> None:
    results = list(parallel_map(_worker_threads, range(4), workers=2))
    assert results == [("1", 1)] * 4
