"""Video datasets by name, generated once and cached on disk: ``load_video_dataset('ramp', preset='cpu')``.

The cache lives in ``$NOETHER_CACHE/video`` (default ``~/.cache/noether/video``), one compressed ``.npz`` per
(name, preset, seed, size), written atomically; a format version in the file name invalidates old files when a
generator changes.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError, DataError, UnknownSystemError
from ...io import atomic_path, cache_root
from ..catalog import DATASETS
from . import pendulum_controlled, pendulum_pixels, ramp
from .base import VideoDataset

FORMAT_VERSION = 3  # bump whenever a generator changes: old cache files are then ignored


@dataclass(frozen=True)
class VideoSpec:
    """A named video dataset: its presets (frozen configs) and how to generate and assemble it."""

    name: str
    description: str
    presets: Mapping[str, Any]
    generate: Callable[[Any, int, int], tuple[dict[str, np.ndarray], dict[str, Any]]]
    build: Callable[[dict[str, np.ndarray], dict[str, Any], int], VideoDataset]
    sizes: tuple[int, ...] = (32, 64, 128)


VIDEO_DATASETS: dict[str, VideoSpec] = {
    "pendulum-controlled": VideoSpec(
        "pendulum-controlled",
        "gymnasium Pendulum-v1 driven by a_t = 2 sin(wt + a); 4 history frames + 26 actions -> 26 frames (App. D)",
        pendulum_controlled.PRESETS,
        pendulum_controlled.generate,
        pendulum_controlled.build,
    ),
    "ramp": VideoSpec(
        "ramp",
        "pymunk stand-in for Physics 101's 20-degree ramp; 2 frames -> 20 frames (App. E)",
        ramp.PRESETS,
        ramp.generate,
        ramp.build,
    ),
    "pendulum-pixels": VideoSpec(
        "pendulum-pixels",
        "the ideal HNN pendulum rendered as a bob on a rod, with true (q, p); 2 -> 20 frames",
        pendulum_pixels.PRESETS,
        pendulum_pixels.generate,
        pendulum_pixels.build,
    ),
}
assert tuple(VIDEO_DATASETS) == DATASETS, "catalog.DATASETS and the registry must name the same datasets"


def video_names() -> list[str]:
    return list(VIDEO_DATASETS)


def get_video_spec(name: str) -> VideoSpec:
    if name not in VIDEO_DATASETS:
        raise UnknownSystemError(f"unknown video dataset '{name}'; available: {', '.join(VIDEO_DATASETS)}")
    return VIDEO_DATASETS[name]


def cache_dir(root: str | os.PathLike | None = None) -> Path:
    """Where datasets are cached: ``root``, else ``$NOETHER_CACHE/video``, else ``~/.cache/noether/video``."""
    return Path(root) if root is not None else cache_root("video")


def cache_path(name: str, preset: str, seed: int, size: int, root: str | os.PathLike | None = None) -> Path:
    return cache_dir(root) / f"{name}-{preset}-seed{seed}-{size}px-v{FORMAT_VERSION}.npz"


def _check(name: str, preset: str, seed: int, size: int) -> VideoSpec:
    spec = get_video_spec(name)
    if preset not in spec.presets:
        raise ConfigError(f"unknown preset '{preset}' for {name}; choose one of {', '.join(spec.presets)}")
    if size not in spec.sizes:
        raise ConfigError(f"frame size must be one of {', '.join(map(str, spec.sizes))}, got {size}")
    if int(seed) != seed or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    return spec


def generate_video_arrays(name: str, *, preset: str = "ci", seed: int = 0, size: int = 64):
    """Run a dataset's generator without touching the cache: (arrays, meta)."""
    spec = _check(name, preset, seed, size)
    arrays, meta = spec.generate(spec.presets[preset], int(seed), int(size))
    meta = dict(meta, name=name, preset=preset, seed=int(seed), size=int(size), format_version=FORMAT_VERSION)
    return arrays, meta


def load_video_dataset(
    name: str,
    *,
    preset: str = "ci",
    seed: int = 0,
    root: str | os.PathLike | None = None,
    size: int = 64,
    cache: bool = True,
) -> VideoDataset:
    """Load (generating and caching on first use) a video dataset.

    name: one of ``VIDEO_DATASETS``; preset: ``ci`` (seconds, for tests), ``cpu`` (this machine) or ``paper`` (the
    paper's sizes); size: frame height = width in pixels; root: cache folder; cache=False skips the disk.
    """
    spec = _check(name, preset, seed, size)
    path = cache_path(name, preset, seed, size, root)
    if cache and path.exists():
        arrays, meta = _read(path)
    else:
        arrays, meta = generate_video_arrays(name, preset=preset, seed=seed, size=size)
        if cache:
            _write(path, arrays, meta)
    return spec.build(arrays, meta, int(seed))


def _write(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, __meta__=np.array(json.dumps(meta)), **arrays)


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
            meta = json.loads(str(data["__meta__"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"cached video dataset {path} is unreadable ({exc}); delete it or pass --force") from exc
    return arrays, meta
