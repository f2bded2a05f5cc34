"""The inner (tailoring) step of Eq. 3: theta' = theta - lr * grad_theta L_inner(theta), per query.

This is the step for any model (the video path's, and what a user plugs into their own); the law path's batched
step on the MLP and its settings live apart in ``law/`` (``law/step.py``, ``law/setting.py``: ``InnerSetting``),
and meta-tailoring's outer optimiser is torch's Adam. Here Adam is written out because torch.optim updates leaf
tensors in place, which neither ``torch.func.vmap`` nor a second-order inner step can go through.

``tailor`` adapts ONE query's tensors with K steps of SGD or functional Adam, built on ``torch.func.grad``; it is
differentiable through the step (second order, as meta-tailoring needs) unless ``first_order`` is set, and it is
``torch.func.vmap``-able, so every query of a batch gets its own tailored tensors in one vectorised call
(``tailor_batch``). What is adapted is exactly the dict passed in: all weights of a model, chosen layers,
conditional-normalisation gamma/beta, or activations (e.g. LSTM outputs) -- whatever ``inner_loss`` reads.

Example (per-query weights of a model, the PyTorch MAML recipe)::

    params = dict(model.named_parameters())
    def inner(p, x):                       # one query x: [d]
        return law_loss(functional_call(model, p, (x,)), x)
    tailored = tailor_batch(params, inner, xb, InnerConfig(lr=0.1))      # {name: [B, *shape]}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor
from torch.func import grad, vmap

from ..errors import ConfigError

Params = dict[str, Tensor]


@dataclass(frozen=True)
class InnerConfig:
    """How a query is tailored: ``steps`` steps of ``optimizer`` at learning rate ``lr`` (lambda_in of Eq. 3).

    first_order: detach the inner gradient, so the outer gradient treats it as a constant (cheaper; note that
    anything reaching the task loss only through the inner step, like a Noether embedding, then gets zero
    gradient). betas/eps: functional Adam's constants (the first Adam step moves each entry by ~lr).
    """

    lr: float = 1e-2
    steps: int = 1
    optimizer: Literal["sgd", "adam"] = "sgd"
    first_order: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if not self.lr >= 0:
            raise ConfigError(f"inner learning rate must be >= 0, got {self.lr}")
        if self.steps < 0:
            raise ConfigError(f"inner steps must be >= 0, got {self.steps}")
        if self.optimizer not in ("sgd", "adam"):
            raise ConfigError(f"unknown inner optimizer '{self.optimizer}' (use 'sgd' or 'adam')")
        if not (0 <= self.betas[0] < 1 and 0 <= self.betas[1] < 1):
            raise ConfigError(f"Adam betas must lie in [0, 1), got {self.betas}")


def tailor(
    adapted: Params,
    inner_loss: Callable[[Params], Tensor],
    config: InnerConfig = InnerConfig(),
    *,
    lr: float | Tensor | None = None,
) -> Params:
    """Tailor one query: K steps of theta <- theta - lr * grad L_inner(theta) (Eq. 3), SGD or functional Adam.

    adapted: {name: tensor} -- the tensors to adapt (any shapes); inner_loss: maps such a dict to a scalar
    (the query's unsupervised loss, e.g. the Noether loss of Eq. 2). lr overrides ``config.lr`` and may be a
    tensor (e.g. batched under ``vmap`` to sweep learning rates). Returns the tailored dict (same keys/shapes),
    differentiable w.r.t. ``adapted`` and whatever ``inner_loss`` closes over (second order) unless
    ``config.first_order``.
    """
    step = config.lr if lr is None else lr
    grad_fn = grad(inner_loss)
    theta = dict(adapted)
    if config.optimizer == "adam":
        b1, b2 = config.betas
        m = {k: torch.zeros_like(v) for k, v in theta.items()}
        v2 = {k: torch.zeros_like(v) for k, v in theta.items()}
    for k_step in range(1, config.steps + 1):
        g = grad_fn(theta)
        if config.first_order:
            g = {k: t.detach() for k, t in g.items()}
        if config.optimizer == "sgd":
            theta = {k: theta[k] - step * g[k] for k in theta}
        else:
            m = {k: b1 * m[k] + (1 - b1) * g[k] for k in theta}
            v2 = {k: b2 * v2[k] + (1 - b2) * g[k].square() for k in theta}
            c1, c2 = 1 - b1**k_step, 1 - b2**k_step
            # sqrt(v_hat + eps^2) instead of sqrt(v_hat): same step to within eps, finite 2nd derivative at g = 0
            theta = {
                k: theta[k] - step * (m[k] / c1) / ((v2[k] / c2 + config.eps**2).sqrt() + config.eps) for k in theta
            }
    return theta


def tailor_batch(
    adapted: Params,
    inner_loss: Callable[[Params, Any], Tensor],
    queries: Any,
    config: InnerConfig = InnerConfig(),
    *,
    per_query: bool = False,
    lr: float | Tensor | None = None,
    chunk_size: int | None = None,
) -> Params:
    """``tailor`` for every query of a batch in one ``torch.func.vmap`` call (no Python loop over queries).

    adapted: {name: tensor}, shared by all queries (or ``[B, ...]`` per query when ``per_query``);
    inner_loss(adapted, query) -> scalar for ONE query; queries: a tensor or pytree of tensors with leading
    batch dim B. Returns {name: [B, *shape]} -- query b's tailored tensors at index b.
    """

    def one(theta: Params, query: Any) -> Params:
        return tailor(theta, lambda p: inner_loss(p, query), config, lr=lr)

    return vmap(one, in_dims=(0 if per_query else None, 0), chunk_size=chunk_size)(adapted, queries)
