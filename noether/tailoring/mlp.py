"""The baseline vector-field MLP of Hamiltonian Neural Networks (Greydanus et al. 2019), as the paper uses it.

``MLP``: d -> 200 -> 200 -> d_out, tanh, orthogonal weight init, no bias on the last layer; as a vector field it
maps a state x [..., d] to dx/dt [..., d]. Weights can be swapped per query or per candidate with
``torch.func.functional_call`` or with the stacked-weights helpers below (``stacked``, ``mlp_apply``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

Params = dict[str, Tensor]
LAYERS = ("l1", "l2", "l3")


def build_seeded(factory, seed: int, *args, **kwargs):
    """``factory(*args, **kwargs)`` with torch's RNG seeded by ``seed``, leaving the global RNG state untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory(*args, **kwargs)


class MLP(nn.Module):
    """HNN's MLP: Linear(d, h) - tanh - Linear(h, h) - tanh - Linear(h, d_out, bias=False), orthogonal init.

    x: [..., d_in] -> [..., d_out]. As the baseline it predicts dx/dt (d_out = d_in); HNN uses d_out = 1 (H).
    Build it under a seed (``MLP.seeded``) for reproducible initial weights.
    """

    def __init__(self, d_in: int = 2, hidden: int = 200, d_out: int | None = None):
        super().__init__()
        d_out = d_in if d_out is None else d_out
        self.l1 = nn.Linear(d_in, hidden)
        self.l2 = nn.Linear(hidden, hidden)
        self.l3 = nn.Linear(hidden, d_out, bias=False)
        for layer in (self.l1, self.l2, self.l3):
            nn.init.orthogonal_(layer.weight)

    @classmethod
    def seeded(cls, seed: int, *args, **kwargs) -> MLP:
        """An MLP whose initial weights depend only on ``seed`` (the global RNG state is left untouched)."""
        return build_seeded(cls, seed, *args, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.tanh(self.l1(x))
        h = torch.tanh(self.l2(h))
        return self.l3(h)


def params_of(model: nn.Module) -> Params:
    """{name: detached clone} of a model's parameters: a plain weights dict for functional use."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def stacked(params: Params, n: int) -> Params:
    """The same weights repeated for n candidates: {name: [n, *shape]} (a fresh, contiguous copy)."""
    return {k: v.unsqueeze(0).repeat(n, *([1] * v.ndim)) for k, v in params.items()}


def layers_of(params: Params) -> list[tuple[Tensor, Tensor | None]]:
    """[(W [n, out, in], b [n, out] or None)] of a stacked MLP weights dict, input layer first."""
    return [(params[f"{name}.weight"], params.get(f"{name}.bias")) for name in LAYERS]


def mlp_apply(params: Params, x: Tensor) -> Tensor:
    """Per-candidate forward pass: params stacked {name: [n, ...]}, x [n, N, d_in] -> [n, N, d_out]."""
    layers = layers_of(params)
    a = x
    for i, (w, b) in enumerate(layers):
        a = linear(a, w, b)
        if i < len(layers) - 1:
            a = torch.tanh(a)
    return a


def linear(a: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """a [n, N, in] @ W[n]^T (+ b[n]) -> [n, N, out]."""
    if b is None:
        return torch.bmm(a, w.transpose(1, 2))
    return torch.baddbmm(b.unsqueeze(1), a, w.transpose(1, 2))
