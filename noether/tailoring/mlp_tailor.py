"""One inner SGD step on ALL weights of the MLP, per query, without materialising per-query weights.

For a dense layer z = W a + b, a per-query loss L that depends on the weights only through the query's output
has the rank-one gradient dL/dW = delta a^T, dL/db = delta (delta = dL/dz, a = the layer's input). Eq. 3's
tailored weights W' = W - lr delta a^T therefore act on the tailored activations a' as

    z' = W a' + b - lr * delta * (a . a' + 1)            (the "+ 1" only for layers with a bias)

so the tailored prediction f_theta'(x) costs one extra backward and one extra forward pass instead of a copy of
the 41k weights per query. This is exactly ``tailor`` with ``InnerConfig(lr, steps=1, optimizer='sgd')`` on
``dict(model.named_parameters())`` (the tests check it against ``tailor_batch`` + ``functional_call``), and it is
differentiable w.r.t. the weights (second order) through plain autograd.

Shapes: n stacked models (candidates; weights {name: [n, ...]}, or unstacked [out, in] shared by all), N queries,
d state dims, h hidden units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .mlp import Params, layers_of, linear

InnerLoss = Callable[[Tensor, Tensor], Tensor]  # (x [n, N, d], v = f_theta(x) [n, N, d]) -> per-query loss [n, N]


@dataclass(frozen=True)
class Trace:
    """The untailored forward pass: inputs of every layer (x first) and the output v = f_theta(x)."""

    inputs: list[Tensor]  # [x [.., N, d], a_1 [.., N, h], a_2 [.., N, h]]
    output: Tensor  # [.., N, d_out]


def trace(params: Params, x: Tensor) -> Trace:
    """Forward pass keeping every layer's input. params stacked [n, ...] or shared; x [n, N, d] (or [1, N, d])."""
    layers = layers_of(params)
    inputs, a = [], x
    for i, (w, b) in enumerate(layers):
        inputs.append(a)
        a = linear_any(a, w, b)
        if i < len(layers) - 1:
            a = torch.tanh(a)
    return Trace(inputs, a)


def backprop(params: Params, tr: Trace, u: Tensor) -> list[Tensor]:
    """delta_l = dL/dz_l of every layer given u = dL/dv [n, N, d_out] (linear in u). Returns [delta_1, .., delta_L]."""
    layers = layers_of(params)
    deltas = [u]
    for i in range(len(layers) - 1, 0, -1):
        w = layers[i][0]
        back = deltas[0] @ w if w.ndim == 2 else torch.bmm(deltas[0], w)
        deltas.insert(0, back * (1 - tr.inputs[i].square()))
    return deltas


def tailored_output(params: Params, tr: Trace, deltas: list[Tensor], lr: float | Tensor) -> Tensor:
    """f_theta'(x) with theta' = theta - lr * grad L (one SGD step per query). lr: float or [n] -> [n, N, d_out]."""
    layers = layers_of(params)
    lam = torch.as_tensor(lr, dtype=tr.output.dtype, device=tr.output.device)
    lam = lam.reshape(-1, 1, 1) if lam.ndim else lam
    a = tr.inputs[0]
    for i, ((w, b), a_old, delta) in enumerate(zip(layers, tr.inputs, deltas)):
        dot = (a_old * a).sum(-1, keepdim=True)
        if b is not None:
            dot = dot + 1
        a = linear_any(a, w, b) - lam * delta * dot
        if i < len(layers) - 1:
            a = torch.tanh(a)
    return a


def tailor_mlp(params: Params, x: Tensor, inner_loss: InnerLoss, lr: float | Tensor, *, first_order: bool = False
               ) -> tuple[Tensor, Tensor]:
    """(f_theta'(x), f_theta(x)), each [n, N, d_out]: every query x[i, j] tailored with one SGD step on all weights.

    inner_loss(x, v) -> [n, N] must treat queries independently (e.g. the law loss of ``meta.law_inner_loss``).
    Second order through the step when autograd is recording and ``first_order`` is False.
    """
    second = torch.is_grad_enabled() and not first_order
    with torch.enable_grad():
        tr = trace(params, x)
        v = tr.output
        second = second and v.requires_grad
        v_in = v if second else v.detach().requires_grad_()
        (u,) = torch.autograd.grad(inner_loss(x, v_in).sum(), v_in, create_graph=second)
    u = torch.where(torch.isfinite(u), u, torch.zeros_like(u))  # a law that is not finite here: no tailoring
    deltas = backprop(params, tr, u)
    if first_order:  # theta' = theta - lr * stopgrad(grad L): the rank-one update is a constant
        deltas = [d.detach() for d in deltas]
        tr = Trace([a.detach() for a in tr.inputs], tr.output)
    return tailored_output(params, tr, deltas, lr), v


def linear_any(a: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """a @ W^T + b for shared W [out, in] (any leading dims of a) or stacked W [n, out, in] with a [n, N, in]."""
    if w.ndim == 2:
        z = a @ w.T
        return z if b is None else z + b
    return linear(a, w, b)
