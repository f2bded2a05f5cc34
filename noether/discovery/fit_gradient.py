"""Batched gradient fit of the conservation score for candidates that are not affine in their parameters.

All n candidates are optimised in one tensor program: the objective is Σ_i S_i(c_i), whose gradient w.r.t. the
stacked parameters C [n, K] is the per-candidate gradient (candidates do not interact). Each restart runs
Adam for a warm start, then a per-candidate damped Newton method (Levenberg–Marquardt: exact K×K Hessians by
double backward, K ≤ a few, a step is accepted only where it lowers that candidate's S); the best restart per
candidate is kept. The step budget is fixed; convergence is reported per candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .score import conservation_score

Evaluator = Callable[[Tensor], tuple[Tensor, Tensor]]  # C [n, K] -> (values [n, N], finite [n])


@dataclass(frozen=True)
class GradientConfig:
    """restarts: independent starts per candidate (the first at c = 1, the others ±10^U(−1, 1));
    adam_steps/lr: warm start; newton_steps: damped Newton iterations; tol: relative change of S over the last
    Newton steps below which a candidate counts as converged."""

    restarts: int = 4
    adam_steps: int = 60
    lr: float = 0.05
    newton_steps: int = 25
    tol: float = 1e-6

    def __post_init__(self):
        if self.restarts < 1:
            raise ValueError(f"restarts must be >= 1, got {self.restarts}")
        if self.adam_steps < 0 or self.newton_steps < 0 or self.adam_steps + self.newton_steps < 1:
            raise ValueError("adam_steps and newton_steps must be >= 0 and not both 0")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclass(frozen=True)
class GradientFit:
    """params [n, K] (unused slots 0), score [n] (NaN: no finite non-constant restart), converged [n] bool."""

    params: Tensor
    score: Tensor
    converged: Tensor


def _objective(evaluate: Evaluator, c: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
    """Per-candidate S [n] with NaN (non-finite or constant) masked to 1 for the optimiser, and a validity mask."""
    values, finite = evaluate(c)
    s = conservation_score(values, index)
    valid = finite & torch.isfinite(s)
    return torch.where(valid, s, torch.ones_like(s)), valid


def fit_gradient(evaluate: Evaluator, n_params: Tensor, index: Tensor, *, config: GradientConfig = GradientConfig(),
                 max_params: int | None = None, seed: int = 0, like: Tensor | None = None) -> GradientFit:
    """Fit C [n, K] minimising S_i for every candidate at once.

    evaluate: C [n, K] -> (values [n, N], finite [n]), differentiable (twice) in C; n_params [n]: parameters
    each candidate uses (slots beyond are held at 0); index [m, L]: the sequence grouping of the N points.
    """
    n = int(n_params.shape[0])
    k = int(max_params if max_params is not None else (int(n_params.max()) if n else 0))
    dtype = like.dtype if like is not None else torch.float64
    device = like.device if like is not None else index.device
    used = (torch.arange(k, device=device)[None, :] < n_params.to(device)[:, None]).to(dtype)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    best_s = torch.full((n,), float("inf"), dtype=dtype, device=device)
    best_c = torch.zeros(n, k, dtype=dtype, device=device)
    best_conv = torch.zeros(n, dtype=torch.bool, device=device)
    for r in range(config.restarts):
        if r == 0:
            init = torch.ones(n, k, dtype=dtype)
        else:
            mag = 10.0 ** (torch.rand(n, k, generator=gen, dtype=dtype) * 2 - 1)
            sign = torch.where(torch.rand(n, k, generator=gen) < 0.5, -1.0, 1.0).to(dtype)
            init = mag * sign
        c = (init.to(device) * used)
        c, s, valid, conv = _run(evaluate, c, used, index, config)
        better = valid & (s < best_s)
        best_s = torch.where(better, s, best_s)
        best_c = torch.where(better[:, None], c, best_c)
        best_conv = torch.where(better, conv, best_conv)
    found = torch.isfinite(best_s)
    score = torch.where(found, best_s, torch.full_like(best_s, float("nan")))
    return GradientFit(params=best_c.detach(), score=score.detach(), converged=best_conv & found)


def _run(evaluate: Evaluator, c: Tensor, used: Tensor, index: Tensor, config: GradientConfig):
    """One restart: Adam warm start then batched Levenberg–Marquardt. Returns (c, S, valid, converged)."""
    c = c.clone().requires_grad_(True)
    if config.adam_steps:
        opt = torch.optim.Adam([c], lr=config.lr)
        for _ in range(config.adam_steps):
            opt.zero_grad(set_to_none=True)
            s, _ = _objective(evaluate, c, index)
            s.sum().backward()
            c.grad.mul_(used).nan_to_num_(0.0, 0.0, 0.0)
            opt.step()
    c = c.detach()
    n, k = c.shape
    damping = torch.full((n,), 1e-3, dtype=c.dtype, device=c.device)
    with torch.no_grad():
        s, valid = _objective(evaluate, c, index)
    history = [s]
    eye = torch.eye(k, dtype=c.dtype, device=c.device)
    for _ in range(config.newton_steps if k else 0):
        cg = c.clone().requires_grad_(True)
        s_now, _ = _objective(evaluate, cg, index)
        (grad,) = torch.autograd.grad(s_now.sum(), cg, create_graph=True)
        rows = [torch.autograd.grad(grad[:, j].sum(), cg, retain_graph=j < k - 1)[0] for j in range(k)]
        hess = torch.stack(rows, 1).detach()
        grad = (grad.detach() * used).nan_to_num(0.0, 0.0, 0.0)
        hess = (hess * used[:, :, None] * used[:, None, :]).nan_to_num(0.0, 0.0, 0.0)
        mask_eye = eye * (1 - used)[:, :, None]  # identity on unused slots keeps the system regular
        scale = torch.diagonal(hess, dim1=-2, dim2=-1).abs().amax(-1).clamp_min(1e-12)
        system = hess + (damping * scale)[:, None, None] * eye + mask_eye
        step = torch.linalg.solve(system, -grad[..., None]).squeeze(-1).nan_to_num(0.0, 0.0, 0.0) * used
        with torch.no_grad():
            s_new, valid_new = _objective(evaluate, c + step, index)
        accept = valid_new & (s_new < s)
        c = torch.where(accept[:, None], c + step, c)
        s = torch.where(accept, s_new, s)
        valid = valid | accept
        damping = torch.where(accept, damping / 3, damping * 4).clamp(1e-9, 1e9)
        history.append(s)
    tail = history[-min(len(history), 4):]
    rel = (tail[0] - tail[-1]).abs() / tail[0].abs().clamp_min(1e-300)
    converged = (rel < config.tol) | (s < 1e-14)
    return c, s, valid, converged
