"""Laws that only the data's own level set supports: a formula constant on the data through a 0/0.

On one level set every function constant there passes any single-level score, among them forms such as
(q**2 - 1)/p**2 on the circle q^2 + p^2 = 1 or (omega1**2 - 0.048)/omega3**2 on one rigid-body orbit: the fitted
constant is the level, so numerator and denominator vanish together where the data cross the denominator's zero.
Off that level the form has a pole there, and on the data its gradient grows like 1 / distance^2 at the samples
nearest the crossing. A law smooth where the motion is smooth has a gradient that varies over the data about as
much as the motion's speed does. ``singular`` rejects the forms whose gradient range over the data exceeds the
speed's by more than ``GRADIENT_RANGE`` (max over median, each in units of each state's spread).

Measured on the one-recording benchmark's recordings (noise 0 and 0.01; benchmarks/results/one_recording.md): the
true laws of the pendulum, spring, oscillator-2d, Kepler, rigid body and the shared-energy circle have a gradient
range of at most 4.0; the 0/0 forms (q**2 - 1)/p**2 and (omega1**2 - 0.048)/omega3**2, 3.4e4 to 1.1e7.
``GRADIENT_RANGE`` sits between, two orders of magnitude above the first.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

GRADIENT_RANGE = 100.0


def gradient_range(norms2: Tensor) -> Tensor:
    """max over median of |grad g| over the points: squared norms [..., N] -> [...] (NaN where the median is 0)."""
    norms = norms2.clamp_min(0).sqrt()
    median = norms.median(-1).values
    return norms.max(-1).values / torch.where(median > 0, median, torch.full_like(median, float("nan")))


def singular(space, params: np.ndarray, contrast, memory_mb: int, chunk: int = 256) -> np.ndarray:
    """For each candidate of ``space`` with its fitted ``params`` [n, K]: whether its gradient range on the data
    (``contrast.true_points``, a ``DerivativeContrast``) exceeds ``GRADIENT_RANGE`` times the speed's range
    (``contrast.speed_range``) -> [n] bool."""
    out = np.zeros(len(space), bool)
    bound = GRADIENT_RANGE * max(1.0, float(contrast.speed_range))
    for start in range(0, len(space), chunk):
        rows = np.arange(start, min(len(space), start + chunk))
        c = torch.as_tensor(params[rows], dtype=contrast.true_points.dtype, device=contrast.true_points.device)
        with torch.no_grad():
            values = space.subset(rows).evaluate(contrast.true_points, c, memory_mb=memory_mb).values
            spread = gradient_range(contrast.gradient_norms(values))
        out[rows] = (spread > bound).cpu().numpy()
    return out


def singular_reason(bound: float = GRADIENT_RANGE) -> str:
    """The rejection reason the filter's table gives such a candidate."""
    return (
        f"singular on the data: its gradient grows over {bound:g}x its median where its formula is 0/0, "
        "so it is constant on this level set only"
    )
