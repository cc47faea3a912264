"""Settings of the motion-only boxmot trackers (the optional `boxmot` extra).

Each dataclass mirrors the constructor of one boxmot tracker class: its motion and threshold
parameters, with boxmot's own defaults, so `make_config("ocsort", inertia=0.3)` means what
`OcSort(inertia=0.3)` means. Parameters that only matter with appearance embeddings (ReID
weights, embedding weights and thresholds), oriented boxes or per-class tracking are left out:
these trackers always run with `use_embeddings=False`. Where a cvtool name differs from
boxmot's, `BOXMOT_NAMES` maps it: `track_low_thresh` is OC-SORT's `min_conf` (a retired option
name here), Hybrid-SORT's `TCM_*` are lowercase, and the longest names are shortened so that
`--help` shows them whole in 80 columns. No boxmot import here: the CLI builds its options from
these classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cvtool.track.config import COUNT, UNIT, TrackerConfig, setting

ASSO_HELP = "Association geometry: iou, giou, diou, ciou, hmiou or centroid."
CMC_HELP = "Camera-motion compensation method: ecc, orb, sof or sift."


@dataclass(frozen=True)
class BoxmotConfig(TrackerConfig):
    """Base of the boxmot trackers' settings: `BOXMOT_CLASS` is the tracker's class in the
    boxmot package, `BOXMOT_NAMES` maps a field to boxmot's parameter name where they differ."""

    BOXMOT_CLASS: ClassVar[str] = ""
    BOXMOT_NAMES: ClassVar[dict[str, str]] = {}


@dataclass(frozen=True)
class SortFamilyConfig(BoxmotConfig):
    """The base-tracker settings that the SORT-style boxmot trackers read."""

    det_thresh: float = setting(
        0.3, "Score a detection needs to be matched first or start a track.", bounds=UNIT
    )
    max_age: int = setting(30, "Frames a lost track is kept.", bounds=COUNT)
    min_hits: int = setting(3, "Matches a track needs before it is reported.", bounds=COUNT)
    iou_threshold: float = setting(0.3, "Similarity a match needs.", bounds=UNIT)
    asso_func: str = setting("iou", ASSO_HELP)


@dataclass(frozen=True)
class OcSortConfig(SortFamilyConfig):
    BOXMOT_CLASS: ClassVar[str] = "OcSort"
    BOXMOT_NAMES: ClassVar[dict[str, str]] = {"track_low_thresh": "min_conf"}

    track_low_thresh: float = setting(0.1, "Lowest score used (second association).", bounds=UNIT)
    delta_t: int = setting(3, "Frames back used to estimate a track's direction.", bounds=(1, None))
    inertia: float = setting(0.2, "Weight of the direction-consistency cost.", bounds=(0.0, None))
    use_byte: bool = setting(False, "Second, ByteTrack-style association of low-score boxes.")


@dataclass(frozen=True)
class BoxmotByteTrackConfig(BoxmotConfig):
    BOXMOT_CLASS: ClassVar[str] = "ByteTrack"
    BOXMOT_NAMES: ClassVar[dict[str, str]] = {"track_low_thresh": "min_conf"}

    track_low_thresh: float = setting(0.1, "Lowest score used (second association).", bounds=UNIT)
    track_thresh: float = setting(
        0.45, "Score a detection needs for the first association.", bounds=UNIT
    )
    match_thresh: float = setting(0.8, "Max cost (1 - IoU) of a first-stage match.", bounds=UNIT)
    track_buffer: int = setting(25, "Frames (at 30 fps) a lost track is kept.", bounds=COUNT)


@dataclass(frozen=True)
class BotSortConfig(BoxmotConfig):
    BOXMOT_CLASS: ClassVar[str] = "BotSort"
    BOXMOT_NAMES: ClassVar[dict[str, str]] = {"unconfirmed_thresh": "unconfirmed_match_thresh"}

    track_high_thresh: float = setting(0.5, "First-association score threshold.", bounds=UNIT)
    track_low_thresh: float = setting(0.1, "Lowest score used (second association).", bounds=UNIT)
    new_track_thresh: float = setting(0.6, "Score needed to start a track.", bounds=UNIT)
    track_buffer: int = setting(30, "Frames (at 30 fps) a lost track is kept.", bounds=COUNT)
    match_thresh: float = setting(0.8, "Max cost (1 - IoU) of a first-stage match.", bounds=UNIT)
    second_match_thresh: float = setting(
        0.5, "Max cost of a second-stage (low-score) match.", bounds=UNIT
    )
    unconfirmed_thresh: float = setting(
        0.7, "Max cost of a match to an unconfirmed track.", bounds=UNIT
    )
    use_cmc: bool = setting(True, "Camera-motion compensation from the frames.")
    cmc_method: str = setting("ecc", CMC_HELP)


@dataclass(frozen=True)
class BoostTrackConfig(SortFamilyConfig):
    BOXMOT_CLASS: ClassVar[str] = "BoostTrack"
    use_cmc: bool = setting(True, "Camera-motion compensation from the frames.")
    cmc_method: str = setting("ecc", CMC_HELP)
    min_box_area: int = setting(10, "Smallest box area (pixels) reported.", bounds=COUNT)
    aspect_ratio_thresh: float = setting(
        1.6, "Largest width/height ratio reported.", bounds=(0.0, None)
    )
    lambda_iou: float = setting(0.5, "Weight of the IoU similarity.", bounds=(0.0, None))
    lambda_mhd: float = setting(0.25, "Weight of the Mahalanobis similarity.", bounds=(0.0, None))
    lambda_shape: float = setting(0.25, "Weight of the shape similarity.", bounds=(0.0, None))
    use_dlo_boost: bool = setting(True, "Boost detection scores by overlap with tracks (DLO).")
    use_duo_boost: bool = setting(True, "Boost scores of unmatched, isolated detections (DUO).")
    dlo_boost_coef: float = setting(0.65, "Coefficient of the DLO boost.", bounds=(0.0, None))
    s_sim_corr: bool = setting(False, "Shape-similarity correction.")
    use_rich_s: bool = setting(False, "Rich similarity (BoostTrack++).")
    use_sb: bool = setting(False, "Soft buffered IoU (BoostTrack++).")
    use_vt: bool = setting(False, "Varying new-track threshold (BoostTrack++).")


@dataclass(frozen=True)
class DeepOcSortConfig(SortFamilyConfig):
    BOXMOT_CLASS: ClassVar[str] = "DeepOcSort"
    delta_t: int = setting(3, "Frames back used to estimate a track's direction.", bounds=(1, None))
    inertia: float = setting(0.2, "Weight of the direction-consistency cost.", bounds=(0.0, None))
    cmc_off: bool = setting(False, "Turn camera-motion compensation (optical flow) off.")


@dataclass(frozen=True)
class HybridSortConfig(SortFamilyConfig):
    BOXMOT_CLASS: ClassVar[str] = "HybridSort"
    BOXMOT_NAMES: ClassVar[dict[str, str]] = {
        "track_low_thresh": "low_thresh",
        "tcm_first_step": "TCM_first_step",
        "tcm_byte_step": "TCM_byte_step",
        "tcm_byte_weight": "TCM_byte_step_weight",
    }

    cmc_method: str = setting("ecc", CMC_HELP)
    track_low_thresh: float = setting(0.1, "Lowest score used (second association).", bounds=UNIT)
    delta_t: int = setting(3, "Frames back used to estimate a track's direction.", bounds=(1, None))
    inertia: float = setting(0.05, "Weight of the direction-consistency cost.", bounds=(0.0, None))
    use_byte: bool = setting(True, "Second, ByteTrack-style association of low-score boxes.")
    track_thresh: float = setting(0.5, "Score splitting high from low detections.", bounds=UNIT)
    tcm_first_step: bool = setting(True, "Track-confidence cost in the first association.")
    tcm_byte_step: bool = setting(True, "Track-confidence cost in the low-score association.")
    tcm_byte_weight: float = setting(
        1.0, "Weight of that cost in the low-score step.", bounds=(0.0, None)
    )


@dataclass(frozen=True)
class OccluBoostConfig(BoostTrackConfig):
    BOXMOT_CLASS: ClassVar[str] = "OccluBoost"
    BOXMOT_NAMES: ClassVar[dict[str, str]] = {
        "second_pass": "use_second_pass",
        "second_max_age": "second_pass_max_age",
        "second_min_hits": "second_pass_min_hits",
        "confirm_thresh": "instant_confirm_thresh",
        "duplicate_iou": "duplicate_iou_thresh",
    }

    track_low_thresh: float = setting(0.1, "Lowest score used (second association).", bounds=UNIT)
    new_track_thresh: float = setting(0.6, "Score needed to start a track.", bounds=UNIT)
    second_pass: bool = setting(False, "Second association of low-score boxes.")
    second_iou_thresh: float = setting(0.6, "IoU a second-pass match needs.", bounds=UNIT)
    second_max_age: int = setting(
        1, "Frames since the last match allowed in the second pass.", bounds=COUNT
    )
    second_min_hits: int = setting(
        3, "Matches a track needs to take part in the second pass.", bounds=COUNT
    )
    confirm_hits: int = setting(2, "Matches a new track needs before it is reported.", bounds=COUNT)
    confirm_thresh: float = setting(0.7, "Score that confirms a new track at once.", bounds=UNIT)
    tentative_max_age: int = setting(
        1, "Frames an unconfirmed track survives unmatched.", bounds=COUNT
    )
    duplicate_iou: float = setting(
        0.85, "IoU above which the younger of two reported tracks is dropped.", bounds=UNIT
    )
    ams_enabled: bool = setting(True, "Damp the Kalman gain on abnormal motion.")
    ams_alpha0: float = setting(0.4, "Gain factor applied on abnormal motion.", bounds=UNIT)
    ams_threshold: float = setting(
        0.5, "Relative motion spike counted as abnormal.", bounds=(0.0, None)
    )
    ams_buffer_size: int = setting(
        30, "Recent boxes kept to judge abnormal motion.", bounds=(2, None)
    )
    ams_shrink_ratio: float = setting(
        0.75, "Damp only when the box shrinks below this share of its mean area.", bounds=UNIT
    )


@dataclass(frozen=True)
class SfSortConfig(BoxmotConfig):
    BOXMOT_CLASS: ClassVar[str] = "SFSORT"
    high_th: float = setting(0.6, "Score a detection needs for the first association.", bounds=UNIT)
    match_th_first: float = setting(0.67, "Similarity a first-stage match needs.", bounds=UNIT)
    new_track_th: float = setting(0.7, "Score needed to start a track.", bounds=UNIT)
    low_th: float = setting(0.1, "Lowest score used (second association).", bounds=UNIT)
    match_th_second: float = setting(0.3, "Similarity a second-stage match needs.", bounds=UNIT)
    asso_func: str = setting("iou", ASSO_HELP)
    marginal_timeout: int = setting(
        0, "Frames a track lost near the image border is kept.", bounds=COUNT
    )
    central_timeout: int = setting(0, "Frames a track lost inside the image is kept.", bounds=COUNT)
    dynamic_tuning: bool = setting(False, "Adapt the thresholds to the number of detections.")
    cth: float = setting(0.5, "Score counted as a detection by the dynamic tuning.", bounds=UNIT)
    high_th_m: float = setting(0.0, "Dynamic-tuning step of high_th.", bounds=(0.0, None))
    new_track_th_m: float = setting(0.0, "Dynamic-tuning step of new_track_th.", bounds=(0.0, None))
    match_th_first_m: float = setting(
        0.0, "Dynamic-tuning step of match_th_first.", bounds=(0.0, None)
    )
