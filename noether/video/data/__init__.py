"""Video datasets for Noether Networks on pixels (paper §4.1, Appendices D and E).

``load_video_dataset(name, preset=, seed=, size=)`` returns a ``VideoDataset`` whose ``train``/``test`` yield dicts
with ``frames`` float32 [T, C, H, W] in [0, 1] (plus ``actions``/``states`` where the dataset has them):

- ``pendulum-controlled``: gymnasium Pendulum-v1 under a scripted sinusoidal torque (4 -> 26 frames, actions).
- ``ramp``: a pymunk stand-in for Physics 101's 20° ramp (2 -> 20 frames, horizontal flips when training).
- ``pendulum-pixels``: the ideal HNN pendulum rendered to frames, with the true (q, p) (2 -> 20 frames).
"""

from .base import VideoDataset, WindowDataset
from .registry import (
    VIDEO_DATASETS,
    VideoSpec,
    cache_dir,
    cache_path,
    generate_video_arrays,
    get_video_spec,
    load_video_dataset,
    video_names,
)
from .strip import save_strip

__all__ = [
    "VideoDataset",
    "WindowDataset",
    "VIDEO_DATASETS",
    "VideoSpec",
    "load_video_dataset",
    "video_names",
    "get_video_spec",
    "generate_video_arrays",
    "cache_dir",
    "cache_path",
    "save_strip",
]
