"""Conserved or approximate: does an accepted law drift along the trajectories beyond what noise explains?

The acceptance rule (``null.py``) compares a law's within-sequence variance with its variance across ALL states,
so a quantity that changes slowly along every trajectory but differs a lot between trajectories (r² = x² + y² on
near-circular orbits) passes it without being conserved. This test does not look at the spread across
trajectories. A law is **conserved** when its variation along the sequences is what measurement noise explains:

1. its within-sequence variance over the variance of its white-noise part (estimated from third differences,
   ``score.white_noise_variance``) is no larger than pure white noise gives on the same m sequences of L steps
   with probability 1 - ``alpha`` (the quantile is computed by Monte Carlo for that layout, ``null_excess``:
   about 1.18 for 25 x 45 points, 1.28 for one sequence of 445; the null's spread shrinks as 1.7/sqrt(N)), and
2. it has no systematic slope in time: per sequence, the least-squares slope of g against the step index, in
   units of its standard error under white noise of that variance; the sum of their squares is chi-squared with
   m degrees of freedom under "no trend", and a p-value below ``alpha`` is a trend, and
3. its third differences are not dominated by a few points: mean square over (1.4826 x median absolute
   deviation)^2 ("spikiness") at most ``spikiness`` (white Gaussian noise gives 1.0, 1.23 at its 99.9% quantile
   for 25 x 45 points; the heteroscedastic noise of q^2 + p^2 on HNN's noisy spring 1.8; a law near a
   singularity, such as y/vx on orbits where vx passes through zero, 10^6 and more: its variation is not noise).
   When each point's noise scale is known (``scale``: the composite search propagates the states' noise through
   a law's gradient), each difference is read in units of its own noise, so noise that is merely uneven passes;

or when it is constant to numerical precision (relative within-sequence spread sqrt(S_true) <= ``exact``, as on
noise-free simulated data, where there is no noise to compare with). Every other accepted law is
**approximate**: useful, perhaps (the damped real pendulum's energy is, and meta-tailoring still ranks it), but
not conserved.

Limit: a law oscillating with a period of a few samples looks like white noise to test 1; test 2 does not see
an oscillation either.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import chi2
from torch import Tensor

from ..errors import ConfigError
from .score import Segments, _segment_differences, _weighted, group, noise_excess, white_noise_variance

CONSERVED, APPROXIMATE, REJECTED = "conserved", "approximate", "rejected"
#: group data (sets of states without time order): drift in time cannot be measured, so an accepted law is only that
UNTESTED = "accepted (no time order)"
ACCEPT_LEVELS = (CONSERVED, APPROXIMATE)


@dataclass(frozen=True)
class DriftRule:
    """alpha: the false-alarm rate of both tests for a law conserved up to white noise; whiteness: a fixed bound
    on within / white-noise variance instead of the white-noise null's (1 - alpha) quantile (None); exact:
    relative within-sequence spread (sqrt(S_true)) below which a law is conserved to numerical precision;
    spikiness: the bound of test 3 (see the module docstring)."""

    alpha: float = 1e-3
    whiteness: float | None = None
    exact: float = 1e-7
    spikiness: float = 4.0

    def __post_init__(self):
        if not 0 < self.alpha < 1:
            raise ConfigError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.whiteness is not None and self.whiteness < 1:
            raise ConfigError(f"whiteness must be >= 1, got {self.whiteness}")
        if not 0 <= self.exact < 1:
            raise ConfigError(f"exact must be in [0, 1), got {self.exact}")
        if self.spikiness < 1:
            raise ConfigError(f"spikiness must be >= 1, got {self.spikiness}")


@dataclass(frozen=True)
class Drift:
    """Per law [n]: excess (within / white-noise variance), trend_p (p-value of 'no slope in time'),
    spikiness (of the third differences), spread (sqrt(S_true), relative within-sequence spread), conserved,
    only_spiky (not conserved, and test 3 alone failed: white enough, no trend)."""

    excess: np.ndarray
    trend_p: np.ndarray
    spikiness: np.ndarray
    spread: np.ndarray
    conserved: np.ndarray
    only_spiky: np.ndarray | None = None

    @property
    def verdicts(self) -> list[str]:
        return [CONSERVED if c else APPROXIMATE for c in self.conserved]


@functools.lru_cache(maxsize=32)
def null_excess(
    m: int, length: int, alpha: float, draws: int = 20_000, seed: int = 0, lengths: tuple[int, ...] | None = None
) -> float:
    """The (1 - alpha) quantile of within / white-noise variance for white Gaussian noise on m sequences of
    ``length`` steps -- or of the given ``lengths`` (Monte Carlo with a fixed seed, so the same for every run)."""
    gen = torch.Generator().manual_seed(seed)
    order = length if lengths is None else Segments.contiguous(lengths)
    total = m * length if lengths is None else sum(lengths)
    out = []
    for start in range(0, draws, 1000):
        noise = torch.randn(min(1000, draws - start), total, generator=gen, dtype=torch.float64)
        out.append(noise_excess(noise, order))
    return float(np.quantile(torch.cat(out).numpy(), 1 - alpha))


def _segment_trend(values: Tensor, index: Segments, noise: Tensor) -> Tensor:
    """``trend_pvalue`` for sequences of different lengths, against each point's time (or step) in its sequence."""
    g, w = _weighted(values, index)
    t = (
        index.times.to(values)
        if index.times is not None
        else torch.arange(w.shape[-1], dtype=values.dtype, device=values.device).expand_as(w)
    )
    n_s = w.sum(-1, keepdim=True)
    tc = w * (t - (w * t).sum(-1, keepdim=True) / n_s)
    sxx = tc.square().sum(-1)  # [m]
    slopes = (g * tc).sum(-1) / sxx  # [n, m]
    stat = (slopes.square() * sxx).sum(-1) / noise.clamp_min(torch.finfo(values.dtype).tiny)
    return torch.as_tensor(chi2.sf(stat.cpu().numpy(), w.shape[0]), dtype=values.dtype)


def trend_pvalue(values: Tensor, length: int | Segments, noise: Tensor | None = None) -> Tensor:
    """p-value of 'no slope in time' for each row of values [n, m·L] (m sequences of L steps, in order) -> [n].
    noise: ``white_noise_variance`` of the rows when already computed."""
    if isinstance(length, Segments):
        noise = white_noise_variance(values, length) if noise is None else noise
        return _segment_trend(values, length, noise)
    g = group(values, length)  # [n, m, L]
    t = torch.arange(length, dtype=values.dtype, device=values.device)
    tc = t - t.mean()
    sxx = tc.square().sum()
    noise = white_noise_variance(values, length) if noise is None else noise  # [n]
    slopes = (g * tc).sum(-1) / sxx  # [n, m]
    stat = (slopes.square() * sxx).sum(-1) / noise.clamp_min(torch.finfo(values.dtype).tiny)
    m = g.shape[-2]
    return torch.as_tensor(chi2.sf(stat.cpu().numpy(), m), dtype=values.dtype)


def spikiness(values: Tensor, length: int | Segments, order: int = 3, scale: Tensor | None = None) -> Tensor:
    """Mean square of the order-k differences along the sequences over their robust (MAD) variance, per row of
    values [n, m·L] -> [n]: about 1 for Gaussian noise, large when a few points carry the variation.

    scale [n, m·L]: the noise's standard deviation at each point, when it is known to vary (a law's measurement
    noise propagated from the states' through its gradient: log x near x = 0 is far noisier than elsewhere); each
    difference is then divided by the standard deviation noise of that scale gives it, so noise that is merely
    uneven counts as white."""
    if isinstance(length, Segments):
        d = _segment_differences(values, length, order)[1][..., length.mask[:, order:]]
    else:
        d = torch.diff(group(values, length), n=order, dim=-1).flatten(-2)
    if scale is not None:
        d = d / _difference_noise(scale.square(), length, order).sqrt().clamp_min(torch.finfo(values.dtype).tiny)
    mad = (d - d.median(-1, keepdim=True).values).abs().median(-1).values * 1.4826
    return d.square().mean(-1) / mad.square().clamp_min(torch.finfo(values.dtype).tiny)


def _difference_noise(variance: Tensor, length: int | Segments, order: int) -> Tensor:
    """Variance of each order-k difference for independent noise of the given variance at each point [n, m·L]:
    Σ_i C(k, i)² σ²_{t+i} over its window, flattened as ``spikiness`` flattens the differences."""
    weights = torch.tensor(
        [math.comb(order, i) ** 2 for i in range(order + 1)], dtype=variance.dtype, device=variance.device
    )
    if isinstance(length, Segments):
        g, _ = _weighted(variance, length)
        return (g.unfold(-1, order + 1, 1) @ weights)[..., length.mask[:, order:]]
    return (group(variance, length).unfold(-1, order + 1, 1) @ weights).flatten(-2)


def measure_drift(
    values: Tensor,
    length: int | Segments,
    s_true: np.ndarray,
    rule: DriftRule = DriftRule(),
    scale: Tensor | None = None,
) -> Drift:
    """The drift of n laws from their values [n, m·L] on the training sequences (in sequence order) and their
    S_true [n]; scale: each value's noise standard deviation where it is known to vary (see ``spikiness``)."""
    with torch.no_grad():
        noise = white_noise_variance(values, length)  # shared by the excess and the trend test
        excess = noise_excess(values, length, noise).cpu().numpy()
        trend = trend_pvalue(values, length, noise).cpu().numpy()
        spiky = spikiness(values, length, scale=scale).cpu().numpy()
    spread = np.sqrt(np.clip(np.asarray(s_true, float), 0, None))
    if rule.whiteness is not None:
        bound = rule.whiteness
    elif isinstance(length, Segments):
        sizes = tuple(int(k) for k in length.lengths.cpu())
        bound = null_excess(len(sizes), max(sizes), rule.alpha, lengths=sizes)
    else:
        bound = null_excess(values.shape[-1] // length, length, rule.alpha)
    white_steady = (excess <= bound) & (trend >= rule.alpha)
    smooth = spiky <= rule.spikiness
    conserved = np.asarray((spread <= rule.exact) | (white_steady & smooth), bool)
    return Drift(
        excess=excess,
        trend_p=trend,
        spikiness=spiky,
        spread=spread,
        conserved=conserved,
        only_spiky=~conserved & white_steady & ~smooth,
    )
