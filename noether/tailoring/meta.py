"""Meta-tailoring the baseline MLP with a conservation law g (Appendix C of the paper).

For an input x the tailoring (inner) loss is Eq. 2 on the one-step finite-difference prediction,
``L_in(x) = |g(x) - g(x + f_theta(x) dt)|^2`` (dt = the data's time step times ``dt_scale``); each query gets one
step on the MLP's weights and the tailored prediction f_theta'(x) is the vector field. The step is either the
paper's SGD step (Eq. 3, ``step='sgd'``, rates 10^k) or a Gauss-Newton step (``step='newton'``,
``mlp_tailor.newton_rate``) that removes a fraction alpha of the law's linearised violation whatever the law's
scale; every law is tried over a grid of (rate, dt_scale) pairs.

Two stages pick the law among the filter's survivors:
- ``screen``: on the pretrained MLP, the training MSE of dx/dt after tailoring, for every candidate and every
  inner learning rate 10^k, k in {-3, -2.5, ..., 1}; keeps the top-k laws with their best learning rate.
- ``meta_tailor``: fine-tunes one copy of the pretrained MLP per law for ``epochs`` full-batch Adam steps on the
  post-tailoring task loss (second order through the inner step), all candidates at once (stacked weights);
  then picks the law whose model has the lowest long-term RMSE on the TRAINING trajectories.

Laws come as ONE batched callable ``laws(X [n, N, d]) -> [n, N]`` (candidate i evaluated on X[i]), e.g.
``lambda X: space.evaluate(X, C).values`` from the DSL, or ``lambda X: X[..., 1]**2 - 3*torch.cos(X[..., 0])``
for a single law (n = 1). It must be differentiable in X and treat points independently.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ..systems.trajectories import Trajectories
from .evaluate import IntegratorConfig, LawBatch, long_term, tailored_field
from .loss import noether_loss
from .mlp import Params, stacked
from .mlp_tailor import (Adapt, InnerStep, backprop, check_step, newton_rate, tailor_mlp, tailored_output,
                         trace)
from .train import paper_weight_decay, points

#: Inner learning rates of the paper: 10^k for k in {-3, -2.5, ..., 1}.
PAPER_LRS: tuple[float, ...] = tuple(float(10.0**k) for k in np.arange(-3.0, 1.01, 0.5))
#: Fractions alpha of the linearised residual removed by the Gauss-Newton inner step (``step='newton'``).
NEWTON_ALPHAS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)


LAW_SHIFT = "law.shift"  # the laws' relative parameter shifts among the meta-learned tensors


def default_lrs(step: InnerStep) -> tuple[float, ...]:
    """The inner-rate grid that goes with an inner step: the paper's 10^k for SGD, alpha fractions for Newton."""
    return NEWTON_ALPHAS if step == "newton" else PAPER_LRS


def law_inner_loss(laws: LawBatch, dt: float | Tensor):
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


def subset_laws(laws: LawBatch, rows: Tensor, n_total: int) -> LawBatch:
    """The batched law restricted to candidates ``rows``: X [len(rows), N, d] -> [len(rows), N].
    The other candidates' inputs are filled with row 0's points and their values discarded."""
    if len(rows) == n_total and bool((rows == torch.arange(n_total, device=rows.device)).all()):
        return laws

    def sub(x: Tensor) -> Tensor:
        full = x[:1].expand(n_total, *x.shape[1:]).index_copy(0, rows, x)
        return laws(full)[rows]

    return sub


# --------------------------------------------------------------------------------------------------- stage 1


@dataclass(frozen=True)
class ScreenConfig:
    """lrs: inner learning rates (SGD) or alpha fractions (Newton) tried for every law; dt_scales: inner-loss
    steps tried, each ``dt_scale * traj.dt`` (1 = the paper's finite difference); every law gets the best
    (lr, dt_scale) pair of the grid. top_k: laws kept; chunk: laws per vectorised block; step / adapt: the inner
    step ('sgd' = Eq. 3, 'newton') and the weights it moves ('all', 'last')."""

    lrs: tuple[float, ...] = PAPER_LRS
    top_k: int = 20
    chunk: int = 64
    dt_scales: tuple[float, ...] = (1.0,)
    step: InnerStep = "sgd"
    adapt: Adapt = "all"

    def __post_init__(self) -> None:
        if not self.lrs or min(self.lrs) < 0:
            raise ValueError(f"screen needs non-negative inner learning rates, got {self.lrs}")
        if self.top_k < 1 or self.chunk < 1:
            raise ValueError(f"top_k and chunk must be >= 1, got {self.top_k}, {self.chunk}")
        check_inner(self.step, self.adapt, self.dt_scales)


def check_inner(step: str, adapt: str, dt_scales: tuple[float, ...]) -> None:
    """One clear error for an unknown inner step / adapted-weights choice or a non-positive inner-loss step."""
    check_step(step, adapt)
    if not dt_scales or not all(d > 0 for d in dt_scales):
        raise ValueError(f"dt_scales must be positive, got {dt_scales}")


@dataclass(frozen=True)
class ScreenResult:
    """losses: [n, S, L] training MSE of dx/dt after tailoring (inf where not finite); lrs: [L]; dt_scales: [S];
    base_loss: the untailored MSE; best_lr / best_dt_scale / best_loss: [n]; top: indices of the best ``top_k``
    laws (best first); table: one row per law (index, best_lr, best_dt_scale, best_loss, gain = base_loss /
    best_loss, loss@lr[/dt_scale] columns)."""

    losses: np.ndarray
    lrs: np.ndarray
    base_loss: float
    best_lr: np.ndarray
    best_loss: np.ndarray
    top: np.ndarray
    table: pd.DataFrame
    seconds: float
    dt_scales: np.ndarray
    best_dt_scale: np.ndarray


def screen(params: Params, traj: Trajectories, laws: LawBatch, n_laws: int, config: ScreenConfig = ScreenConfig()
           ) -> ScreenResult:
    """Stage 1: the training loss after one tailoring step, for each of ``n_laws`` laws x each (dt_scale, lr).

    params: the pretrained MLP's weights {name: tensor} (unstacked); the screen runs on their device/dtype.
    Vectorised: the law and its gradient are evaluated once for all candidates (on [n_laws, N, d]); the
    tailored forward pass (``mlp_tailor``) then runs on blocks of ``config.chunk`` laws for all lrs.
    """
    start = time.perf_counter()
    w = next(iter(params.values()))
    p = {k: v.detach() for k, v in params.items()}
    x, dx = (t.to(w) for t in points(traj, "train", w.device))
    n, big_n, d = n_laws, x.shape[0], x.shape[1]
    with torch.no_grad():
        tr = trace(p, x.unsqueeze(0))  # shared untailored pass, [1, N, .]
        base = float((tr.output[0] - dx).square().mean())
    v = tr.output.expand(n, big_n, d).detach().requires_grad_()
    lrs = torch.tensor(config.lrs, dtype=x.dtype)
    n_s, n_l = len(config.dt_scales), len(lrs)
    losses = torch.empty(n, n_s, n_l, dtype=torch.float64)
    finite_law = torch.ones(n, dtype=torch.bool)
    for si, scale in enumerate(config.dt_scales):
        with torch.enable_grad():
            inner = law_inner_loss(laws, traj.dt * scale)(x.unsqueeze(0).expand(n, big_n, d), v)
            (u,) = torch.autograd.grad(inner.sum(), v)
        finite_law &= (torch.isfinite(inner).all(1) & torch.isfinite(u).all(2).all(1)).cpu()
        u = torch.where(torch.isfinite(u), u, torch.zeros_like(u))
        inner = torch.where(torch.isfinite(inner), inner, torch.zeros_like(inner)).detach()
        with torch.no_grad():
            for a in range(0, n, config.chunk):
                rows = slice(a, min(n, a + config.chunk))
                deltas = backprop(p, tr, u[rows])
                unit = newton_rate(p, tr, deltas, inner[rows], 1.0, config.adapt) if config.step == "newton" else 1.0
                for j, lr in enumerate(lrs.tolist()):
                    pred = tailored_output(p, tr, deltas, lr * unit, config.adapt)
                    losses[rows, si, j] = (pred - dx).square().mean((1, 2)).double().cpu()
    ok = torch.isfinite(losses) & finite_law[:, None, None]  # a law not finite on the training data is out
    losses = torch.where(ok, losses, torch.full_like(losses, math.inf)).numpy()
    flat = losses.reshape(n, n_s * n_l)
    best = flat.argmin(1)
    best_loss = flat[np.arange(n), best]
    best_lr = np.asarray(config.lrs)[best % n_l]
    best_scale = np.asarray(config.dt_scales)[best // n_l]
    order = np.argsort(best_loss, kind="stable")
    top = order[np.isfinite(best_loss[order])][: config.top_k]
    table = pd.DataFrame({"index": np.arange(n), "best_lr": best_lr, "best_dt_scale": best_scale,
                          "best_loss": best_loss, "gain": base / best_loss})
    for si, scale in enumerate(config.dt_scales):
        for j, lr in enumerate(config.lrs):
            table[f"loss@{lr:.3g}" + (f"/dt{scale:g}" if n_s > 1 else "")] = losses[:, si, j]
    return ScreenResult(losses, np.asarray(config.lrs), base, best_lr, best_loss, top, table,
                        time.perf_counter() - start, np.asarray(config.dt_scales), best_scale)


# --------------------------------------------------------------------------------------------------- stage 2


@dataclass(frozen=True)
class MetaConfig:
    """Stage 2 (Algorithm 1 with a fixed law): ``epochs`` full-batch Adam steps (lr, L2 weight_decay as in the
    baseline's training) on MSE(f_theta'(x), dx/dt), second order through the inner step unless first_order.

    halving: successive halving -- at ``halving_rounds`` evenly spaced epochs, keep the better half of the
    candidates by their current task loss (never fewer than ``keep_min``). integrator: the long-term evaluation
    used to pick the law (on the training trajectories). dt_scale: the inner loss's step is
    ``dt_scale * traj.dt`` (1 = the paper; smaller values shrink the finite-difference bias of the loss, which
    pushes the field towards the secant of g's level set rather than its tangent) unless ``meta_tailor`` is given
    one per candidate. step / adapt: the inner step ('sgd' = Eq. 3, 'newton') and the weights it moves.
    law_lr: when ``meta_tailor`` gets the laws' parameters, they are meta-learned too (as Algorithm 1 learns the
    embedding g_phi), each as c0 * (1 + s) with Adam at this rate on s -- a relative step, whatever c0's scale;
    0 keeps the laws fixed (the paper's symbolic path).
    """

    epochs: int = 100
    lr: float = 1e-3
    weight_decay: float = 1e-4
    first_order: bool = False
    halving: bool = False
    halving_rounds: int = 2
    keep_min: int = 3
    select: bool = True
    dt_scale: float = 1.0
    step: InnerStep = "sgd"
    adapt: Adapt = "all"
    law_lr: float = 0.0
    integrator: IntegratorConfig = field(default_factory=IntegratorConfig)

    def __post_init__(self) -> None:
        if self.epochs < 0 or not self.lr > 0 or self.weight_decay < 0:
            raise ValueError(f"bad meta-tailoring config: epochs={self.epochs}, lr={self.lr}, "
                             f"weight_decay={self.weight_decay}")
        check_inner(self.step, self.adapt, (self.dt_scale,))
        if self.law_lr < 0:
            raise ValueError(f"law_lr must be >= 0, got {self.law_lr}")
        if self.keep_min < 1 or self.halving_rounds < 1:
            raise ValueError(f"keep_min and halving_rounds must be >= 1, got {self.keep_min}, {self.halving_rounds}")

    @classmethod
    def for_data(cls, traj: Trajectories, **overrides) -> MetaConfig:
        """Weight decay as the baseline's (1e-5 on the real pendulum, else 1e-4)."""
        return replace(cls(weight_decay=paper_weight_decay(traj)), **overrides)


@dataclass(frozen=True)
class MetaResult:
    """params: {name: [n, ...]} each candidate's fine-tuned weights; lrs: [n]; losses: [epochs, n] task loss
    (NaN once dropped); train_rmse: [n] long-term RMSE on the training trajectories (inf if dropped/diverged);
    active: [n] bool (survived halving); best: index of the chosen law (None when nothing finite); seconds:
    {'train': .., 'select': ..}; dt: [n] each candidate's inner-loss time step (for ``evaluate.tailored_field``);
    step / adapt: the inner step used; law_params: [n, P] each law's parameters after meta-learning (None when
    ``meta_tailor`` got no parameters)."""

    params: Params
    lrs: np.ndarray
    dt: np.ndarray
    losses: np.ndarray
    train_rmse: np.ndarray
    active: np.ndarray
    best: int | None
    seconds: dict
    step: InnerStep = "sgd"
    adapt: Adapt = "all"
    law_params: np.ndarray | None = None

    def candidate(self, i: int) -> Params:
        """Candidate i's weights (unstacked)."""
        return {k: v[i] for k, v in self.params.items()}


def meta_tailor(params: Params, traj: Trajectories, laws: LawBatch, lrs, config: MetaConfig = MetaConfig(),
                dt_scales=None, law_params=None) -> MetaResult:
    """Stage 2 for n = len(lrs) candidates at once: each starts from the pretrained ``params`` (unstacked) and is
    meta-tailored with law i at inner lr ``lrs[i]`` and inner-loss step ``dt_scales[i] * traj.dt`` (default
    ``config.dt_scale`` for all); ``laws`` is batched over the same n candidates.

    law_params: optional [n, P] parameters of the laws; ``laws`` is then called as ``laws(X, params [n, P])`` and,
    when ``config.law_lr > 0``, the parameters are meta-learned with the weights (``MetaResult.law_params``)."""
    start = time.perf_counter()
    w = next(iter(params.values()))
    x, dx = (t.to(w) for t in points(traj, "train", w.device))
    lr_all = torch.as_tensor(np.asarray(lrs, dtype=np.float64), dtype=w.dtype, device=w.device).reshape(-1)
    n = len(lr_all)
    theta = {k: v.detach().clone() for k, v in stacked(params, n).items()}
    weights = list(theta)
    c0 = None
    if law_params is not None:
        c0 = torch.as_tensor(np.nan_to_num(np.asarray(law_params, dtype=np.float64)), device=w.device)
        if c0.ndim != 2 or c0.shape[0] != n:
            raise ValueError(f"law_params must be [{n}, P], got {tuple(c0.shape)}")
        if config.law_lr > 0:
            theta[LAW_SHIFT] = torch.zeros_like(c0)
    step_lr = {k: config.lr for k in weights} | {LAW_SHIFT: config.law_lr}
    decay = {k: config.weight_decay for k in weights} | {LAW_SHIFT: 0.0}

    def bound(shift):
        """The batched law X -> g with the parameters c0 * (1 + shift) (or the fixed ``laws``)."""
        if c0 is None:
            return laws
        consts = c0 if shift is None else c0 * (1 + shift)
        return lambda X: laws(X, consts.to(X.dtype))

    m1 = {k: torch.zeros_like(v) for k, v in theta.items()}
    m2 = {k: torch.zeros_like(v) for k, v in theta.items()}
    rows = torch.arange(n, device=w.device)
    losses = np.full((config.epochs, n), np.nan)
    cuts = set(np.linspace(0, config.epochs, config.halving_rounds + 2)[1:-1].astype(int).tolist()) \
        if config.halving else set()
    b1, b2, eps = 0.9, 0.999, 1e-8
    scales = np.full(n, config.dt_scale) if dt_scales is None else np.asarray(dt_scales, dtype=np.float64)
    if scales.shape != (n,) or not (scales > 0).all():
        raise ValueError(f"dt_scales must hold {n} positive values, got {scales}")
    dt_all = torch.as_tensor(scales * traj.dt, dtype=w.dtype, device=w.device)
    for epoch in range(config.epochs):
        k = len(rows)
        cur = {name: t[rows].requires_grad_() for name, t in theta.items()}
        shift = None
        if LAW_SHIFT in theta:  # the shift of every law, rows not trained this epoch held constant
            shift = theta[LAW_SHIFT].index_put((rows,), cur[LAW_SHIFT])
        inner = law_inner_loss(subset_laws(bound(shift), rows, n), dt_all[rows])
        pred, _ = tailor_mlp({name: cur[name] for name in weights}, x.unsqueeze(0).expand(k, *x.shape), inner,
                             lr_all[rows],
                             first_order=config.first_order, step=config.step, adapt=config.adapt)
        task = (pred - dx).square().mean((1, 2))  # [k]
        finite = torch.isfinite(task)
        grads = torch.autograd.grad(torch.where(finite, task, torch.zeros_like(task)).sum(), list(cur.values()),
                                    allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(cur.values(), grads)]
        losses[epoch, rows.cpu().numpy()] = task.detach().double().cpu().numpy()
        t_adam = epoch + 1
        with torch.no_grad():
            for (name, p), g in zip(cur.items(), grads):  # torch.optim.Adam's update, elementwise per candidate
                ok = finite.reshape(-1, *([1] * (g.ndim - 1)))
                g = torch.where(ok & torch.isfinite(g), g, torch.zeros_like(g)) + decay[name] * p
                m1[name][rows] = b1 * m1[name][rows] + (1 - b1) * g
                m2[name][rows] = b2 * m2[name][rows] + (1 - b2) * g.square()
                step = step_lr[name] * (m1[name][rows] / (1 - b1**t_adam)) / \
                    ((m2[name][rows] / (1 - b2**t_adam)).sqrt() + eps)
                theta[name][rows] = torch.where(ok, p - step, p)
        if epoch + 1 in cuts and k > config.keep_min:
            keep = max(config.keep_min, math.ceil(k / 2))
            score = torch.where(finite, task.detach(), torch.full_like(task, math.inf))
            rows = rows[torch.argsort(score, stable=True)[:keep]].sort().values
    train_seconds = time.perf_counter() - start
    active = np.zeros(n, bool)
    active[rows.cpu().numpy()] = True
    train_rmse = np.full(n, np.inf)
    best = None
    if config.select:
        start = time.perf_counter()
        train_split, _ = traj.split()
        sub = {k: theta[k][rows] for k in weights}
        final = bound(theta.get(LAW_SHIFT))
        lt = long_term(tailored_field(sub, subset_laws(final, rows.cpu(), n), lr_all[rows].cpu(), dt_all[rows].cpu(),
                                      config.step, config.adapt),
                       train_split, n_models=len(rows), config=config.integrator)
        rmse = np.where(lt.diverged, np.inf, lt.rmse)
        train_rmse[rows.cpu().numpy()] = rmse
        if np.isfinite(train_rmse).any():
            best = int(np.argmin(train_rmse))
        select_seconds = time.perf_counter() - start
    else:
        select_seconds = 0.0
    learned = None
    if c0 is not None:
        shift = theta.get(LAW_SHIFT)
        learned = (c0 if shift is None else c0 * (1 + shift)).detach().cpu().double().numpy()
    return MetaResult({k: theta[k].detach() for k in weights}, lr_all.cpu().double().numpy(), scales * traj.dt,
                      losses, train_rmse, active, best, {"train": train_seconds, "select": select_seconds},
                      config.step, config.adapt, learned)


