"""Exact, batched fit of candidates that are affine in their parameters: g = φ0 + Σ_k c_k φ_k.

With a = (1, c), S(c) = aᵀWa / aᵀTa (W: within-sequence scatter, T: total scatter of the features, see
``score.scatter_matrices``). Its minimum over all directions a is the smallest eigenvalue of the pencil
W a = λ T a; dividing the eigenvector by a0 gives the globally optimal parameters (the paper used SGD, which
need not find them). All candidates are solved at once as a batch of (K+1)×(K+1) symmetric problems.

Degenerate cases are handled, not crashed on:
- features with no variance (unused parameter slots, constant features) drop out of the problem;
- φ0 with no variance (e.g. ``c0*q*p``): S is scale-free in c, so c is scaled to max |c_k| = 1;
- an optimum with a0 → 0 (parameters at infinity): status ``diverged``, the formula is rejected;
- all features constant: status ``constant``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .score import constant_threshold

OK, CONSTANT, DIVERGED = 0, 1, 2
STATUS = {OK: "ok", CONSTANT: "constant", DIVERGED: "parameters diverge"}

RANK_TOL = 1e-10  # eigenvalues of the standardised total scatter below this (relative) are null directions
DIVERGE_TOL = 1e-7  # |a0| (standardised, unit-norm eigenvector) below this: optimum at infinite parameters


@dataclass(frozen=True)
class ExactFit:
    """params [n, K] (unused slots 0), score [n] (NaN unless status is ok), status [n] int (OK/CONSTANT/...)."""

    params: Tensor
    score: Tensor
    status: Tensor


def solve_pencil(within: Tensor, total: Tensor, n_params: Tensor | None = None) -> ExactFit:
    """Minimise aᵀWa / aᵀTa with a0 = 1 for each of n candidates. within, total: [n, K+1, K+1] -> ExactFit.

    n_params [n] (optional) zeroes the parameter slots a candidate does not use.
    """
    n, k1, _ = total.shape
    dtype = total.dtype
    if n_params is not None:
        used = torch.arange(k1, device=total.device)[None, :] <= n_params.to(total.device)[:, None]
        mask = (used[:, :, None] & used[:, None, :]).to(dtype)
        within, total = within * mask, total * mask
    diag = torch.diagonal(total, dim1=-2, dim2=-1).clamp_min(0)
    scale = diag.amax(-1, keepdim=True)
    alive = diag > constant_threshold(dtype) * 1e4 * scale.clamp_min(torch.finfo(dtype).tiny)
    inv_sd = torch.where(alive, diag.clamp_min(torch.finfo(dtype).tiny).rsqrt(), torch.zeros_like(diag))
    ts = total * inv_sd[:, :, None] * inv_sd[:, None, :]
    ws = within * inv_sd[:, :, None] * inv_sd[:, None, :]
    ts = 0.5 * (ts + ts.transpose(-1, -2))
    ws = 0.5 * (ws + ws.transpose(-1, -2))
    lam, vec = torch.linalg.eigh(ts)
    keep = lam > RANK_TOL * lam.amax(-1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)
    whiten = vec * torch.where(keep, lam.clamp_min(torch.finfo(dtype).tiny).rsqrt(), torch.zeros_like(lam))[:, None]
    reduced = whiten.transpose(-1, -2) @ ws @ whiten
    reduced = 0.5 * (reduced + reduced.transpose(-1, -2))
    big = 10.0 * (1.0 + reduced.abs().amax((-1, -2), keepdim=True).squeeze(-1))
    reduced = reduced + torch.diag_embed(torch.where(keep, torch.zeros_like(lam), big))
    mu, v = torch.linalg.eigh(reduced)
    a_std = (whiten @ v[:, :, :1]).squeeze(-1)  # [n, K+1], standardised coordinates, aᵀ Ts a = 1
    a_std = a_std / a_std.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)
    a = a_std * inv_sd
    score = mu[:, 0].clamp(0.0, 1.0)

    constant = ~keep.any(-1)
    phi0_flat = ~alive[:, 0]
    diverged = ~phi0_flat & (a_std[:, 0].abs() < DIVERGE_TOL) & ~constant
    a0 = torch.where(a[:, 0].abs() > 0, a[:, 0], torch.ones_like(a[:, 0]))
    params = a[:, 1:] / a0[:, None]
    free = (a[:, 1:].abs().amax(-1, keepdim=True) if k1 > 1 else a[:, :0].sum(-1, keepdim=True)).clamp_min(
        torch.finfo(dtype).tiny
    )
    params = torch.where(phi0_flat[:, None], a[:, 1:] / free, params)
    status = torch.full((n,), OK, dtype=torch.long, device=total.device)
    status[diverged] = DIVERGED
    status[constant] = CONSTANT
    score = torch.where(status == OK, score, torch.full_like(score, float("nan")))
    params = torch.where(constant[:, None] | diverged[:, None], torch.zeros_like(params), params)
    return ExactFit(params=params, score=score, status=status)


def features_from(evaluate, n: int, max_params: int, like: Tensor) -> tuple[Tensor, Tensor]:
    """Features φ0..φK of n affine candidates from an evaluator ``evaluate(C [n, K]) -> (values [n, N], finite [n])``.

    φ0 = g(C=0), φk = g(C=e_k) − g(C=0). Returns (features [n, K+1, N], finite [n]).
    """
    zero = torch.zeros(n, max_params, dtype=like.dtype, device=like.device)
    base, finite = evaluate(zero)
    feats = [base]
    for k in range(max_params):
        unit = zero.clone()
        unit[:, k] = 1.0
        values, ok = evaluate(unit)
        feats.append(values - base)
        finite = finite & ok
    return torch.stack(feats, 1), finite
