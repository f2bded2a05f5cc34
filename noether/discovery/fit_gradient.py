"""Batched derivative-based fit of the conservation score for candidates not affine in their parameters.

All n candidates of a call are fitted in one tensor program: each evaluation is one call of the compiled
evaluator for the whole batch, and every quantity below is per candidate (candidates never interact).

1. Screening: S at a grid of starting points, ±10^u in every used parameter (14 points for one parameter,
   100 for two), forward passes only; the ``restarts`` best points with distinct S are kept.
2. From each, damped saddle-free Newton for ``steps`` iterations: gradient and K×K Hessian of S (K ≤ 2 in
   the paper's space), the Hessian's eigenvalues made positive (S is concave away from a narrow basin around a
   conserved combination), a trust region that at most doubles a parameter per step, a step accepted only
   where it lowers that candidate's S (the best of 1, 0.3 and 0.1 times the step), damping divided by 10 after
   a full step and multiplied by 10 when no trial lowers S. Derivatives come from central differences of S
   (forward passes only, 2K² + 1 evaluations; the default, because a backward pass through the compiled
   evaluator costs ~100 forward passes) or from autograd (``derivatives="autograd"``, double backward).
3. The best start per candidate is kept; ``converged`` reports whether its last Newton decrement
   ½·gᵀ|H|⁻¹g was below ``tol``·S (or S reached round-off).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from ..errors import ConfigError
from .evaluator import SpaceEvaluator
from .score import conservation_score

Evaluator = Callable[[Tensor], tuple[Tensor, Tensor]]  # C [n, K] -> (values [n, N], finite [n])


def score_of(values: Tensor, index) -> Tensor:
    """The score the fit minimises: ``conservation_score`` under a sequence grouping, or ``index(values)`` when
    ``index`` is itself a score (a callable values [n, N] -> [n], e.g. ``single.ContrastScore``)."""
    return index(values) if callable(index) else conservation_score(values, index)


@dataclass(frozen=True)
class GradientConfig:
    """restarts: local fits from the best points of the screening grid (``screen_points``); steps: Newton
    iterations per fit; derivatives: "finite-difference" or "autograd"; tol: convergence (Newton decrement
    relative to S); fit_points: the fit uses whole sequences totalling about this many points
    (0: all points); polish_steps: Newton iterations on all points after a fit on a subsample; give_up: from the
    third iteration on (from the first when refining given starts), a candidate is stopped when even
    ``GIVE_UP_MARGIN`` times the decrease its Newton model predicts would leave S above this (0: never; the
    filter sets it, on the true sequences, to the S above which its rule can accept nothing, and such
    candidates stay unconverged and rejected)."""

    restarts: int = 2
    steps: int = 10
    derivatives: str = "finite-difference"
    tol: float = 1e-4
    fit_points: int = 512
    polish_steps: int = 2
    give_up: float = 0.0

    def __post_init__(self):
        if self.restarts < 1:
            raise ConfigError(f"restarts must be >= 1, got {self.restarts}")
        if self.steps < 0:
            raise ConfigError(f"steps must be >= 0, got {self.steps}")
        if self.derivatives not in ("finite-difference", "autograd"):
            raise ConfigError(f"derivatives must be 'finite-difference' or 'autograd', got '{self.derivatives}'")
        if not 0 <= self.give_up:
            raise ConfigError(f"give_up must be >= 0, got {self.give_up}")
        if self.fit_points < 0 or self.polish_steps < 0:
            raise ConfigError(f"fit_points and polish_steps must be >= 0, got {self.fit_points}, {self.polish_steps}")


@dataclass(frozen=True)
class GradientFit:
    """params [n, K] (unused slots 0), score [n] (NaN: no finite non-constant start), converged [n] bool,
    evaluations: evaluator calls made."""

    params: Tensor
    score: Tensor
    converged: Tensor
    evaluations: int = 0


class _Objective:
    """S per candidate with invalid (non-finite or constant) masked to +inf; counts evaluator calls (``calls``,
    shared with its restrictions)."""

    def __init__(self, evaluate: Evaluator, index: Tensor, calls: list[int] | None = None):
        self.evaluate, self.index, self._calls = evaluate, index, [0] if calls is None else calls

    @property
    def calls(self) -> int:
        return self._calls[0]

    def __call__(self, c: Tensor) -> Tensor:
        self._calls[0] += 1
        values, finite = self.evaluate(c)
        s = score_of(values, self.index)
        return torch.where(finite & torch.isfinite(s), s, torch.full_like(s, math.inf))

    def restrict(self, keep: Tensor) -> _Objective | None:
        """The objective of candidates ``keep`` (bool [n]) alone, when the evaluator can restrict itself (a
        ``SpaceEvaluator``); else None."""
        if not isinstance(self.evaluate, SpaceEvaluator):
            return None
        return _Objective(self.evaluate.restrict(keep), self.index, self._calls)


def fit_gradient(
    evaluate: Evaluator,
    n_params: Tensor,
    index: Tensor | int,
    *,
    config: GradientConfig = GradientConfig(),
    max_params: int | None = None,
    like: Tensor | None = None,
    starts: Tensor | None = None,
    steps: int | None = None,
) -> GradientFit:
    """Fit C [n, K] minimising S_i for every candidate at once (deterministic: the screen is a fixed grid).

    evaluate: C [n, K] -> (values [n, N], finite [n]), differentiable in C for ``derivatives="autograd"``; when it
    is a ``SpaceEvaluator``, which can restrict itself to a subset of its candidates, the Newton iterations
    stop evaluating the candidates that have converged once they are half the batch (most converge in 3-4 steps);
    n_params [n]: parameters each candidate uses (slots beyond stay 0); index: the sequence grouping ([m, L], or
    L when the N points are in sequence order), or a score of its own (see ``score_of``);
    starts [r, n, K]: start from these instead of screening (e.g. to polish a fit made on a subsample);
    steps: Newton iterations instead of ``config.steps``.
    """
    n = int(n_params.shape[0])
    k = int(max_params if max_params is not None else (int(n_params.max()) if n else 0))
    dtype = like.dtype if like is not None else torch.float64
    device = like.device if like is not None else torch.device("cpu")
    used = (torch.arange(k, device=device)[None, :] < n_params.to(device)[:, None]).to(dtype)
    objective = _Objective(evaluate, index)
    refine = starts is not None
    if starts is None:
        starts, s_starts = _screen(objective, used, config.restarts)
    else:
        starts = starts.to(dtype=dtype, device=device) * used
        with torch.no_grad():
            s_starts = torch.stack([objective(c) for c in starts])
    if steps is not None:
        config = replace(config, steps=steps)
    first_give_up = 0 if refine else GIVE_UP_AFTER
    best_s = torch.full((n,), math.inf, dtype=dtype, device=device)
    best_c = torch.zeros(n, k, dtype=dtype, device=device)
    best_conv = torch.zeros(n, dtype=torch.bool, device=device)
    for r in range(starts.shape[0]):
        c, s, conv = _newton(objective, index, starts[r], s_starts[r], used, config, first_give_up)
        better = s < best_s
        best_s = torch.where(better, s, best_s)
        best_c = torch.where(better[:, None], c, best_c)
        best_conv = torch.where(better, conv, best_conv)
    found = torch.isfinite(best_s)
    score = torch.where(found, best_s, torch.full_like(best_s, math.nan))
    return GradientFit(
        params=best_c.detach(), score=score.detach(), converged=best_conv & found, evaluations=objective.calls
    )


def screen_points(k: int) -> list[tuple[float, ...]]:
    """The starting grid in k parameters: ±10^u per parameter, u ∈ linspace(−1.5, 1.5, 7) for one parameter
    (14 points), u ∈ linspace(−1, 1, 5) for two (100 points), u ∈ {−1, 0, 1} for more."""
    if k == 0:
        return [()]
    mags = torch.linspace(-1.5, 1.5, 7) if k == 1 else torch.linspace(-1, 1, 5) if k == 2 else torch.linspace(-1, 1, 3)
    values = [s * 10.0 ** float(u) for u in mags for s in (1.0, -1.0)]
    return list(itertools.product(values, repeat=k))


def _screen(objective: _Objective, used: Tensor, keep: int) -> tuple[Tensor, Tensor]:
    """Evaluate the grid for every candidate (unused slots held at 0); return the ``keep`` best starts with
    distinct S (symmetric duplicates such as cos(c·q) at ±c are skipped) [keep, n, K] and their S [keep, n]."""
    n, k = used.shape
    kmax = int(used.sum(1).max().item()) if n else 0
    points = torch.tensor(screen_points(kmax), dtype=used.dtype, device=used.device).reshape(-1, kmax)
    if points.shape[1] < k:
        points = torch.cat([points, points.new_zeros(points.shape[0], k - points.shape[1])], 1)
    with torch.no_grad():
        cands = torch.stack([p[None, :] * used for p in points])  # [P, n, K]
        scores = torch.stack([objective(c) for c in cands])  # [P, n]
    starts, values = [], []
    for _ in range(min(keep, len(points))):
        best = scores.argmin(0)  # [n]
        s_best = scores.gather(0, best[None]).squeeze(0)
        starts.append(cands.gather(0, best[None, :, None].expand(1, n, k)).squeeze(0))
        values.append(s_best)
        same = (scores - s_best).abs() <= 1e-9 * s_best.abs().clamp_min(1e-300)
        scores = torch.where(same, torch.full_like(scores, math.inf), scores)
    return torch.stack(starts), torch.stack(values)


def _newton(
    objective: _Objective,
    index: Tensor,
    c: Tensor,
    s: Tensor,
    used: Tensor,
    config: GradientConfig,
    first_give_up: int = 0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Damped saddle-free Newton from starts c [n, K] with scores s [n]. Returns (c, S, converged). The give-up
    test (``GradientConfig.give_up``) applies from iteration ``first_give_up`` on.

    Once the finished candidates (converged, or without a finite S) are half of those still iterated, and the
    objective can restrict itself to a subset, they are set aside with their current values and the rest go on
    alone: a candidate's iterations never depend on the others'."""
    n, k = c.shape
    damping = torch.full((n,), 1e-6, dtype=c.dtype, device=c.device)
    decrement = torch.full((n,), math.inf, dtype=c.dtype, device=c.device)
    rows = torch.arange(n, device=c.device)  # the batch's rows still iterated
    out_c, out_s, out_dec = c.clone(), s.clone(), decrement.clone()
    for iteration in range(config.steps if k else 0):
        active = torch.isfinite(s)
        if not bool(active.any()):
            break
        if config.derivatives == "autograd":
            grad, hess = _autograd_derivatives(objective.evaluate, index, c, used)
        else:
            grad, hess = _fd_derivatives(objective, c, s, used)
        grad = (grad * used).nan_to_num(0.0, 0.0, 0.0)
        hess = (hess * used[:, :, None] * used[:, None, :]).nan_to_num(0.0, 0.0, 0.0)
        step = _saddle_free_step(grad, hess, damping, used)
        decrement = -0.5 * (grad * _saddle_free_step(grad, hess, torch.zeros_like(damping), used)).sum(-1)
        done = ~active | (decrement <= config.tol * s.clamp_min(1e-300)) | (s < 1e-14)
        if config.give_up and iteration >= first_give_up:
            done |= s - GIVE_UP_MARGIN * decrement.clamp_min(0) > config.give_up
        if bool(done.all()):
            break
        if 2 * int(done.sum()) >= len(rows) and (narrower := objective.restrict(~done)) is not None:
            out_c[rows], out_s[rows], out_dec[rows] = c, s, decrement
            keep = ~done
            rows, c, s, used, damping, decrement, step, active = (
                t[keep] for t in (rows, c, s, used, damping, decrement, step, active)
            )
            objective = narrower
        limit = c.abs() + 0.1  # trust region: a step at most doubles a parameter's magnitude (plus 0.1)
        step = torch.maximum(torch.minimum(step, limit), -limit)
        best_s, best_a = s, torch.zeros_like(s)
        with torch.no_grad():
            for alpha in TRIAL_STEPS:  # a short backtracking search, evaluated for all candidates at once
                s_try = objective(c + alpha * step)
                better = active & (s_try < best_s)
                best_s = torch.where(better, s_try, best_s)
                best_a = torch.where(better, torch.full_like(best_a, alpha), best_a)
        c = c + best_a[:, None] * step
        s = best_s
        damping = torch.where(best_a == 1.0, damping / 10, torch.where(best_a == 0, damping * 10, damping))
        damping = damping.clamp(1e-9, 1e6)
    out_c[rows], out_s[rows], out_dec[rows] = c, s, decrement
    converged = torch.isfinite(out_s) & ((out_dec <= config.tol * out_s.clamp_min(1e-300)) | (out_s < 1e-14))
    return out_c, out_s, converged


TRIAL_STEPS = (1.0, 0.3, 0.1)
GIVE_UP_MARGIN = 10.0  # see GradientConfig.give_up
GIVE_UP_AFTER = 2  # iterations from a screened start before the give-up test applies


def _saddle_free_step(grad: Tensor, hess: Tensor, damping: Tensor, used: Tensor) -> Tensor:
    """−(|H| + λ·s·I)⁻¹ g with |H| the Hessian with its eigenvalues made positive (saddle-free Newton, so a
    concave region is left downhill instead of towards the maximum); s is |H|'s largest eigenvalue."""
    eye = torch.eye(hess.shape[-1], dtype=hess.dtype, device=hess.device)
    hess = hess + eye * (1 - used)[:, :, None]  # unused slots: identity, their gradient is 0
    lam, vec = torch.linalg.eigh(0.5 * (hess + hess.transpose(-1, -2)))
    mag = lam.abs()
    scale = mag.amax(-1, keepdim=True).clamp_min(1e-12)
    mag = mag.clamp_min(1e-8 * scale) + damping[:, None] * scale
    step = -(vec @ ((vec.transpose(-1, -2) @ grad[..., None]).squeeze(-1) / mag)[..., None]).squeeze(-1)
    return step.nan_to_num(0.0, 0.0, 0.0) * used


def _fd_derivatives(objective: _Objective, c: Tensor, s0: Tensor, used: Tensor) -> tuple[Tensor, Tensor]:
    """Central differences of S: gradient [n, K] and Hessian [n, K, K] from 2K + K(K−1)/2 evaluations."""
    n, k = c.shape
    h = 1e-4 * c.abs().clamp_min(1e-2) * used
    grad = torch.zeros(n, k, dtype=c.dtype, device=c.device)
    hess = torch.zeros(n, k, k, dtype=c.dtype, device=c.device)
    active = used.bool().any(0)
    with torch.no_grad():
        plus, minus = {}, {}
        for i in range(k):
            if not active[i]:
                continue
            e = torch.zeros_like(c)
            e[:, i] = h[:, i]
            plus[i], minus[i] = objective(c + e), objective(c - e)
            hi = h[:, i].clamp_min(1e-300)
            on = used[:, i].bool()
            grad[:, i] = torch.where(on, (plus[i] - minus[i]) / (2 * hi), torch.zeros_like(hi))
            hess[:, i, i] = torch.where(on, (plus[i] - 2 * s0 + minus[i]) / hi**2, torch.zeros_like(hi))
        for i, j in itertools.combinations([i for i in range(k) if active[i]], 2):
            e_i = torch.zeros_like(c)
            e_i[:, i] = h[:, i]
            e_j = torch.zeros_like(c)
            e_j[:, j] = h[:, j]
            pp = objective(c + e_i + e_j)  # one-sided cross term: O(h) accurate, one evaluation
            cross = (pp - plus[i] - plus[j] + s0) / (h[:, i].clamp_min(1e-300) * h[:, j].clamp_min(1e-300))
            cross = torch.where(used[:, i].bool() & used[:, j].bool(), cross, torch.zeros_like(cross))
            hess[:, i, j] = hess[:, j, i] = cross
    bad = ~torch.isfinite(grad).all(-1) | ~torch.isfinite(hess).flatten(1).all(-1)
    return grad.masked_fill(bad[:, None], 0.0), hess.masked_fill(bad[:, None, None], 0.0)


def _autograd_derivatives(evaluate: Evaluator, index: Tensor, c: Tensor, used: Tensor) -> tuple[Tensor, Tensor]:
    """Gradient [n, K] and Hessian [n, K, K] of S by double backward (candidates are independent)."""
    k = c.shape[1]
    cg = c.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        values, finite = evaluate(cg)
        s = score_of(values, index)
        s = torch.where(finite & torch.isfinite(s), s, torch.zeros_like(s))
        (grad,) = torch.autograd.grad(s.sum(), cg, create_graph=True)
        rows = [
            torch.autograd.grad(grad[:, j].sum(), cg, retain_graph=j < k - 1, allow_unused=True)[0] for j in range(k)
        ]
    rows = [torch.zeros_like(c) if r is None else r for r in rows]
    return grad.detach(), torch.stack(rows, 1).detach()
