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

from ..mlp import Params, layers_of, linear
from .setting import Adapt, InnerStep, check_step

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


def tailored_output(
    params: Params, tr: Trace, deltas: list[Tensor], lr: float | Tensor, adapt: Adapt = "all"
) -> Tensor:
    """f_theta'(x) with theta' = theta - lr * grad L (one SGD step per query).
    lr: float, [n] (per stacked model) or [n, N, 1] (per query) -> [n, N, d_out]. adapt='last': only the
    output layer's weights move (its tangent kernel is |a|^2 I, so the output moves along -dL/dv itself)."""
    layers = layers_of(params)
    lam = torch.as_tensor(lr, dtype=tr.output.dtype, device=tr.output.device)
    lam = lam.reshape(-1, 1, 1) if lam.ndim == 1 else lam  # [n] per model; [n, N, 1] per query (newton)
    a = tr.inputs[0]
    last = len(layers) - 1
    for i, ((w, b), a_old, delta) in enumerate(zip(layers, tr.inputs, deltas)):
        if adapt == "last" and i < last:
            a = torch.tanh(linear_any(a, w, b))  # frozen layer: a' = a
            continue
        dot = (a_old * a).sum(-1, keepdim=True)
        if b is not None:
            dot = dot + 1
        a = linear_any(a, w, b) - lam * delta * dot
        if i < last:
            a = torch.tanh(a)
    return a


def grad_norm2(params: Params, tr: Trace, deltas: list[Tensor], adapt: Adapt = "all") -> Tensor:
    """|dL/dtheta|^2 of every query's loss over the adapted weights, [n, N, 1]: sum over layers of
    |delta|^2 (|a|^2 + 1) (the rank-one gradient delta a^T has Frobenius norm |delta| |a|; "+ 1": the bias)."""
    total = torch.zeros_like(deltas[0][..., :1])
    triples = list(zip(layers_of(params), tr.inputs, deltas))
    for (_, b), a, delta in triples[-1:] if adapt == "last" else triples:
        a2 = a.square().sum(-1, keepdim=True) + (1.0 if b is not None else 0.0)
        total = total + delta.square().sum(-1, keepdim=True) * a2
    return total


def newton_rate(
    params: Params, tr: Trace, deltas: list[Tensor], loss: Tensor, alpha: float | Tensor, adapt: Adapt = "all"
) -> Tensor:
    """Per-query step size of the Gauss-Newton inner step, [n, N, 1]: lr = 2 alpha L / |dL/dtheta|^2.

    For a squared residual L = r^2 this is theta' = theta - alpha r grad(r) / |grad(r)|^2, the smallest weight
    change that cancels alpha x the linearised residual: alpha = 1 makes the law exactly conserved to first order,
    whatever the law's scale, the data's time step or the network's gradient size. A query whose loss or gradient
    is zero or not finite is left untailored.
    """
    a = torch.as_tensor(alpha, dtype=loss.dtype, device=loss.device)
    a = a.reshape(-1, 1, 1) if a.ndim == 1 else a
    g2 = grad_norm2(params, tr, deltas, adapt)
    ok = g2 > 0
    lr = 2 * a * loss.unsqueeze(-1) / torch.where(ok, g2, torch.ones_like(g2))  # no 0/0, not even in the backward
    ok = ok & torch.isfinite(lr)
    return torch.where(ok, lr, torch.zeros_like(lr))


def tailor_mlp(
    params: Params,
    x: Tensor,
    inner_loss: InnerLoss,
    lr: float | Tensor,
    *,
    first_order: bool = False,
    step: InnerStep = "sgd",
    adapt: Adapt = "all",
) -> tuple[Tensor, Tensor]:
    """(f_theta'(x), f_theta(x)), each [n, N, d_out]: every query x[i, j] tailored with one step on all weights.

    inner_loss(x, v) -> [n, N] must treat queries independently (e.g. the law loss of ``loss.law_inner_loss``).
    step: 'sgd' (Eq. 3: theta - lr grad L) or 'newton' (``newton_rate``; lr is then the fraction alpha of the
    linearised residual removed); adapt: 'all' weights (the paper) or only the 'last' layer. Second order through
    the step when autograd is recording and ``first_order`` is False.
    """
    check_step(step, adapt)
    second = torch.is_grad_enabled() and not first_order
    with torch.enable_grad():
        tr = trace(params, x)
        v = tr.output
        second = second and v.requires_grad
        v_in = v if second else v.detach().requires_grad_()
        loss = inner_loss(x, v_in)
        if loss.requires_grad:
            (u,) = torch.autograd.grad(loss.sum(), v_in, create_graph=second, allow_unused=True)
            u = torch.zeros_like(v) if u is None else u
        else:  # a law that does not depend on the prediction: nothing to tailor
            u = torch.zeros_like(v)
    u = torch.where(torch.isfinite(u), u, torch.zeros_like(u))  # a law that is not finite here: no tailoring
    deltas = backprop(params, tr, u)
    if step == "newton":
        lr = newton_rate(params, tr, deltas, torch.where(torch.isfinite(loss), loss, torch.zeros_like(loss)), lr, adapt)
    if first_order:  # theta' = theta - lr * stopgrad(grad L): the rank-one update is a constant
        deltas = [d.detach() for d in deltas]
        tr = Trace([a.detach() for a in tr.inputs], tr.output)
        lr = lr.detach() if isinstance(lr, Tensor) else lr
    return tailored_output(params, tr, deltas, lr, adapt), v


def linear_any(a: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """a @ W^T + b for shared W [out, in] (any leading dims of a) or stacked W [n, out, in] with a [n, N, in]."""
    if w.ndim == 2:
        z = a @ w.T
        return z if b is None else z + b
    return linear(a, w, b)
