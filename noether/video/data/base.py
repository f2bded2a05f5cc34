"""The video dataset type: fixed-length windows cut from stored episodes, served as dict samples.

Every dataset is stored as uint8 episodes ``frames [E, L, H, W, 3]`` (plus per-frame arrays such as actions or
states ``[E, L, ...]``) and a list of windows ``(episode, start)``; a sample is one window of
``n_cond + n_pred`` consecutive frames, converted on access to float32 ``[T, C, H, W]`` in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset


class WindowDataset(Dataset):
    """Windows of ``length`` frames cut from episodes.

    frames:  uint8 [E, L, H, W, C] episodes.
    windows: int [n, 2] rows (episode, first frame).
    extras:  per-frame arrays [E, L, ...] (e.g. ``actions`` float32 [E, L, a], ``states`` float64 [E, L, 2]),
             sliced like the frames and returned under their own key with their own dtype.
    flip:    random horizontal flips (train-time augmentation, App. E). Whether sample i is flipped is a pure
             function of (seed, epoch, i), so loading is deterministic; call ``set_epoch`` each epoch to draw new
             flips. Extras are not flipped (they are simulator quantities, not pixels).
    """

    def __init__(
        self,
        frames: np.ndarray,
        windows: np.ndarray,
        length: int,
        extras: dict[str, np.ndarray] | None = None,
        *,
        flip: bool = False,
        seed: int = 0,
    ):
        windows = np.asarray(windows, np.int64).reshape(-1, 2)
        if frames.ndim != 5 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 [E, L, H, W, C], got {frames.dtype} {frames.shape}")
        if len(windows) and (windows[:, 1].min() < 0 or windows[:, 1].max() + length > frames.shape[1]):
            raise ValueError(f"windows of length {length} run past episodes of length {frames.shape[1]}")
        self.frames = frames
        self.windows = windows
        self.length = int(length)
        self.extras = dict(extras or {})
        self.flip = bool(flip)
        self.seed = int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.windows)

    def set_epoch(self, epoch: int) -> None:
        """Choose the flips of epoch ``epoch`` (no effect without ``flip``)."""
        self.epoch = int(epoch)

    def flipped(self, index: int) -> bool:
        """Whether sample ``index`` is mirrored left-right in the current epoch."""
        if not self.flip:
            return False
        return bool(np.random.default_rng([self.seed, self.epoch, int(index)]).random() < 0.5)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"sample {index} out of range for {len(self)} samples")
        index = int(index) % len(self)
        episode, start = self.windows[index]
        clip = self.frames[episode, start : start + self.length]  # [T, H, W, C]
        if self.flipped(index):
            clip = clip[:, :, ::-1]
        frames = torch.from_numpy(np.ascontiguousarray(clip.transpose(0, 3, 1, 2))).float().div_(255.0)
        sample = {"frames": frames}
        for key, value in self.extras.items():
            sample[key] = torch.from_numpy(np.ascontiguousarray(value[episode, start : start + self.length]))
        return sample

    def __repr__(self) -> str:
        _, _, h, w, c = self.frames.shape
        return f"WindowDataset({len(self)} windows x {self.length} frames, {c}x{h}x{w}, flip={self.flip})"


def windows_of(episodes: np.ndarray, length: int, episode_len: int, stride: int) -> np.ndarray:
    """All windows (episode, start) with starts 0, stride, 2*stride, ... that fit in ``episode_len`` frames."""
    starts = np.arange(0, episode_len - length + 1, stride)
    return np.array([(e, s) for e in episodes for s in starts], np.int64).reshape(-1, 2)


@dataclass(frozen=True, eq=False)
class VideoDataset:
    """A video prediction dataset: condition on ``n_cond`` frames, predict ``n_pred`` (train on ``n_pred_train``).

    ``train`` and ``test`` yield dicts with ``frames`` float32 [T, C, H, W] in [0, 1], T = n_cond + n_pred, and the
    dataset's per-frame extras (``actions`` [T, a] for pendulum-controlled, ``states`` [T, 2] for the pendulums).
    ``meta`` records the generator, its configuration, sizes and seed. ``arrays`` holds everything stored on disk
    (e.g. the ramp's simulator trace) for inspection and tests. ``val`` (the ``pilot`` presets): held-out
    episodes, disjoint from train and test, for early stopping.
    """

    name: str
    train: WindowDataset
    test: WindowDataset
    n_cond: int
    n_pred: int
    n_pred_train: int
    meta: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    val: WindowDataset | None = None

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every frame."""
        _, _, h, w, c = self.train.frames.shape
        return c, h, w

    def summary(self) -> str:
        c, h, w = self.frame_shape
        val = f" / {len(self.val)} val" if self.val is not None else ""
        where = f"{self.name} [{self.meta.get('preset')}, seed {self.meta.get('seed')}]"
        return (
            f"{where}: {len(self.train)} train{val} / "
            f"{len(self.test)} test windows of {self.n_cond} + {self.n_pred} frames "
            f"(train on {self.n_pred_train}), {c}x{h}x{w}"
        )
