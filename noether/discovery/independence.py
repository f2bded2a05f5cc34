"""Functionally independent laws among the survivors (as AI Poincaré 2.0, Liu et al. 2022).

Many survivors are functions of one another (H, H², p² − 3.01·cos q ...). Laws g_1..g_k are functionally
independent when their gradients ∇g_i are linearly independent at generic states, i.e. the k×d Jacobian has rank k.
Walking down the ranking, a law is kept when it raises that rank: the smallest singular value of the stacked
unit gradients, at sample states, has median above ``tol``. A conserved quantity's gradient is orthogonal to the
flow, so a system that moves has at most d − 1 independent ones; the walk stops there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor


def state_gradients(fn: Callable[[Tensor], Tensor], states: Tensor) -> Tensor:
    """∇g at each state: fn maps states [N, d] -> [N] (differentiable); returns [N, d] (non-finite -> 0)."""
    x = states.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(fn(x).sum(), x, allow_unused=True)
    if grad is None:
        return torch.zeros_like(states)
    return grad.nan_to_num(0.0, 0.0, 0.0)


def independent_set(
    gradients: Sequence[Tensor] | Tensor, *, tol: float = 0.1, max_rank: int | None = None
) -> list[int]:
    """Indices of a greedy maximal functionally independent subset, in the given (ranking) order.

    gradients: k tensors [N, d] (∇g_i at the same N states). A law whose gradient vanishes (or is non-finite) at
    more than half of the states is skipped. max_rank defaults to d − 1 (see module docstring).
    """
    return functional_classes(gradients, tol=tol, max_rank=max_rank)[0]


def functional_classes(
    gradients: Sequence[Tensor] | Tensor, *, tol: float = 0.1, max_rank: int | None = None
) -> tuple[list[int], list[int]]:
    """Greedy independent seeds and, for every law, the seed it is a function of.

    Returns (seeds, member_of): seeds as in ``independent_set``; member_of[j] = position in ``seeds`` of the
    first seed whose gradient is parallel to law j's (pairwise rank 1), or −1 when there is none.
    """
    grads = list(gradients)
    if not grads:
        return [], []
    d = grads[0].shape[-1]
    limit = d - 1 if max_rank is None else max_rank
    units = [_unit(g) for g in grads]
    seeds: list[int] = []
    member_of = [-1] * len(grads)
    for i, (u, ok) in enumerate(units):
        if ok.float().mean() <= 0.5:
            continue
        for pos, j in enumerate(seeds):
            if _smallest_sv([units[j], (u, ok)]) <= tol:
                member_of[i] = pos
                break
        if member_of[i] >= 0 or len(seeds) >= limit:
            continue
        if _smallest_sv([units[j] for j in seeds] + [(u, ok)]) > tol:
            member_of[i] = len(seeds)
            seeds.append(i)
    return seeds, member_of


def are_independent(gradients: Sequence[Tensor], *, tol: float = 0.1) -> bool:
    """Whether laws with gradients [N, d] each are functionally independent (as ``independent_set`` judges: each
    usable at more than half of the states, the stacked unit gradients' smallest singular value above ``tol``)."""
    units = [_unit(g) for g in gradients]
    return all(ok.float().mean() > 0.5 for _, ok in units) and _smallest_sv(units) > tol


def _unit(g: Tensor) -> tuple[Tensor, Tensor]:
    """Unit gradients [N, d] and where they are usable [N]."""
    norm = g.norm(dim=-1, keepdim=True)
    ok = torch.isfinite(norm.squeeze(-1)) & (norm.squeeze(-1) > 1e-12 * norm.max().clamp_min(1e-300))
    return g / norm.clamp_min(1e-300), ok


def _smallest_sv(units: list[tuple[Tensor, Tensor]]) -> float:
    """Median over usable states of the smallest singular value of the stacked unit gradients."""
    valid = units[0][1].clone()
    for _, ok in units[1:]:
        valid &= ok
    if valid.sum() == 0:
        return 0.0
    stack = torch.stack([u for u, _ in units], 1)[valid]  # [N', r, d]
    return float(torch.linalg.svdvals(stack)[:, -1].median())


def widest_set(gradients: Sequence[Tensor], *, tol: float = 0.1, max_rank: int | None = None) -> list[int]:
    """A functionally independent subset, in the given order, grown from the first usable law by the one that
    keeps the stacked unit gradients best conditioned (largest median smallest singular value, first on ties):
    among laws of several relations (a Kepler orbit's energy, angular momentum and Runge-Lenz vector) ranking
    order alone can take an ill-conditioned subset that leaves a further independent law under ``tol``."""
    units = [_unit(g) for g in gradients]
    usable = [i for i, (_, ok) in enumerate(units) if ok.float().mean() > 0.5]
    if not usable:
        return []
    limit = units[0][0].shape[-1] - 1 if max_rank is None else max_rank
    seeds = usable[:1]
    while len(seeds) < limit:
        rest = [i for i in usable if i not in seeds]
        conditions = [_smallest_sv([units[j] for j in seeds] + [units[i]]) for i in rest]
        if not rest or max(conditions) <= tol:
            break
        seeds.append(rest[conditions.index(max(conditions))])
    return sorted(seeds)
