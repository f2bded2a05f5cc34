"""The Noether loss (Eq. 2 of the paper): how much a quantity g changes along a predicted sequence; and its
one-step form that tailors an MLP's vector field to a law (App. C, ``law_inner_loss``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from ..errors import ConfigError

NoetherForm = Literal["a", "b"]
LawBatch = Callable[[Tensor], Tensor]  # X [n, N, d] -> g(X) [n, N]: candidate i evaluated on X[i]


def noether_loss(g_ref: Tensor, g_seq: Tensor, form: NoetherForm = "a") -> Tensor:
    """Eq. 2 of the paper, one value per sequence.

    (a) ``sum_t |g(x0) - g(x~_t)|^2``: every prediction is compared with the ground-truth input's value;
    (b) ``sum_t |g(x~_{t-1}) - g(x~_t)|^2`` with ``x~_0 = x0``: consecutive predictions are compared.

    g_ref: ``[..., k]`` = g(x0); g_seq: ``[..., T, k]`` = g(x~_1..x~_T) -> ``[...]`` (usually ``[B]``).
    A law with scalar output is used with k = 1. Works inside ``torch.func.vmap`` (out-of-place ops only).
    """
    if g_ref.ndim < 1 or g_seq.ndim != g_ref.ndim + 1:
        raise ValueError(
            f"noether_loss expects g_ref [..., k] and g_seq [..., T, k], got shapes "
            f"{tuple(g_ref.shape)} and {tuple(g_seq.shape)}"
        )
    if g_seq.shape[:-2] != g_ref.shape[:-1] or g_seq.shape[-1] != g_ref.shape[-1]:
        raise ValueError(
            f"noether_loss: g_ref {tuple(g_ref.shape)} and g_seq {tuple(g_seq.shape)} disagree on "
            f"batch or embedding size"
        )
    ref = g_ref.unsqueeze(-2)
    if form == "a":
        diff = g_seq - ref
    elif form == "b":
        prev = torch.cat([ref, g_seq[..., :-1, :]], dim=-2)  # g(x~_{t-1}) with x~_0 = x0
        diff = g_seq - prev
    else:
        raise ConfigError(f"unknown Noether loss form '{form}' (use 'a' or 'b')")
    return diff.square().sum(dim=(-1, -2))


def law_inner_loss(laws: LawBatch, dt: float | Tensor) -> Callable[[Tensor, Tensor], Tensor]:
    """Appendix C's tailoring loss, (x [n, N, d], v = f_theta(x) [n, N, d]) -> [n, N]:
    Eq. 2 with T = 1 on x~_1 = x + v dt, i.e. |g(x) - g(x + v dt)|^2. dt: float, or [n] (one per stacked law)."""

    def loss(x: Tensor, v: Tensor) -> Tensor:
        x = x.expand(v.shape)
        step = torch.as_tensor(dt, dtype=v.dtype, device=v.device)
        step = step.reshape(-1, 1, 1) if step.ndim == 1 else step
        g0 = laws(x).unsqueeze(-1)  # [n, N, 1]
        g1 = laws(x + v * step).unsqueeze(-1).unsqueeze(-2)  # [n, N, 1, 1]
        return noether_loss(g0, g1, "a")

    return loss
