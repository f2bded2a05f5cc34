"""The conservation score S and the sequences it is measured on (paper §4.2: "low variance within sequences").

A candidate g is evaluated on N = m·L points arranged as m sequences of L consecutive states. Its score is the
normalised within-sequence variance

    S(g) = Σ_seq Σ_t (g_t − mean_seq g)² / Σ_all (g − mean_all g)²            (0 ≤ S ≤ 1)

S is invariant to g's scale and offset, so a free multiplicative parameter cannot drive it to zero. A formula
with no variance at all (constant on the data) has no score: it is masked as NaN and rejected as "constant".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError
from ..systems import Trajectories

MIN_SEQUENCES = 8  # fewer whole trajectories than this: cut them into windows so between-sequence variance exists
MIN_WINDOW = 5


@dataclass(frozen=True)
class SequenceSet:
    """The states a statistic is measured on: x [N, d] float64 in sequence order, ``lengths`` [m] (sequence s is
    the next lengths[s] points), ``times`` [N] each point's time since its sequence's start."""

    x: np.ndarray
    lengths: np.ndarray
    times: np.ndarray

    @property
    def equal(self) -> bool:
        """Whether every sequence has the same number of points (the fast, reshaped path)."""
        return bool((self.lengths == self.lengths[0]).all())

    @property
    def regular(self) -> bool:
        """Whether the points are evenly spaced in time within every sequence (to 1e-6 relative)."""
        steps = np.diff(self.times)[np.diff(self.times) > 0]
        return bool(np.allclose(steps, steps[0], rtol=1e-6, atol=0)) if len(steps) else True


def sequence_set(traj: Trajectories, part: str = "train", window: int | None = None) -> SequenceSet:
    """States of a split as sequences in time order, of any lengths >= 3 (unequal trajectories stay whole).

    ``window=None`` keeps whole trajectories (the split's contiguous runs) when there are at least 8 of them,
    and otherwise cuts each into consecutive windows so that there are at least 16 sequences (a single long
    recording, e.g. the real pendulum: with one sequence the within and total variance coincide and S ≡ 1). An
    explicit ``window`` cuts every run into windows of that many steps (the remainder is dropped; a run shorter
    than the window stays whole).
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got '{part}'")
    mask = traj.train_mask if part == "train" else traj.test_mask
    src = traj if np.array_equal(mask, traj.valid) else traj.split()[part == "test"]
    runs = [(src.states[i, :k], src.times[i, :k] - src.times[i, 0]) for i, k in enumerate(src.lengths)]
    lengths = np.array([len(t) for _, t in runs])
    if window is None:
        if len(runs) >= MIN_SEQUENCES:
            return _packed(runs)
        window = int(min(lengths.max(), max(MIN_WINDOW, lengths.sum() // (2 * MIN_SEQUENCES))))
    if window < 3:
        raise DataError(f"sequence window must be >= 3 steps, got {window}")
    if window > lengths.max():
        raise DataError(f"sequence window {window} is longer than the {part} trajectories ({lengths.max()} steps)")
    pieces = []
    for x, t in runs:
        if len(t) < window:
            pieces.append((x, t))
            continue
        for start in range(0, len(t) - window + 1, window):
            pieces.append((x[start : start + window], t[start : start + window] - t[start]))
    return _packed(pieces)


def _packed(pieces: list[tuple[np.ndarray, np.ndarray]]) -> SequenceSet:
    return SequenceSet(
        np.concatenate([x for x, _ in pieces]),
        np.array([len(t) for _, t in pieces]),
        np.concatenate([t for _, t in pieces]),
    )


def sequences(traj: Trajectories, part: str = "train", window: int | None = None) -> np.ndarray:
    """States of a split as equal-length sequences [m, L, d] (float64), in time order (see ``sequence_set``;
    data whose sequences differ in length has no such array: DataError)."""
    seq = sequence_set(traj, part, window)
    if not seq.equal:
        raise DataError("the sequences differ in length; use sequence_set (points + lengths)")
    return seq.x.reshape(len(seq.lengths), int(seq.lengths[0]), seq.x.shape[1])


def sequence_index(m: int, length: int, device=None) -> Tensor:
    """The identity grouping: point k = s·L + t belongs to sequence s. [m, L] long."""
    return torch.arange(m * length, device=device).reshape(m, length)


@dataclass(frozen=True, eq=False)
class Segments:
    """A grouping of N points into m sequences of DIFFERENT lengths (data with unequal trajectories): sequence s
    holds points ``index[s, :lengths[s]]``; ``mask`` [m, Lmax] marks them (the rest of ``index`` is 0, unused).
    times: [m, Lmax] each point's time since its sequence's start (for the trend test), None: the step index.
    Every statistic of this module accepts it wherever it accepts an [m, L] index or a length L."""

    index: Tensor
    mask: Tensor
    times: Tensor | None = None

    @classmethod
    def contiguous(cls, lengths, times: Tensor | None = None, device=None) -> Segments:
        """Points already in sequence order: sequence s is the next ``lengths[s]`` points."""
        lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.long)
        mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
        index = torch.zeros(mask.shape, dtype=torch.long)
        index[mask] = torch.arange(int(lengths.sum()))
        return cls(index.to(device), mask.to(device), None if times is None else times.to(device))

    @classmethod
    def shuffled(cls, lengths, seed: int = 0, device=None) -> Segments:
        """Random sequences of the same lengths: a permutation of the N points cut into them."""
        lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.long)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        perm = torch.randperm(int(lengths.sum()), generator=gen)
        base = cls.contiguous(lengths)
        index = torch.zeros_like(base.index)
        index[base.mask] = perm
        return cls(index.to(device), base.mask.to(device))

    @property
    def lengths(self) -> Tensor:
        return self.mask.sum(-1)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.index.shape)

    def flatten(self) -> Tensor:
        """The points in sequence order [N] (what ``x[segments.flatten()]`` reorders the states into)."""
        return self.index[self.mask]

    def in_order(self) -> Segments:
        """The same lengths over points already in sequence order (after ``x[self.flatten()]``)."""
        return Segments.contiguous(self.lengths.cpu(), self.times, device=self.index.device)


def _weighted(values: Tensor, index: Segments) -> tuple[Tensor, Tensor]:
    """values [..., N] -> (g [..., m, Lmax] with 0 at the padding, w [m, Lmax] 1.0 at the points)."""
    w = index.mask.to(values.dtype)
    g = values[..., index.index] * w
    return g, w


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
    if isinstance(index, Segments):
        return _segment_score(values, index)
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


def _segment_score(values: Tensor, index: Segments) -> Tensor:
    """``conservation_score`` for sequences of different lengths (weighted by their number of points)."""
    g, w = _weighted(values, index)
    n_s = w.sum(-1)  # [m]
    means = g.sum(-1) / n_s  # [..., m]
    within = (w * (g - means.unsqueeze(-1))).square().sum((-1, -2))
    grand = (n_s * means).sum(-1, keepdim=True) / n_s.sum()
    between = (n_s * (means - grand).square()).sum(-1)
    total = within + between
    scale = total + n_s.sum() * grand.squeeze(-1).square()
    constant = total <= constant_threshold(values.dtype) * scale
    score = within / torch.where(constant, torch.ones_like(total), total)
    return torch.where(constant, torch.full_like(score, float("nan")), score)


def scatter_matrices(features: Tensor, index: Tensor | Segments) -> tuple[Tensor, Tensor]:
    """Within-sequence and total scatter of features [n, K, N] under ``index`` [m, L] -> (W, T), each [n, K, K].

    For g = Σ_k a_k φ_k:  Σ_seq Σ_t (g − mean_seq g)² = aᵀWa  and  Σ (g − mean g)² = aᵀTa, so S = aᵀWa / aᵀTa.
    """
    if isinstance(index, Segments):
        f, w = _weighted(features, index)  # [n, K, m, L]
        fw = w * (f - (f.sum(-1, keepdim=True) / w.sum(-1, keepdim=True)))
        within = torch.einsum("nkml,njml->nkj", fw, fw)
        flat = features[..., index.flatten()]
        ft = flat - flat.mean(-1, keepdim=True)
        return within, torch.einsum("nkx,njx->nkj", ft, ft)
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
    if isinstance(index, Segments):
        return _segment_differences(values, index, order)[0]
    g = group(values, index)
    if g.shape[-1] <= order:
        raise DataError(f"sequences of {g.shape[-1]} steps are too short for order-{order} differences")
    d = torch.diff(g, n=order, dim=-1)
    count = d.shape[-1] * d.shape[-2]
    return d.square().sum((-1, -2)) / (count * float(math.comb(2 * order, order)))


def _segment_differences(values: Tensor, index: Segments, order: int) -> tuple[Tensor, Tensor]:
    """(white-noise variance [...], the order-k differences [..., m, Lmax − k] with 0 where they would reach
    past a sequence's end) for sequences of different lengths."""
    g, w = _weighted(values, index)
    d = torch.diff(g, n=order, dim=-1) * w[..., order:]  # a difference is valid when its last point is
    count = w[..., order:].sum()
    if count == 0:
        raise DataError(f"every sequence is too short for order-{order} differences (need > {order} steps)")
    return d.square().sum((-1, -2)) / (count * float(math.comb(2 * order, order))), d


def within_variance(values: Tensor, index: Tensor | Segments) -> Tensor:
    """Mean within-sequence variance (denominator Σ (L_s − 1)) of each row of values [..., N] -> [...]."""
    if isinstance(index, Segments):
        g, w = _weighted(values, index)
        n_s = w.sum(-1)
        means = (g.sum(-1) / n_s).unsqueeze(-1)
        return (w * (g - means)).square().sum((-1, -2)) / (n_s - 1).sum()
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
    if isinstance(index, Segments):
        f, w = _weighted(features, index)
        d = torch.diff(f, n=order, dim=-1) * w[..., order:]
        count = w[..., order:].sum()
        return torch.einsum("nkml,njml->nkj", d, d) / (count * float(math.comb(2 * order, order)))
    f = group(features, index)
    d = torch.diff(f, n=order, dim=-1)
    count = d.shape[-1] * d.shape[-2]
    return torch.einsum("nkml,njml->nkj", d, d) / (count * float(math.comb(2 * order, order)))
