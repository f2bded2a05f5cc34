"""The pipeline's tailoring stages over the filter's survivors (§4.2, App. C): screen -> meta-tailor -> evaluate.

Survivors reach the tailoring core as ONE batched law (``CandidateSpace.evaluate`` on per-candidate inputs), so
stage 1 scores every survivor x inner learning rate in one vectorised program and stage 2 fine-tunes the top 20
together. The evaluation then runs the same long-term protocol for every method over several seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import sympy
import torch

from ..systems import Trajectories
from ..tailoring import (CompareConfig, Comparison, MetaConfig, MetaResult, ScreenConfig, ScreenResult,
                         TrainConfig, compare_methods, meta_tailor, params_of, screen, train_baseline)
from .filter import FilterResult

#: the hand-coded energy HNN's authors fitted to the real pendulum (paper App. C)
HAND_CODED = {"real-pendulum": "p**2 - 2.4*cos(q)"}


@dataclass(frozen=True)
class TailorConfig:
    """max_screen: survivors (best ratio first) passed to the screen; screen/meta: stage settings (meta None ->
    the data set's defaults); train: the pretrained MLP's recipe (None -> the data set's defaults);
    eval_seeds: seeds of the final comparison; baselines: 'mlp', 'hnn'; device: 'auto' | 'cpu' | 'cuda';
    dt_scale: the inner loss compares g(x) with g(x + f(x) * dt_scale * dt) (1 = the paper's data step; smaller
    values shrink the finite-difference bias of the loss, see README 'Meta-tailoring'); eval_lr_select: how the
    comparison picks each law's inner lr per seed -- 'screen' (stage 1, fast) or 'meta' (meta-tailor at every lr
    of the grid, keep the best long-term fit on the training trajectories; 9x the cost)."""

    max_screen: int = 1000
    screen: ScreenConfig = ScreenConfig()
    meta: MetaConfig | None = None
    train: TrainConfig | None = None
    eval_seeds: tuple[int, ...] = (0, 1, 2)
    baselines: tuple[str, ...] = ("mlp", "hnn")
    device: str = "auto"
    dt_scale: float = 0.1
    eval_lr_select: str = "screen"

    def __post_init__(self):
        if not self.dt_scale > 0:
            raise ValueError(f"dt_scale must be > 0, got {self.dt_scale}")
        if self.max_screen < 1:
            raise ValueError(f"max_screen must be >= 1, got {self.max_screen}")
        if not self.eval_seeds:
            raise ValueError("eval_seeds must name at least one seed")

    def train_config(self, traj: Trajectories, seed: int) -> TrainConfig:
        base = self.train or TrainConfig.for_data(traj)
        return replace(base, seed=seed, device=self.device)

    def meta_config(self, traj: Trajectories) -> MetaConfig:
        return replace(self.meta or MetaConfig.for_data(traj), dt_scale=self.dt_scale)

    def screen_config(self) -> ScreenConfig:
        return replace(self.screen, dt_scale=self.dt_scale)


@dataclass(frozen=True, eq=False)
class TailorResult:
    """candidates: space indices that were screened (best ratio first); screen: stage 1 over them; top: space
    indices of the screen's top-k; meta: stage 2 over ``top``; chosen: the space index of the picked law."""

    candidates: np.ndarray
    screen: ScreenResult
    top: np.ndarray
    meta: MetaResult | None = None
    chosen: int | None = None
    base_params: dict = field(default_factory=dict)


def batched_law(space, params: np.ndarray, indices: np.ndarray) -> Callable[[torch.Tensor], torch.Tensor]:
    """Candidates ``indices`` with their fitted parameters as one law batch: X [n, N, d] -> g [n, N]."""
    sub = space.subset(indices)
    consts = torch.as_tensor(np.nan_to_num(params[indices]), dtype=torch.float64)

    def laws(X: torch.Tensor) -> torch.Tensor:
        return sub.evaluate(X, consts.to(X)).values

    return laws


def pretrain(traj: Trajectories, config: TailorConfig, seed: int) -> dict:
    """The vanilla MLP of HNN's recipe, trained with ``seed``: its weights {name: tensor}."""
    return params_of(train_baseline(traj, "mlp", config.train_config(traj, seed)).model)


def run_screen(filt: FilterResult, traj: Trajectories, config: TailorConfig, seed: int) -> TailorResult:
    """Stage 1 on the pretrained MLP for the best ``max_screen`` survivors x every inner learning rate."""
    candidates = np.asarray(filt.accepted_indices[: config.max_screen], dtype=np.int64)
    if len(candidates) == 0:
        raise ValueError("no candidate passed the conservation filter; nothing to tailor with")
    base = pretrain(traj, config, seed)
    res = screen(base, traj, batched_law(filt.space, filt.params, candidates), len(candidates), config.screen_config())
    return TailorResult(candidates, res, candidates[res.top], base_params=base)


def run_meta(filt: FilterResult, traj: Trajectories, stage1: TailorResult, config: TailorConfig) -> TailorResult:
    """Stage 2: meta-tailor the top laws at their best inner lr (all at once), keep the best long-term fit."""
    top = stage1.top
    pos = {int(c): i for i, c in enumerate(stage1.candidates)}
    lrs = np.array([stage1.screen.best_lr[pos[int(c)]] for c in top])
    res = meta_tailor(stage1.base_params, traj, batched_law(filt.space, filt.params, top), lrs,
                      config.meta_config(traj))
    chosen = None if res.best is None else int(top[res.best])
    return replace(stage1, meta=res, chosen=chosen)


def torch_law(text: str, names: tuple[str, ...]) -> Callable[[torch.Tensor], torch.Tensor]:
    """A reference formula (oracle Hamiltonian, hand-coded law) as a torch callable x [..., d] -> [...].
    No unit check: these are given in the data's own numbers (e.g. the spring's q**2 + p**2)."""
    symbols = sympy.symbols(names)
    fn = sympy.lambdify(symbols, sympy.sympify(text, locals=dict(zip(names, symbols))), modules=torch)

    def law(x: torch.Tensor) -> torch.Tensor:
        out = fn(*(x[..., i] for i in range(x.shape[-1])))
        return torch.as_tensor(out, dtype=x.dtype, device=x.device).expand(x.shape[:-1])

    return law


def reference_laws(traj: Trajectories, true_law: str | None) -> dict[str, str]:
    """The comparison's reference formulas: the oracle (true Hamiltonian) and a hand-coded law, when known."""
    refs = {}
    if true_law:
        refs["oracle"] = true_law
    if traj.name in HAND_CODED:
        refs["hand-coded"] = HAND_CODED[traj.name]
    return refs


def run_evaluate(law, traj: Trajectories, config: TailorConfig, references: dict[str, str]) -> Comparison:
    """Test-set long-term comparison over ``eval_seeds``: vanilla MLP, the discovered law ('noether'), the
    reference laws, HNN — the same protocol for every law: its inner lr picked by the screen (stage 1), then
    meta-tailored at that lr (stage 2), per seed (tailoring.compare)."""
    laws = {"noether": law.torch}
    laws.update({name: torch_law(text, traj.names) for name, text in references.items()})
    # an HNN needs (q, p) pairs: on odd-dimensional data it is left out of the comparison
    baselines = tuple(b for b in config.baselines if b != "hnn" or traj.dim % 2 == 0)
    cfg = CompareConfig(seeds=tuple(config.eval_seeds), baselines=baselines,
                        train=replace(config.train or TrainConfig.for_data(traj), device=config.device),
                        meta=config.meta_config(traj), lr_select=config.eval_lr_select, lrs=config.screen.lrs)
    return compare_methods(traj, laws, cfg, dt_scales={name: config.dt_scale for name in laws})
