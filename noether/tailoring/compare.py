"""The same long-term protocol for every method, over several seeds: vanilla MLP, law meta-tailoring (a
discovered law, the oracle Hamiltonian, a hand-coded law -- any named torch callable), and HNN.

Per seed: the baseline MLP and the HNN are trained with that seed (``TrainConfig``); each law meta-tailors a copy
of that seed's MLP (``MetaConfig``, with the ``InnerSetting``'s step and adapted weights) at one pair of the
setting's grid -- a learning rate (or Newton fraction) and an inner-loss step dt_scale -- chosen either by the
screen (``lr_select='screen'``:
the training MSE after one tailoring step, stage 1) or, as the paper describes for one law, by meta-tailoring at
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

from ..progress import stage
from ..systems.trajectories import Trajectories
from .checkpoint import Checkpoint
from .evaluate import IntegratorConfig, long_term, mlp_field, module_field, tailored_field
from .meta import MetaConfig, meta_tailor
from .mlp import params_of
from .screen import ScreenConfig, screen
from .setting import InnerSetting
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
            raise ValueError("compare needs at least one seed")
        unknown = set(self.baselines) - {"mlp", "hnn"}
        if unknown:
            raise ValueError(f"unknown baseline(s) {sorted(unknown)} (use 'mlp', 'hnn')")
        if self.lr_select not in ("screen", "meta"):
            raise ValueError(f"lr_select must be 'screen' or 'meta', got '{self.lr_select}'")


@dataclass(frozen=True)
class MethodRun:
    """One method on one seed: test RMSE, MSE vs horizon [T], the inner lr (laws only), seconds per stage."""

    method: str
    seed: int
    rmse: float
    mse_horizon: np.ndarray
    lr: float | None
    diverged: bool
    seconds: dict
    dt_scale: float | None = None


@dataclass(frozen=True)
class Comparison:
    """All runs; ``table`` one row per (method, seed); ``summary`` mean / sem / n per method (in input order);
    ``horizon(method)`` -> (mean [T], sem [T]); times: [T] relative evaluation times."""

    runs: list[MethodRun]
    times: np.ndarray

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{"method": r.method, "seed": r.seed, "rmse": r.rmse, "lr": r.lr,
                              "dt_scale": r.dt_scale, "diverged": r.diverged,
                              **{f"s_{k}": v for k, v in r.seconds.items()}} for r in self.runs])

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
            rows.append({"method": m, "difference": mean, "se": err,
                         "relative": mean / float(np.mean([b for _, b in pairs])), "n": len(d), "verdict": verdict})
        return pd.DataFrame(rows)

    def horizon(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        curves = np.stack([r.mse_horizon for r in self.runs if r.method == method])
        return curves.mean(0), np.array([sem(c) for c in curves.T])


def sem(values: np.ndarray) -> float:
    """Standard error of the mean (0 for a single value)."""
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def tune_law(params, traj: Trajectories, law: LawFn, config: CompareConfig, meta: MetaConfig,
             inner: InnerSetting) -> tuple[dict, float, float, float, dict]:
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
    return res.candidate(best), float(res.lrs[best]), float(scales[best]), float(res.dt[best]), \
        {**secs, "meta": res.seconds["train"], "select": res.seconds["select"]}


def compare_methods(traj: Trajectories, laws: Mapping[str, LawFn], config: CompareConfig = CompareConfig(), *,
                    inner: InnerSetting = InnerSetting(),
                    settings: Mapping[str, InnerSetting] | None = None,
                    checkpoint: Checkpoint | None = None) -> Comparison:
    """Run the baselines and every named law over ``config.seeds`` with the same long-term protocol.
    inner: the inner setting of every law; settings: optional per-law replacements (e.g. another dt_scale);
    checkpoint: where each finished (method, seed) run and each seed's trained MLP are kept, so that a rerun
    after an interruption resumes there (it must belong to this very comparison: same data, laws, config)."""
    _, test = traj.split()
    meta = replace(config.meta or MetaConfig.for_data(traj), integrator=config.integrator)
    checkpoint = checkpoint or Checkpoint(None)
    methods = [m for m in ("mlp",) if m in config.baselines] + list(laws) + \
        [m for m in ("hnn",) if m in config.baselines]
    runs: list[MethodRun] = []
    times = None
    with stage("runs", len(config.seeds) * len(methods), "method x seed runs") as advance:
        for seed in config.seeds:
            train_cfg = replace(config.train or TrainConfig.for_data(traj), seed=seed)
            done = {m: checkpoint.get(f"seed{seed}-{m}") for m in methods}
            mlp = None
            if any(v is None for m, v in done.items() if m != "hnn"):
                mlp = checkpoint.get(f"seed{seed}-mlp-weights")
                if mlp is None:
                    trained = train_baseline(traj, "mlp", train_cfg)
                    mlp = (params_of(trained.model), trained.seconds)
                    checkpoint.put(f"seed{seed}-mlp-weights", mlp)
            for method in methods:
                if done[method] is None:
                    done[method] = _run_method(method, seed, mlp, traj, test, laws, config, meta, train_cfg,
                                               (settings or {}).get(method, inner))
                    checkpoint.put(f"seed{seed}-{method}", done[method])
                run, times = done[method]
                runs.append(run)
                advance()
    return Comparison(runs, times)


def _run_method(method: str, seed: int, mlp: tuple[dict, float] | None, traj: Trajectories, test: Trajectories,
                laws: Mapping[str, LawFn], config: CompareConfig, meta: MetaConfig, train_cfg: TrainConfig,
                setting: InnerSetting) -> tuple[MethodRun, np.ndarray]:
    """One method on one seed: (its run, the evaluation's relative times)."""
    if method == "hnn":
        hnn = train_baseline(traj, "hnn", train_cfg)
        fld, lr, scale, secs = module_field(hnn.model), None, None, {"train": hnn.seconds}
    elif method == "mlp":
        params, seconds = mlp
        fld, lr, scale, secs = mlp_field(params), None, None, {"train": seconds}
    else:
        params, seconds = mlp
        law = laws[method]
        tuned, lr, scale, dt, tuning = tune_law(params, traj, law, config, meta, setting)
        fld, secs = tailored_field(tuned, law, lr, dt, setting), {"train": seconds, **tuning}
    start = time.perf_counter()
    lt = long_term(fld, test, config=config.integrator)
    run = MethodRun(method, seed, float(lt.rmse[0]), lt.mse_horizon[0], lr, bool(lt.diverged[0]),
                    {**secs, "evaluate": time.perf_counter() - start}, scale)
    return run, lt.times
