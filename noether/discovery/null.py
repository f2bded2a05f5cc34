"""The random-sequence null (paper §4.2) and the rule that accepts a candidate as approximately conserved.

Random sequences have the shape of the real ones but are built by drawing the observed states at random, without
replacement, across time and trajectories: same marginal distribution of states, no dynamics. Every candidate's
parameters are fitted again on them, giving S_random; ratio = S_random / S_true.

The paper accepts when ratio ≥ 100. On noisy data that rule discards the laws it should find: with HNN's
σ = 0.1 noise the true Hamiltonians reach only ratio ≈ 6–11, because measurement noise alone leaves a
within-sequence variance that no formula of the states can remove. The default rule (``AcceptanceRule()``)
therefore accepts a candidate when either

1. ratio ≥ ``paper_ratio`` (100, the paper's rule, decisive on clean data), or
2. it is *conserved up to noise*: ratio ≥ ``noisy_ratio`` (3: at least two thirds of its variance is between
   sequences) and its within-sequence variance is no more than ``whiteness`` (1.5) times the variance of its
   white-noise part, estimated from third differences along each sequence (``score.white_noise_variance``).
   A quantity that drifts along trajectories (e.g. a damped oscillator's energy) fails this however noisy the
   data; a conserved one measured with noise passes it (measured ≈ 0.92–1.05 on HNN's spring and pendulum).

``AcceptanceRule(min_ratio=100)`` (CLI ``--min-ratio``) is the paper's fixed rule alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError

PAPER_RATIO = 100.0


def shuffled_index(m: int, length: int, seed: int = 0, device=None) -> Tensor:
    """Random sequences: a permutation of the N = m·L observed points cut into m sequences of L. [m, L] long."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randperm(m * length, generator=gen).reshape(m, length).to(device)


@dataclass(frozen=True)
class AcceptanceRule:
    """min_ratio: when set, the paper's fixed rule ratio ≥ min_ratio alone. Otherwise the noise-aware default:
    ratio ≥ paper_ratio, or (ratio ≥ noisy_ratio and within-variance ≤ whiteness × white-noise variance)."""

    min_ratio: float | None = None
    paper_ratio: float = PAPER_RATIO
    noisy_ratio: float = 3.0
    whiteness: float = 1.5

    def __post_init__(self):
        if self.min_ratio is not None and not self.min_ratio > 1:
            raise ConfigError(f"min_ratio must be > 1, got {self.min_ratio}")
        if not 1 < self.noisy_ratio <= self.paper_ratio:
            raise ConfigError(f"need 1 < noisy_ratio <= paper_ratio, got {self.noisy_ratio}, {self.paper_ratio}")
        if self.whiteness < 1:
            raise ConfigError(f"whiteness must be >= 1, got {self.whiteness}")

    @property
    def least_ratio(self) -> float:
        """The smallest S_random / S_true this rule can accept."""
        return self.min_ratio if self.min_ratio is not None else self.noisy_ratio

    @property
    def name(self) -> str:
        if self.min_ratio is not None:
            return f"fixed: ratio >= {self.min_ratio:g}"
        return (
            f"noise-aware: ratio >= {self.paper_ratio:g}, or ratio >= {self.noisy_ratio:g} with within-variance"
            f" <= {self.whiteness:g} x white-noise variance"
        )

    def decide(
        self, s_true: np.ndarray, s_random: np.ndarray, excess: np.ndarray, fit_reason: list[str | None]
    ) -> tuple[np.ndarray, list[str | None]]:
        """Accept or reject n candidates. s_true, s_random, excess (within / white-noise variance on the true
        sequences): [n] float (NaN where undefined); fit_reason: a failure found while fitting, or None.
        Returns (accepted [n] bool, reason [n]: None when accepted)."""
        ratio = ratio_of(s_true, s_random)
        accepted = np.zeros(len(s_true), bool)
        reasons: list[str | None] = []
        for i, (st, sr, r, ex, why) in enumerate(zip(s_true, s_random, ratio, excess, fit_reason)):
            if why is not None:
                reasons.append(why)
                continue
            if not np.isfinite(st):
                reasons.append("no finite score on the data")
                continue
            if not np.isfinite(sr):
                reasons.append("no finite score on random sequences")
                continue
            if self.min_ratio is not None:
                ok = r >= self.min_ratio
                reasons.append(None if ok else f"ratio {r:.3g} < {self.min_ratio:g}")
            elif r >= self.paper_ratio:
                ok = True
                reasons.append(None)
            elif r < self.noisy_ratio:
                ok = False
                reasons.append(f"ratio {r:.3g} < {self.noisy_ratio:g}")
            elif not np.isfinite(ex):
                ok = False
                reasons.append(
                    f"ratio {r:.3g} < {self.paper_ratio:g}, and without a time order there is no "
                    "noise floor to accept it by"
                )
            else:
                ok = bool(ex <= self.whiteness)
                reasons.append(
                    None
                    if ok
                    else f"ratio {r:.3g} < {self.paper_ratio:g} and it drifts along sequences"
                    f" (within/white-noise variance {ex:.3g} > {self.whiteness:g})"
                )
            accepted[i] = ok
        return accepted, reasons


def ratio_of(s_true: np.ndarray, s_random: np.ndarray) -> np.ndarray:
    """S_random / S_true with S_true = 0 giving +inf and undefined scores NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(s_random, float) / np.asarray(s_true, float)
    ratio[(np.asarray(s_true) == 0) & np.isfinite(s_random) & (np.asarray(s_random) > 0)] = np.inf
    return ratio


def unfitted(n: int, kmax: int, reason: str | None = None) -> dict:
    """The filter's per-candidate record before any fit, for n candidates of up to kmax parameters: zero parameters,
    NaN scores, converged, and ``reason`` (why it is rejected; None: not yet) for every candidate."""
    return {
        "params_true": np.zeros((n, kmax)),
        "params_rand": np.zeros((n, kmax)),
        "s_true": np.full(n, np.nan),
        "s_random": np.full(n, np.nan),
        "excess": np.full(n, np.nan),
        "converged": np.ones(n, bool),
        "reason": [reason] * n,
    }


def fit_reasons(
    finite: np.ndarray, scores: np.ndarray, hopeless: np.ndarray, least_ratio: float, null: str = "random"
) -> list[str | None]:
    """Why each candidate cannot be accepted before its null fit (None: it can): non-finite values, a constant, or an
    S_true so large that no ``null`` fit (S at most 1) can give the ratio the rule needs (``hopeless``)."""
    return [
        ("non-finite values" if not f else "constant")
        if not (f and np.isfinite(s))
        else f"S_true {s:.3g} >= 1/{least_ratio:g}: no {null} fit can give the ratio the rule needs"
        if h
        else None
        for f, s, h in zip(finite, scores, hopeless)
    ]
