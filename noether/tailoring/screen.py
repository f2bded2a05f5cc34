"""The screen stage, before meta-tailoring (App. C): on the pretrained MLP, the training MSE of dx/dt after one
tailoring step with each candidate law at each (rate, dt_scale) of the inner setting's grid; keeps the top-k laws with
their best pair. Vectorised: the laws and their gradients are evaluated once for all candidates; the tailored
forward pass (``law.step``) then runs on blocks of laws for all rates.

Laws come as ONE batched callable ``laws(X [n, N, d]) -> [n, N]`` (candidate i evaluated on X[i]).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..errors import ConfigError
from ..systems.trajectories import Trajectories
from .law.setting import InnerSetting
from .law.step import backprop, newton_rate, tailored_output, trace
from .loss import LawBatch, law_inner_loss
from .mlp import Params
from .train import points


@dataclass(frozen=True)
class ScreenConfig:
    """top_k: laws kept; chunk: laws per vectorised block. The (rate, dt_scale) grid every law is tried at, and
    the step itself, come from the ``InnerSetting`` passed beside this config."""

    top_k: int = 20
    chunk: int = 64

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.chunk < 1:
            raise ConfigError(f"top_k and chunk must be >= 1, got {self.top_k}, {self.chunk}")


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


def screen(
    params: Params,
    traj: Trajectories,
    laws: LawBatch,
    n_laws: int,
    config: ScreenConfig = ScreenConfig(),
    *,
    inner: InnerSetting = InnerSetting(),
) -> ScreenResult:
    """The screen: the training loss after one tailoring step, for each of ``n_laws`` laws x each (dt_scale, rate)
    of ``inner``'s grid.

    params: the pretrained MLP's weights {name: tensor} (unstacked); the screen runs on their device/dtype.
    Vectorised: the law and its gradient are evaluated once for all candidates (on [n_laws, N, d]); the
    tailored forward pass (``law.step``) then runs on blocks of ``config.chunk`` laws for all lrs.
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
    rates, scales = inner.grid, inner.dt_scales
    lrs = torch.tensor(rates, dtype=x.dtype)
    n_s, n_l = len(scales), len(lrs)
    losses = torch.empty(n, n_s, n_l, dtype=torch.float64)
    finite_law = torch.ones(n, dtype=torch.bool)
    for si, scale in enumerate(scales):
        with torch.enable_grad():
            loss = law_inner_loss(laws, traj.dt * scale)(x.unsqueeze(0).expand(n, big_n, d), v)
            (u,) = torch.autograd.grad(loss.sum(), v)
        finite_law &= (torch.isfinite(loss).all(1) & torch.isfinite(u).all(2).all(1)).cpu()
        u = torch.where(torch.isfinite(u), u, torch.zeros_like(u))
        loss = torch.where(torch.isfinite(loss), loss, torch.zeros_like(loss)).detach()
        with torch.no_grad():
            for a in range(0, n, config.chunk):
                rows = slice(a, min(n, a + config.chunk))
                deltas = backprop(p, tr, u[rows])
                unit = newton_rate(p, tr, deltas, loss[rows], 1.0, inner.adapt) if inner.kind == "newton" else 1.0
                for j, lr in enumerate(lrs.tolist()):
                    pred = tailored_output(p, tr, deltas, lr * unit, inner.adapt)
                    losses[rows, si, j] = (pred - dx).square().mean((1, 2)).double().cpu()
    ok = torch.isfinite(losses) & finite_law[:, None, None]  # a law not finite on the training data is out
    losses = torch.where(ok, losses, torch.full_like(losses, math.inf)).numpy()
    flat = losses.reshape(n, n_s * n_l)
    best = flat.argmin(1)
    best_loss = flat[np.arange(n), best]
    best_lr = np.asarray(rates)[best % n_l]
    best_scale = np.asarray(scales)[best // n_l]
    order = np.argsort(best_loss, kind="stable")
    top = order[np.isfinite(best_loss[order])][: config.top_k]
    table = pd.DataFrame(
        {
            "index": np.arange(n),
            "best_lr": best_lr,
            "best_dt_scale": best_scale,
            "best_loss": best_loss,
            "gain": base / best_loss,
        }
    )
    for si, scale in enumerate(scales):
        for j, lr in enumerate(rates):
            table[f"loss@{lr:.3g}" + (f"/dt{scale:g}" if n_s > 1 else "")] = losses[:, si, j]
    return ScreenResult(
        losses,
        np.asarray(rates),
        base,
        best_lr,
        best_loss,
        top,
        table,
        time.perf_counter() - start,
        np.asarray(scales),
        best_scale,
    )
