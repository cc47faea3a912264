"""How many threads torch, OpenMP, BLAS and OpenCV use: one policy for every command.

PyTorch's intra-op pool assumes it owns every core of the machine, and its OpenMP threads
spin while they wait for each other. When another process is busy on the same cores, a thread
that spins waits for one that is not running, and small operations take a scheduler time slice
each: on a 2-core machine one competing NumPy job made the demo's epochs about 40 times slower
(docs/performance.md has the measurements). The policy:

- intra-op threads = the cores this process may use (`usable_cores`: its CPU affinity, capped by
  a cgroup CPU quota, so a container limited to 2 CPUs on a 64-core host runs 2 threads);
- OpenMP threads sleep as soon as they wait (`RUNTIME_ENV`), set before torch is imported
  (`prepare_runtime`, the first thing `cvtool` does);
- DataLoader workers and process-pool workers run one thread each (`single_thread`, called by
  `cvtool.core.workers.init_worker`): their parallelism is the number of processes, not
  threads inside them;
- `threads=N` overrides the count (`--threads N` on every command that runs torch).

>>> prepare_runtime()          # before `import torch`; a no-op for variables already set
>>> set_threads(None)          # the policy's count; returns it
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from cvtool.core.errors import ParameterError

# Waiting OpenMP threads yield the core at once: GNU OpenMP (PASSIVE) and Intel OpenMP
# (KMP_BLOCKTIME=0, when torch is built with it). Idle time is unchanged; under load it is
# what keeps torch from spinning on cores another process needs.
RUNTIME_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}
# Thread counts of native libraries a single-threaded worker process limits before they load.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup in cores (v2 `cpu.max`, v1 `cpu.cfs_quota_us`),
    or None when there is none."""
    v2 = root / "cpu.max"
    try:
        if v2.is_file():
            quota, _, period = v2.read_text().partition(" ")
            return None if quota.strip() == "max" else int(quota) / int(period)
        for v1 in (root / "cpu", root / "cpu,cpuacct"):
            if (v1 / "cpu.cfs_quota_us").is_file():
                quota_us = int((v1 / "cpu.cfs_quota_us").read_text())
                period_us = int((v1 / "cpu.cfs_period_us").read_text())
                return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None
    return None


def usable_cores(root: Path = CGROUP_ROOT) -> int:
    """The cores this process may use: its CPU affinity, capped by the cgroup quota (rounded up,
    as joblib does), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        cores = min(cores, math.ceil(limit))
    return max(1, cores)


def prepare_runtime(environ: dict[str, str] | None = None) -> None:
    """Set the OpenMP wait policy unless the user set it. It is read once, when torch loads its
    OpenMP runtime, so this must run before `import torch`."""
    environ = os.environ if environ is None else environ  # type: ignore[assignment]
    for key, value in RUNTIME_ENV.items():
        environ.setdefault(key, value)


def check_threads(threads: int | None) -> None:
    if threads is not None and (isinstance(threads, bool) or threads < 1):
        raise ParameterError(f"threads must be a positive integer, got {threads!r}", "threads")


def policy_threads() -> int:
    """The intra-op threads of the policy: `OMP_NUM_THREADS` when set (by the user, or by
    `torchrun`, which gives each of its processes 1), else `usable_cores()`."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else usable_cores()


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads to `threads` (None: `policy_threads()`); returns the count.

    The inter-op pool is left alone: eager training and inference never use it."""
    import torch

    check_threads(threads)
    count = policy_threads() if threads is None else threads
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


def single_thread() -> None:
    """One thread in every native pool this process has loaded or will load.

    Run by every worker process (`cvtool.core.workers.init_worker`): N pool workers use N
    cores, not N times the cores. Limiting OpenMP through threadpoolctl also limits torch's
    OpenMP pool (and PyTorch already limits torch in DataLoader workers)."""
    for key in THREAD_ENV:
        os.environ[key] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)
