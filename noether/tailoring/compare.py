"""The same long-term protocol for every method, over several seeds: vanilla MLP, law meta-tailoring (a
discovered law, the oracle Hamiltonian, a hand-coded law -- any named torch callable), and HNN.

Per seed: the baseline MLP and the HNN are trained with that seed (``TrainConfig``); each law meta-tailors a copy
of that seed's MLP (``MetaConfig``, with the ``InnerSetting``'s step and adapted weights) at one pair of the
setting's grid -- a learning rate (or Newton fraction) and an inner-loss step dt_scale -- chosen either by the
screen (``lr_select='screen'``:
the training MSE after one tailoring step, the screen) or, as the paper describes for one law, by meta-tailoring at
every (lr, dt_scale) of the grid at once and keeping the lowest long-term RMSE on the training trajectories
(``'meta'``, the default). Every model is then evaluated with ``evaluate.long_term`` on the test
trajectories. Summary: mean +- standard error over seeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ..errors import ConfigError
from ..progress import stage
from ..settings import hand_down
from ..systems.trajectories import Trajectories
from .checkpoint import Checkpoint
from .evaluate import long_term, mlp_field, module_field, stack_fields, tailored_field
from .integrate import IntegratorConfig
from .law.setting import InnerSetting
from .loss import LawBatch
from .meta import MetaConfig, meta_tailor
from .mlp import Params, params_of
from .screen import ScreenConfig, screen
from .train import TrainConfig, train_baseline

LawFn = Callable[[torch.Tensor], torch.Tensor]  # one law, x [..., d] -> [...]


@dataclass(frozen=True)
class CompareConfig:
    """seeds: one full run per seed; baselines: which of 'mlp', 'hnn' to include; train/meta: None -> the data
    set's defaults (``TrainConfig.for_data`` / ``MetaConfig.for_data``); lr_select: how each law's pair of the
    inner setting's grid is picked per seed ('screen' or 'meta', see the module docstring)."""

    seeds: tuple[int, ...] = (0, 1, 2)
    baselines: tuple[str, ...] = ("mlp", "hnn")
    train: TrainConfig | None = None
    meta: MetaConfig | None = None
    lr_select: Literal["screen", "meta"] = "meta"
    integrator: IntegratorConfig = field(default_factory=IntegratorConfig)

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ConfigError("compare needs at least one seed")
        unknown = set(self.baselines) - {"mlp", "hnn"}
        if unknown:
            raise ConfigError(f"unknown baseline(s) {sorted(unknown)} (use 'mlp', 'hnn')")
        if self.lr_select not in ("screen", "meta"):
            raise ConfigError(f"lr_select must be 'screen' or 'meta', got '{self.lr_select}'")


@dataclass(frozen=True)
class MethodRun:
    """One method on one seed: test RMSE (pooled over the test trajectories), MSE vs horizon [T], the inner lr
    (laws only), seconds per stage; traj_rmse [M]: each test trajectory's own RMSE."""

    method: str
    seed: int
    rmse: float
    mse_horizon: np.ndarray
    lr: float | None
    diverged: bool
    seconds: dict
    dt_scale: float | None = None
    traj_rmse: np.ndarray | None = None


@dataclass(frozen=True)
class Comparison:
    """All runs; ``table`` one row per (method, seed); ``summary`` mean / sem / n per method (in input order);
    ``horizon(method)`` -> (mean [T], sem [T]); times: [T] relative evaluation times."""

    runs: list[MethodRun]
    times: np.ndarray

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "method": r.method,
                    "seed": r.seed,
                    "rmse": r.rmse,
                    "lr": r.lr,
                    "dt_scale": r.dt_scale,
                    "diverged": r.diverged,
                    **{f"s_{k}": v for k, v in r.seconds.items()},
                }
                for r in self.runs
            ]
        )

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(r.method for r in self.runs))

    @property
    def summary(self) -> pd.DataFrame:
        rows = []
        for m in self.methods:
            vals = np.array([r.rmse for r in self.runs if r.method == m])
            rows.append({"method": m, "rmse_mean": vals.mean(), "rmse_sem": sem(vals), "n": len(vals)})
        return pd.DataFrame(rows)

    def versus(self, baseline: str = "mlp", z: float = 2.0) -> pd.DataFrame:
        """Each other method against ``baseline`` on the same seeds (paired): mean RMSE difference, its standard
        error, the relative change and a verdict -- 'better' / 'worse' when the difference is more than ``z``
        standard errors from 0, else 'no clear difference'; with one seed there is no spread to judge by and
        the verdict says so. Empty when the baseline was not run."""
        rows = []
        if baseline not in self.methods:
            return pd.DataFrame(rows, columns=["method", "difference", "se", "relative", "n", "verdict"])
        base = {r.seed: r.rmse for r in self.runs if r.method == baseline}
        for m in self.methods:
            if m == baseline:
                continue
            pairs = [(r.rmse, base[r.seed]) for r in self.runs if r.method == m and r.seed in base]
            d = np.array([a - b for a, b in pairs])
            mean, err = float(d.mean()), sem(d)
            if len(d) < 2:
                verdict = ("better" if mean < 0 else "worse" if mean > 0 else "the same") + " (one seed: no spread)"
            elif mean + z * err < 0:
                verdict = "better"
            elif mean - z * err > 0:
                verdict = "worse"
            else:
                verdict = "no clear difference"
            rows.append(
                {
                    "method": m,
                    "difference": mean,
                    "se": err,
                    "relative": mean / float(np.mean([b for _, b in pairs])),
                    "n": len(d),
                    "verdict": verdict,
                }
            )
        return pd.DataFrame(rows)

    def horizon(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        curves = np.stack([r.mse_horizon for r in self.runs if r.method == method])
        return curves.mean(0), np.array([sem(c) for c in curves.T])


def sem(values: np.ndarray) -> float:
    """Standard error of the mean (0 for a single value)."""
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def tune_law(
    params, traj: Trajectories, law: LawFn, config: CompareConfig, meta: MetaConfig, inner: InnerSetting
) -> tuple[dict, float, float, float, dict]:
    """Meta-tailor a copy of the MLP ``params`` with one law under ``meta``; returns (weights, inner lr, dt_scale,
    inner dt, seconds). The (lr, dt_scale) pair of ``inner``'s grid comes from the screen or from meta-tailoring
    the whole grid."""
    if config.lr_select == "screen":
        s = screen(params, traj, law, 1, ScreenConfig(top_k=1), inner=inner)
        lrs, scales = s.best_lr[:1], s.best_dt_scale[:1]
        secs = {"screen": s.seconds}
    else:
        grid = inner.pairs()
        lrs, scales = np.array([g[1] for g in grid]), np.array([g[0] for g in grid])
        secs = {}
    res = meta_tailor(params, traj, law, lrs, replace(meta, select=True), dt_scales=scales, inner=inner)
    best = 0 if res.best is None else res.best
    return (
        res.candidate(best),
        float(res.lrs[best]),
        float(scales[best]),
        float(res.dt[best]),
        {**secs, "meta": res.seconds["train"], "select": res.seconds["select"]},
    )


def compare_methods(
    traj: Trajectories,
    laws: Mapping[str, LawFn],
    config: CompareConfig = CompareConfig(),
    *,
    inner: InnerSetting = InnerSetting(),
    settings: Mapping[str, InnerSetting] | None = None,
    checkpoint: Checkpoint | None = None,
    pretrained: Mapping[int, tuple[Params, float]] | None = None,
) -> Comparison:
    """Run the baselines and every named law over ``config.seeds`` with the same long-term protocol: first every
    (method, seed) is trained or tuned, then all of them are evaluated in ONE batched solve (``_evaluate``).
    inner: the inner setting of every law; settings: optional per-law replacements (e.g. another dt_scale);
    checkpoint: where each trained (method, seed) and each seed's MLP are kept, so that a rerun after an
    interruption resumes there (it must belong to this very comparison: same data, laws, config); pretrained:
    {seed: (MLP weights, seconds)} already trained with this comparison's recipe (e.g. the screen's), reused."""
    _, test = traj.split()
    meta = hand_down(config.meta or MetaConfig.for_data(traj), "CompareConfig", integrator=config.integrator)
    checkpoint = checkpoint or Checkpoint(None)
    methods = (
        [m for m in ("mlp",) if m in config.baselines] + list(laws) + [m for m in ("hnn",) if m in config.baselines]
    )
    fitted: list[Fitted] = []
    with stage("runs", len(config.seeds) * len(methods), "method x seed fits") as advance:
        for seed in config.seeds:
            train_cfg = replace(config.train or TrainConfig.for_data(traj), seed=seed)
            done = {m: checkpoint.get(f"seed{seed}-{m}") for m in methods}
            mlp = None
            if any(v is None for m, v in done.items() if m != "hnn"):
                mlp = checkpoint.get(f"seed{seed}-mlp-weights")
                if mlp is None:
                    mlp = (pretrained or {}).get(seed)
                    if mlp is None:
                        trained = train_baseline(traj, "mlp", train_cfg)
                        mlp = (params_of(trained.model), trained.seconds)
                    checkpoint.put(f"seed{seed}-mlp-weights", mlp)
            for method in methods:
                if done[method] is None:
                    done[method] = _fit(
                        method, seed, mlp, traj, laws, config, meta, train_cfg, (settings or {}).get(method, inner)
                    )
                    checkpoint.put(f"seed{seed}-{method}", done[method])
                fitted.append(done[method])
                advance()
    runs, times = _evaluate(fitted, test, laws, config.integrator)
    return Comparison(runs, times)


@dataclass(frozen=True)
class Fitted:
    """One method on one seed, trained (and tuned, for a law) and ready to evaluate. weights: the MLP's (a law's
    meta-tailored copy) or the trained HNN module; lr / dt_scale / dt / setting: a law's inner step."""

    method: str
    seed: int
    kind: Literal["mlp", "law", "hnn"]
    weights: object
    seconds: dict
    lr: float | None = None
    dt_scale: float | None = None
    dt: float | None = None
    setting: InnerSetting | None = None


def _fit(
    method: str,
    seed: int,
    mlp: tuple[dict, float] | None,
    traj: Trajectories,
    laws: Mapping[str, LawFn],
    config: CompareConfig,
    meta: MetaConfig,
    train_cfg: TrainConfig,
    setting: InnerSetting,
) -> Fitted:
    """Train (or tune) one method on one seed."""
    if method == "hnn":
        hnn = train_baseline(traj, "hnn", train_cfg)
        return Fitted(method, seed, "hnn", hnn.model, {"train": hnn.seconds})
    params, seconds = mlp
    if method == "mlp":
        return Fitted(method, seed, "mlp", params, {"train": seconds})
    tuned, lr, scale, dt, tuning = tune_law(params, traj, laws[method], config, meta, setting)
    return Fitted(method, seed, "law", tuned, {"train": seconds, **tuning}, lr, scale, dt, setting)


def _evaluate(
    fitted: list[Fitted], test: Trajectories, laws: Mapping[str, LawFn], integrator: IntegratorConfig
) -> tuple[list[MethodRun], np.ndarray]:
    """Every fitted (method, seed) in one batched long-term solve: the MLPs as one stacked field, the laws of each
    inner setting as one stacked tailored field, each HNN as its own. A run's 'evaluate' seconds are its share
    of that solve."""
    groups: dict[tuple, list[int]] = {}
    for i, f in enumerate(fitted):
        key = (f.kind, f.setting) if f.kind != "hnn" else ("hnn", i)
        groups.setdefault(key, []).append(i)
    order = [i for rows in groups.values() for i in rows]
    parts = []
    for (kind, setting), rows in groups.items():
        if kind == "hnn":
            parts.append((module_field(fitted[rows[0]].weights), 1))
            continue
        params = {k: torch.stack([fitted[i].weights[k] for i in rows]) for k in fitted[rows[0]].weights}
        if kind == "mlp":
            parts.append((mlp_field(params), len(rows)))
        else:
            lr = torch.tensor([fitted[i].lr for i in rows], dtype=torch.float64)
            dt = torch.tensor([fitted[i].dt for i in rows], dtype=torch.float64)
            parts.append(
                (tailored_field(params, law_rows([laws[fitted[i].method] for i in rows]), lr, dt, setting), len(rows))
            )
    field, n = stack_fields(parts)
    start = time.perf_counter()
    lt = long_term(field, test, n_models=n, config=integrator)
    share = (time.perf_counter() - start) / n
    runs: list[MethodRun | None] = [None] * len(fitted)
    for row, i in enumerate(order):
        f = fitted[i]
        runs[i] = MethodRun(
            f.method,
            f.seed,
            float(lt.rmse[row]),
            lt.mse_horizon[row],
            f.lr,
            bool(lt.diverged[row]),
            {**f.seconds, "evaluate": share},
            f.dt_scale,
            lt.traj_rmse[row],
        )
    return runs, lt.times


def law_rows(laws: list[LawFn]) -> LawBatch:
    """Single laws as one batch, X [n, N, d] -> [n, N], row i by laws[i]; rows sharing a law are one call."""
    groups: dict[int, tuple[LawFn, list[int]]] = {}
    for i, law in enumerate(laws):
        groups.setdefault(id(law), (law, []))[1].append(i)
    parts = [(law, torch.tensor(rows)) for law, rows in groups.values()]

    def batch(x: Tensor) -> Tensor:
        out = x.new_empty(x.shape[:2])
        for law, rows in parts:
            out[rows] = law(x[rows])
        return out

    return batch
