"""``pendulum-pixels``: the ideal pendulum of the ``pendulum`` system (HNN protocol, H = 3(1 - cos q) + p^2)
rendered as a bob on a rod, with the true (q, p) of every frame.

Trajectories are ``PENDULUM.generate(samples=n, noise=0, seed=seed)``: 45 points on t in [0, 3] each, the first
half of the trajectories for training (HNN's split). q = 0 hangs straight down; q grows counter-clockwise
(x = L sin q, y = -L cos q, y up). A sample is a window of ``n_cond = 2`` + ``n_pred = 20`` frames with ``states``
float64 [T, 2] = (q, p); train windows start at every step, test windows do not overlap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...errors import ConfigError
from ...progress import stage
from ...systems.hnn import PENDULUM
from .base import VideoDataset, WindowDataset, windows_of
from .render import circle_vertices, paint, segment_vertices, to_uint8

N_COND, N_PRED = 2, 20
BACKGROUND = (1.0, 1.0, 1.0)
ROD = (0.35, 0.35, 0.35)
BOB = (0.15, 0.35, 0.85)


@dataclass(frozen=True)
class PixelsConfig:
    """trajectories: HNN samples, the first half train (HNN's split); val: the last ``val`` of those train
    trajectories held out for early stopping instead (the ``pilot`` preset)."""

    trajectories: int
    val: int = 0

    def __post_init__(self):
        if self.trajectories < 2 or not 0 <= self.val < self.trajectories // 2:
            raise ConfigError(
                f"pendulum-pixels needs >= 2 trajectories and fewer validation ones than train ones, "
                f"got {self.trajectories} and {self.val}"
            )


PRESETS = {
    "paper": PixelsConfig(200),
    "pilot": PixelsConfig(200, val=10),
    "cpu": PixelsConfig(50),
    "ci": PixelsConfig(6, val=1),
}


def render_pendulum(q: float, size: int) -> np.ndarray:
    """One frame: uint8 [size, size, 3] of the pendulum at angle ``q`` (rad)."""
    image = np.empty((size, size, 3), np.float32)
    image[...] = BACKGROUND
    pivot = np.array([size / 2.0, size / 2.0])
    length = 0.36 * size
    bob = pivot + length * np.array([np.sin(q), np.cos(q)])  # pixel y points down
    paint(image, segment_vertices(pivot, bob, max(0.045 * size, 1.0)), ROD)
    paint(image, circle_vertices(pivot, 0.04 * size, 16), ROD)
    paint(image, circle_vertices(bob, 0.1 * size), BOB)
    return to_uint8(image)


def generate(config: PixelsConfig, seed: int, size: int):
    traj = PENDULUM.generate(samples=config.trajectories, noise=0.0, seed=seed)
    states = traj.clean.astype(np.float64)  # [N, L, 2]
    n, steps, _ = states.shape
    frames = np.empty((n, steps, size, size, 3), np.uint8)
    with stage("rendering pendulum frames", n) as advance:
        for i in range(n):
            for t in range(steps):
                frames[i, t] = render_pendulum(states[i, t, 0], size)
            advance()
    n_train = int(traj.train_mask[:, 0].sum())
    arrays = dict(frames=frames, states=states, times=traj.times[0].astype(np.float64))
    meta = dict(
        config=asdict(config),
        n_train=n_train,
        steps=steps,
        dt=float(traj.times[0, 1] - traj.times[0, 0]),
        hamiltonian=PENDULUM.law,
        states="(q, p) of the noise-free HNN trajectory at each frame",
    )
    return arrays, meta


def build(arrays: dict, meta: dict, seed: int) -> VideoDataset:
    length = N_COND + N_PRED
    n, steps = arrays["frames"].shape[:2]
    n_train = meta["n_train"]
    n_val = meta["config"].get("val", 0)
    extras = {"states": arrays["states"]}
    train = WindowDataset(arrays["frames"], windows_of(range(n_train - n_val), length, steps, 1), length, extras)
    test = WindowDataset(arrays["frames"], windows_of(range(n_train, n), length, steps, length), length, extras)
    val = (
        WindowDataset(
            arrays["frames"], windows_of(range(n_train - n_val, n_train), length, steps, length), length, extras
        )
        if n_val
        else None
    )
    return VideoDataset("pendulum-pixels", train, test, N_COND, N_PRED, N_PRED, meta, arrays, val)
