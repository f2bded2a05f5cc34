"""Meta-tailoring (the meta-tailor stage) of the baseline MLP with a conservation law g (Appendix C of the paper).

For an input x the tailoring (inner) loss is Eq. 2 on the one-step finite-difference prediction,
``L_in(x) = |g(x) - g(x + f_theta(x) dt)|^2`` (dt = the data's time step times ``dt_scale``); each query gets one
step on the MLP's weights and the tailored prediction f_theta'(x) is the vector field. The step (SGD, Eq. 3, or
Gauss-Newton), the weights it moves and the grids come from one ``InnerSetting`` (setting.py).

The screen (``screen.py``) keeps the top laws among the filter's survivors; ``meta_tailor`` here fine-tunes one copy
of the pretrained MLP per law for ``epochs`` full-batch Adam steps on the post-tailoring task loss (second order
through the inner step), all candidates at once (stacked weights), then picks the law whose model has the lowest
long-term RMSE on the TRAINING trajectories.

Laws come as ONE batched callable ``laws(X [n, N, d]) -> [n, N]`` (candidate i evaluated on X[i]), e.g.
``lambda X: space.evaluate(X, C).values`` from the DSL, or ``lambda X: X[..., 1]**2 - 3*torch.cos(X[..., 0])``
for a single law (n = 1). It must be differentiable in X and treat points independently.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError
from ..progress import stage
from ..systems.trajectories import Trajectories
from .evaluate import long_term, tailored_field
from .integrate import IntegratorConfig
from .law.setting import InnerSetting
from .law.step import tailor_mlp
from .loss import LawBatch, law_inner_loss
from .mlp import Params, stacked
from .train import paper_weight_decay, points

LAW_SHIFT = "law.shift"  # the laws' relative parameter shifts among the meta-learned tensors


def subset_laws(laws: LawBatch, rows: Tensor, n_total: int) -> LawBatch:
    """The batched law restricted to candidates ``rows``: X [len(rows), N, d] -> [len(rows), N].
    The other candidates' inputs are filled with row 0's points and their values discarded."""
    if len(rows) == n_total and bool((rows == torch.arange(n_total, device=rows.device)).all()):
        return laws

    def sub(x: Tensor) -> Tensor:
        full = x[:1].expand(n_total, *x.shape[1:]).index_copy(0, rows, x)
        return laws(full)[rows]

    return sub


def halving_epochs(epochs: int, rounds: int) -> set[int]:
    """The epochs after which successive halving cuts: ``rounds`` evenly spaced inside (0, epochs)."""
    return set(np.linspace(0, epochs, rounds + 2)[1:-1].astype(int).tolist())


def halve(rows: Tensor, task: Tensor, keep_min: int) -> Tensor:
    """Successive halving: of the candidates ``rows`` (in index order), the better half by task loss [len(rows)]
    (non-finite last, ties by position), never fewer than ``keep_min``; ``rows`` itself when it has no more."""
    if len(rows) <= keep_min:
        return rows
    keep = max(keep_min, math.ceil(len(rows) / 2))
    score = torch.where(torch.isfinite(task), task, torch.full_like(task, math.inf))
    return rows[torch.argsort(score, stable=True)[:keep]].sort().values


def pick_best(train_rmse: np.ndarray) -> int | None:
    """The chosen law: the lowest long-term training RMSE (the first on ties); None when none is finite."""
    return int(np.argmin(train_rmse)) if np.isfinite(train_rmse).any() else None


def _adam(trained: Params, lr: dict[str, float], decay: dict[str, float]) -> torch.optim.Adam:
    """torch's Adam over the trained rows, one parameter group per tensor (its rate and L2 weight decay)."""
    groups = [{"params": [t], "lr": lr[name], "weight_decay": decay[name]} for name, t in trained.items()]
    return torch.optim.Adam(groups)


def adam_step(opt: torch.optim.Adam, trained: Params, loss: Tensor, finite: Tensor) -> None:
    """One Adam step on ``loss``; a candidate (row) whose task loss is not finite keeps its weights, and a
    non-finite gradient entry counts as zero, so one diverging law never spoils the others' moments."""
    tensors = list(trained.values())
    grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    masks = [finite.reshape(-1, *([1] * (t.ndim - 1))) for t in tensors]
    for t, g, ok in zip(tensors, grads, masks):
        g = torch.zeros_like(t) if g is None else g
        t.grad = torch.where(ok & torch.isfinite(g), g, torch.zeros_like(g))
    if bool(finite.all()):
        opt.step()
        return
    before = [t.detach().clone() for t in tensors]
    opt.step()
    with torch.no_grad():
        for t, b, ok in zip(tensors, before, masks):
            t.copy_(torch.where(ok, t, b))


def kept_rows(
    opt: torch.optim.Adam, trained: Params, kept: Tensor, lr: dict[str, float], decay: dict[str, float]
) -> tuple[Params, torch.optim.Adam]:
    """The rows ``kept`` (positions among the trained rows) after a halving cut, with their Adam moments."""
    rows = {name: t.detach()[kept].clone().requires_grad_() for name, t in trained.items()}
    new = _adam(rows, lr, decay)
    for name, t in trained.items():
        state = opt.state[t]
        new.state[rows[name]] = {
            "step": state["step"].clone(),
            "exp_avg": state["exp_avg"][kept].clone(),
            "exp_avg_sq": state["exp_avg_sq"][kept].clone(),
        }
    return rows, new


def _write_back(theta: Params, trained: Params, rows: Tensor) -> None:
    """Copy the trained rows' tensors into the full [n, ...] stack."""
    with torch.no_grad():
        for name, t in trained.items():
            theta[name][rows] = t.detach()


@dataclass(frozen=True)
class MetaConfig:
    """Meta-tailoring (Algorithm 1 with a fixed law): ``epochs`` full-batch Adam steps (lr, L2 weight_decay as in the
    baseline's training) on MSE(f_theta'(x), dx/dt), second order through the inner step unless first_order.

    halving: successive halving -- at ``halving_rounds`` evenly spaced epochs, keep the better half of the
    candidates by their current task loss (never fewer than ``keep_min``). integrator: the long-term evaluation
    used to pick the law (on the training trajectories). The inner step, the weights it moves and the rate at
    which the laws' parameters are meta-learned (``law_lr``: each as c0 * (1 + s) with Adam on s, a relative
    step whatever c0's scale, as Algorithm 1 learns the embedding g_phi) come from the ``InnerSetting`` passed
    beside this config.
    """

    epochs: int = 100
    lr: float = 1e-3
    weight_decay: float = 1e-4
    first_order: bool = False
    halving: bool = False
    halving_rounds: int = 2
    keep_min: int = 3
    select: bool = True
    integrator: IntegratorConfig = field(default_factory=IntegratorConfig)

    def __post_init__(self) -> None:
        if self.epochs < 0 or not self.lr > 0 or self.weight_decay < 0:
            raise ConfigError(
                f"bad meta-tailoring config: epochs={self.epochs}, lr={self.lr}, weight_decay={self.weight_decay}"
            )
        if self.keep_min < 1 or self.halving_rounds < 1:
            raise ConfigError(f"keep_min and halving_rounds must be >= 1, got {self.keep_min}, {self.halving_rounds}")

    @classmethod
    def for_data(cls, traj: Trajectories, **overrides) -> MetaConfig:
        """Weight decay as the baseline's (1e-5 on the real pendulum, else 1e-4)."""
        return replace(cls(weight_decay=paper_weight_decay(traj)), **overrides)


@dataclass(frozen=True, kw_only=True)
class MetaResult:
    """params: {name: [n, ...]} each candidate's fine-tuned weights; lrs: [n]; losses: [epochs, n] task loss
    (NaN once dropped); train_rmse: [n] long-term RMSE on the training trajectories (inf if dropped/diverged);
    active: [n] bool (survived halving); best: index of the chosen law (None when nothing finite); seconds:
    {'train': .., 'select': ..}; dt: [n] each candidate's inner-loss time step (for ``evaluate.tailored_field``);
    inner: the inner setting used; law_params: [n, P] each law's parameters after meta-learning (None when
    ``meta_tailor`` got no parameters)."""

    params: Params
    lrs: np.ndarray
    dt: np.ndarray
    losses: np.ndarray
    train_rmse: np.ndarray
    active: np.ndarray
    best: int | None
    seconds: dict
    inner: InnerSetting = InnerSetting()
    law_params: np.ndarray | None = None

    def candidate(self, i: int) -> Params:
        """Candidate i's weights (unstacked)."""
        return {k: v[i] for k, v in self.params.items()}


def meta_tailor(
    params: Params,
    traj: Trajectories,
    laws: LawBatch,
    lrs,
    config: MetaConfig = MetaConfig(),
    dt_scales=None,
    law_params=None,
    *,
    inner: InnerSetting = InnerSetting(),
) -> MetaResult:
    """Meta-tailoring for n = len(lrs) candidates at once: each starts from the pretrained ``params`` (unstacked) and is
    meta-tailored with law i at inner rate ``lrs[i]`` and inner-loss step ``dt_scales[i] * traj.dt`` (default:
    the first of ``inner.dt_scales`` for all), with ``inner``'s step and adapted weights; ``laws`` is batched over
    the same n candidates.

    law_params: optional [n, P] parameters of the laws; ``laws`` is then called as ``laws(X, params [n, P])`` and,
    when ``inner.law_lr > 0``, the parameters are meta-learned with the weights (``MetaResult.law_params``)."""
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
        if inner.law_lr > 0:
            theta[LAW_SHIFT] = torch.zeros_like(c0)
    step_lr = {k: config.lr for k in weights} | {LAW_SHIFT: inner.law_lr}
    decay = {k: config.weight_decay for k in weights} | {LAW_SHIFT: 0.0}

    def bound(shift):
        """The batched law X -> g with the parameters c0 * (1 + shift) (or the fixed ``laws``)."""
        if c0 is None:
            return laws
        consts = c0 if shift is None else c0 * (1 + shift)
        return lambda X: laws(X, consts.to(X.dtype))

    rows = torch.arange(n, device=w.device)
    losses = np.full((config.epochs, n), np.nan)
    cuts = halving_epochs(config.epochs, config.halving_rounds) if config.halving else set()
    scales = np.full(n, inner.dt_scales[0]) if dt_scales is None else np.asarray(dt_scales, dtype=np.float64)
    if scales.shape != (n,) or not (scales > 0).all():
        raise ConfigError(f"dt_scales must hold {n} positive values, got {scales}")
    dt_all = torch.as_tensor(scales * traj.dt, dtype=w.dtype, device=w.device)
    cur = {name: t.clone().requires_grad_() for name, t in theta.items()}  # the rows still trained
    opt = _adam(cur, step_lr, decay)
    with stage(f"meta-tailor {n} law{'s' if n != 1 else ''}", config.epochs, "epochs") as advance:
        for epoch in range(config.epochs):
            k = len(rows)
            shift = None
            if LAW_SHIFT in theta:  # the shift of every law, rows not trained this epoch held constant
                shift = theta[LAW_SHIFT].index_put((rows,), cur[LAW_SHIFT])
            loss_fn = law_inner_loss(subset_laws(bound(shift), rows, n), dt_all[rows])
            pred, _ = tailor_mlp(
                {name: cur[name] for name in weights},
                x.unsqueeze(0).expand(k, *x.shape),
                loss_fn,
                lr_all[rows],
                first_order=config.first_order,
                step=inner.kind,
                adapt=inner.adapt,
            )
            task = (pred - dx).square().mean((1, 2))  # [k]
            finite = torch.isfinite(task)
            losses[epoch, rows.cpu().numpy()] = task.detach().double().cpu().numpy()
            adam_step(opt, cur, torch.where(finite, task, torch.zeros_like(task)).sum(), finite)
            if epoch + 1 in cuts:
                kept = halve(torch.arange(k, device=rows.device), task.detach(), config.keep_min)  # positions
                if len(kept) < k:
                    _write_back(theta, cur, rows)
                    cur, opt = kept_rows(opt, cur, kept, step_lr, decay)
                    rows = rows[kept]
            advance()
    _write_back(theta, cur, rows)
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
        lt = long_term(
            tailored_field(sub, subset_laws(final, rows.cpu(), n), lr_all[rows].cpu(), dt_all[rows].cpu(), inner),
            train_split,
            n_models=len(rows),
            config=config.integrator,
        )
        rmse = np.where(lt.diverged, np.inf, lt.rmse)
        train_rmse[rows.cpu().numpy()] = rmse
        best = pick_best(train_rmse)
        select_seconds = time.perf_counter() - start
    else:
        select_seconds = 0.0
    learned = None
    if c0 is not None:
        shift = theta.get(LAW_SHIFT)
        learned = (c0 if shift is None else c0 * (1 + shift)).detach().cpu().double().numpy()
    return MetaResult(
        params={k: theta[k].detach() for k in weights},
        lrs=lr_all.cpu().double().numpy(),
        dt=scales * traj.dt,
        losses=losses,
        train_rmse=train_rmse,
        active=active,
        best=best,
        seconds={"train": train_seconds, "select": select_seconds},
        inner=inner,
        law_params=learned,
    )
