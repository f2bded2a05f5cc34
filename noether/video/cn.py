"""Conditional normalisation (CN) layers for CNGRAD tailoring (Alet et al. 2021; paper §3, App. E).

A CN layer is a per-channel affine map y = x ⊙ γ + β placed after a GroupNorm(1, C) normalisation (a layer norm over
channels and space that, unlike BatchNorm, works at batch size 2 and under ``torch.func``). γ and β are stored as
``[1, C]`` parameters initialised to the identity (γ = 1, β = 0); the inner loop replaces them through
``torch.func.functional_call`` by per-example tensors ``[B, C]`` (:func:`per_example`), which is what lets one
batched forward pass tailor every query separately.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CondNorm(nn.Module):
    """y = x ⊙ γ + β per channel. x: [N, C, ...]; γ, β: [1, C] (shared) or [B, C] (per example).

    When N = k·B (frames of k time steps folded time-major into the batch, i.e. x viewed as [k, B, C, ...]),
    the per-example γ, β are repeated k times.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(1, channels))
        self.beta = nn.Parameter(torch.zeros(1, channels))

    def forward(self, x: Tensor) -> Tensor:
        gamma, beta = self.gamma, self.beta
        n = gamma.shape[0]
        if n not in (1, x.shape[0]):
            if x.shape[0] % n:
                raise ValueError(f"CN layer got {n} per-example parameter rows for a batch of {x.shape[0]}")
            reps = x.shape[0] // n
            gamma, beta = gamma.repeat(reps, 1), beta.repeat(reps, 1)
        shape = (*gamma.shape, *([1] * (x.dim() - 2)))
        return x * gamma.reshape(shape) + beta.reshape(shape)


class NormCN(nn.Module):
    """GroupNorm(1, C) followed, when ``cn``, by a CN layer: the normalisation of every encoder/decoder block."""

    def __init__(self, channels: int, cn: bool = True):
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.cn = CondNorm(channels) if cn else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.cn(self.norm(x))


def cn_parameters(module: nn.Module) -> dict[str, Tensor]:
    """The γ, β of every CN layer in ``module``, keyed by their ``named_parameters`` names (θ_CN of CNGRAD)."""
    out = {}
    for name, sub in module.named_modules():
        if isinstance(sub, CondNorm):
            prefix = f"{name}." if name else ""
            out[prefix + "gamma"] = sub.gamma
            out[prefix + "beta"] = sub.beta
    return out


def per_example(params: dict[str, Tensor], batch: int) -> dict[str, Tensor]:
    """Expand shared CN parameters [1, C] to per-example copies [B, C] (differentiable w.r.t. the shared ones)."""
    return {k: v.expand(batch, -1) for k, v in params.items()}
