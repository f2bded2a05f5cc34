"""Hamiltonian Neural Network (Greydanus et al. 2019): an MLP outputs a scalar H(q, p) and the vector field is
its symplectic gradient, dq/dt = dH/dp, dp/dt = -dH/dq (HNN's 'solenoidal' field with M = [[0, 1], [-1, 0]])."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import grad

from ..errors import ConfigError
from .mlp import MLP, build_seeded


class HNN(nn.Module):
    """x = (q_1..q_m, p_1..p_m) [..., 2m] -> dx/dt [..., 2m] = J grad H(x), H = MLP(2m -> h -> h -> 1).

    The gradient is taken with ``torch.func.grad`` so it works under ``vmap``/``functional_call`` and stays
    differentiable w.r.t. the weights (training backpropagates through it).
    """

    def __init__(self, d: int = 2, hidden: int = 200):
        super().__init__()
        if d % 2:
            raise ConfigError(f"an HNN needs an even state dimension (q, p pairs), got {d}")
        self.net = MLP(d, hidden, 1)

    @classmethod
    def seeded(cls, seed: int, *args, **kwargs) -> HNN:
        """An HNN whose initial weights depend only on ``seed`` (see ``mlp.build_seeded``)."""
        return build_seeded(cls, seed, *args, **kwargs)

    def hamiltonian(self, x: Tensor) -> Tensor:
        """H(x): [..., d] -> [...]."""
        return self.net(x).squeeze(-1)

    def forward(self, x: Tensor) -> Tensor:
        dh = grad(lambda y: self.hamiltonian(y).sum())(x)  # per-point gradient: H is evaluated point-wise
        m = x.shape[-1] // 2
        return torch.cat([dh[..., m:], -dh[..., :m]], dim=-1)
