"""The conservation score S and the sequences it is measured on (paper §4.2: "low variance within sequences").

A candidate g is evaluated on N = m·L points arranged as m sequences of L consecutive states. Its score is the
normalised within-sequence variance

    S(g) = Σ_seq Σ_t (g_t − mean_seq g)² / Σ_all (g − mean_all g)²            (0 ≤ S ≤ 1)

S is invariant to g's scale and offset, so a free multiplicative parameter cannot drive it to zero. A formula
with no variance at all (constant on the data) has no score: it is masked as NaN and rejected as "constant".
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError
from ..systems import Trajectories

MIN_SEQUENCES = 8  # fewer whole trajectories than this: cut them into windows so between-sequence variance exists
MIN_WINDOW = 5


def sequences(traj: Trajectories, part: str = "train", window: int | None = None) -> np.ndarray:
    """States of a split as equal-length sequences [m, L, d] (float64), in time order.

    ``window=None`` keeps whole trajectories when there are at least 8 of them, and otherwise cuts each into
    consecutive windows so that there are at least 16 sequences (a single long recording, e.g. the real
    pendulum: with one sequence the within and total variance coincide and S ≡ 1). An explicit ``window`` cuts
    every trajectory into windows of that many steps (the remainder is dropped).
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got '{part}'")
    mask = traj.train_mask if part == "train" else ~traj.train_mask
    seq = traj.states if mask.all() else traj.split()[part == "test"].states
    m, length, _ = seq.shape
    if window is None:
        if m >= MIN_SEQUENCES:
            return seq
        window = min(length, max(MIN_WINDOW, (m * length) // (2 * MIN_SEQUENCES)))
    if window < 3:
        raise DataError(f"sequence window must be >= 3 steps, got {window}")
    if window > length:
        raise DataError(f"sequence window {window} is longer than the {part} trajectories ({length} steps)")
    per = length // window
    return seq[:, : per * window].reshape(m * per, window, seq.shape[2])


def sequence_index(m: int, length: int, device=None) -> Tensor:
    """The identity grouping: point k = s·L + t belongs to sequence s. [m, L] long."""
    return torch.arange(m * length, device=device).reshape(m, length)


def constant_threshold(dtype: torch.dtype) -> float:
    """Relative variance below which g counts as constant: (100·eps)² of the dtype."""
    return float((torch.finfo(dtype).eps * 100) ** 2)


def group(values: Tensor, index: Tensor | int) -> Tensor:
    """values [..., N] -> [..., m, L]: ``index`` [m, L] picks the points of each sequence; an int L means the
    points are already in sequence order (a free reshape)."""
    if isinstance(index, int):
        return values.unflatten(-1, (-1, index))
    return values[..., index]


def conservation_score(values: Tensor, index: Tensor | int) -> Tensor:
    """S of each row of values [..., N] under the grouping ``index`` ([m, L] or L) -> [...] (NaN where g is
    constant). One pass over the points: total = within + between-sequence scatter of the sequence means."""
    g = group(values, index)
    length = g.shape[-1]
    means = g.mean(-1, keepdim=True)
    within = (g - means).square().sum((-1, -2))
    means = means.squeeze(-1)
    grand = means.mean(-1, keepdim=True)
    between = length * (means - grand).square().sum(-1)
    total = within + between
    scale = total + g.shape[-1] * g.shape[-2] * grand.squeeze(-1).square()  # = sum of g^2
    constant = total <= constant_threshold(values.dtype) * scale
    score = within / torch.where(constant, torch.ones_like(total), total)
    return torch.where(constant, torch.full_like(score, float("nan")), score)


def scatter_matrices(features: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
    """Within-sequence and total scatter of features [n, K, N] under ``index`` [m, L] -> (W, T), each [n, K, K].

    For g = Σ_k a_k φ_k:  Σ_seq Σ_t (g − mean_seq g)² = aᵀWa  and  Σ (g − mean g)² = aᵀTa, so S = aᵀWa / aᵀTa.
    """
    f = group(features, index)  # [n, K, m, L]
    fw = f - f.mean(-1, keepdim=True)
    within = torch.einsum("nkml,njml->nkj", fw, fw)
    flat = f.flatten(-2)
    ft = flat - flat.mean(-1, keepdim=True)
    total = torch.einsum("nkx,njx->nkj", ft, ft)
    return within, total


def white_noise_variance(values: Tensor, index: Tensor, order: int = 3) -> Tensor:
    """Variance of the part of g that is white noise in time, per row of values [..., N] -> [...].

    Differences of order k along each sequence remove a smooth signal (up to its k-th derivative · dt^k) and
    turn white noise of variance σ² into variance C(2k, k)·σ². Used by the noise-floor rule (see ``null.py``):
    a quantity conserved up to measurement noise has within-sequence variance ≈ this estimate, a drifting one
    has far more.
    """
    g = group(values, index)
    if g.shape[-1] <= order:
        raise DataError(f"sequences of {g.shape[-1]} steps are too short for order-{order} differences")
    d = torch.diff(g, n=order, dim=-1)
    count = d.shape[-1] * d.shape[-2]
    return d.square().sum((-1, -2)) / (count * float(math.comb(2 * order, order)))


def within_variance(values: Tensor, index: Tensor) -> Tensor:
    """Mean within-sequence variance (denominator m·(L−1)) of each row of values [..., N] -> [...]."""
    g = group(values, index)
    m, length = g.shape[-2:]
    return (g - g.mean(-1, keepdim=True)).square().sum((-1, -2)) / (m * (length - 1))


def noise_excess(values: Tensor, index: Tensor | int, noise: Tensor | None = None) -> Tensor:
    """Within-sequence variance over white-noise variance of each row of values [..., N] -> [...]: about 1 for a
    quantity conserved up to white noise, far more for one that drifts. noise: ``white_noise_variance`` when
    already computed."""
    noise = white_noise_variance(values, index) if noise is None else noise
    return within_variance(values, index) / noise.clamp_min(torch.finfo(values.dtype).tiny)


def white_scatter(features: Tensor, index: Tensor, order: int = 3) -> Tensor:
    """White-noise covariance of features [n, K, N] (order-k differences, see ``white_noise_variance``) -> [n, K, K].

    For g = Σ_k a_k φ_k, ``white_noise_variance(g) = aᵀDa``.
    """
    f = group(features, index)
    d = torch.diff(f, n=order, dim=-1)
    count = d.shape[-1] * d.shape[-2]
    return torch.einsum("nkml,njml->nkj", d, d) / (count * float(math.comb(2 * order, order)))
