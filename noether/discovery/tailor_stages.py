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
from ..tailoring.meta import check_inner, default_lrs
from .filter import FilterResult

#: the hand-coded energy HNN's authors fitted to the real pendulum (paper App. C)
HAND_CODED = {"real-pendulum": "p**2 - 2.4*cos(q)"}


@dataclass(frozen=True)
class TailorConfig:
    """max_screen: survivors (best ratio first) passed to the screen; screen/meta: stage settings (meta None ->
    the data set's defaults); train: the pretrained MLP's recipe (None -> the data set's defaults);
    eval_seeds: seeds of the final comparison; baselines: 'mlp', 'hnn'; device: 'auto' | 'cpu' | 'cuda';
    inner_step: 'newton' (the Gauss-Newton step, our default) or 'sgd' (Eq. 3, the paper); adapt: the weights
    the inner step moves ('all', the paper, or 'last'); lrs: the inner-rate grid (None -> NEWTON_ALPHAS for
    'newton', the paper's 10^k for 'sgd'); dt_scales: the inner loss compares g(x) with
    g(x + f(x) * dt_scale * dt), each law gets the best dt_scale of this grid (1 = the paper's data step; smaller
    values shrink the finite-difference bias of the loss, see README 'Meta-tailoring'); law_lr: stage 2 meta-learns
    the top laws' parameters with the weights at this relative rate (0: the filter's fit is kept, as in the
    paper; see ``MetaConfig.law_lr``); eval_lr_select: how the
    comparison picks each law's (lr, dt_scale) per seed -- 'screen' (stage 1, fast) or 'meta' (meta-tailor at
    every pair of the grid, keep the best long-term fit on the training trajectories)."""

    max_screen: int = 1000
    screen: ScreenConfig = ScreenConfig()
    meta: MetaConfig | None = None
    train: TrainConfig | None = None
    eval_seeds: tuple[int, ...] = (0, 1, 2)
    baselines: tuple[str, ...] = ("mlp", "hnn")
    device: str = "auto"
    inner_step: str = "newton"
    adapt: str = "all"
    lrs: tuple[float, ...] | None = None
    dt_scales: tuple[float, ...] = (0.01, 0.1)
    law_lr: float = 3e-3
    eval_lr_select: str = "meta"

    def __post_init__(self):
        check_inner(self.inner_step, self.adapt, tuple(self.dt_scales))
        if self.eval_lr_select not in ("screen", "meta"):
            raise ValueError(f"eval_lr_select must be 'screen' or 'meta', got '{self.eval_lr_select}'")
        if self.law_lr < 0:
            raise ValueError(f"law_lr must be >= 0, got {self.law_lr}")
        if self.lrs is not None and (not self.lrs or min(self.lrs) < 0):
            raise ValueError(f"inner rates must be non-negative, got {self.lrs}")
        if self.max_screen < 1:
            raise ValueError(f"max_screen must be >= 1, got {self.max_screen}")
        if not self.eval_seeds:
            raise ValueError("eval_seeds must name at least one seed")

    def train_config(self, traj: Trajectories, seed: int) -> TrainConfig:
        base = self.train or TrainConfig.for_data(traj)
        return replace(base, seed=seed, device=self.device)

    @property
    def inner_lrs(self) -> tuple[float, ...]:
        return tuple(self.lrs) if self.lrs is not None else default_lrs(self.inner_step)

    def meta_config(self, traj: Trajectories) -> MetaConfig:
        return replace(self.meta or MetaConfig.for_data(traj), step=self.inner_step, adapt=self.adapt,
                       law_lr=self.law_lr)

    def screen_config(self) -> ScreenConfig:
        return replace(self.screen, lrs=self.inner_lrs, dt_scales=tuple(self.dt_scales), step=self.inner_step,
                       adapt=self.adapt)


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


def parametrised_law(space, indices: np.ndarray) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Candidates ``indices`` as one law batch with free parameters: (X [n, N, d], C [n, P]) -> g [n, N]."""
    sub = space.subset(indices)

    def laws(X: torch.Tensor, consts: torch.Tensor) -> torch.Tensor:
        return sub.evaluate(X, consts.to(X)).values

    return laws


def batched_law(space, params: np.ndarray, indices: np.ndarray) -> Callable[[torch.Tensor], torch.Tensor]:
    """Candidates ``indices`` with their fitted parameters as one law batch: X [n, N, d] -> g [n, N]."""
    laws = parametrised_law(space, indices)
    consts = torch.as_tensor(np.nan_to_num(params[indices]), dtype=torch.float64)
    return lambda X: laws(X, consts)


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
    """Stage 2: meta-tailor the top laws at their best inner setting (all at once; their parameters meta-learned
    with the weights when ``law_lr > 0``), keep the best long-term fit on the training trajectories."""
    top = stage1.top
    pos = {int(c): i for i, c in enumerate(stage1.candidates)}
    lrs = np.array([stage1.screen.best_lr[pos[int(c)]] for c in top])
    scales = np.array([stage1.screen.best_dt_scale[pos[int(c)]] for c in top])
    res = meta_tailor(stage1.base_params, traj, parametrised_law(filt.space, top), lrs, config.meta_config(traj),
                      dt_scales=scales, law_params=filt.params[top])
    chosen = None if res.best is None else int(top[res.best])
    return replace(stage1, meta=res, chosen=chosen)


def law_params(filt: FilterResult, tail: TailorResult | None, index: int) -> np.ndarray:
    """Candidate ``index``'s parameters: meta-learned when it was among stage 2's laws, else the filter's fit."""
    if tail is not None and tail.meta is not None and tail.meta.law_params is not None:
        hits = np.flatnonzero(tail.top == index)
        if len(hits):
            return tail.meta.law_params[hits[0]]
    return filt.params[index]


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
    reference laws, HNN — the same protocol for every law: its inner setting picked per seed by the screen or by
    meta-tailoring the whole grid (``eval_lr_select``), then meta-tailored at it (tailoring.compare)."""
    laws = {"noether": law.torch}
    laws.update({name: torch_law(text, traj.names) for name, text in references.items()})
    # an HNN needs (q, p) pairs: on odd-dimensional data it is left out of the comparison
    baselines = tuple(b for b in config.baselines if b != "hnn" or traj.dim % 2 == 0)
    cfg = CompareConfig(seeds=tuple(config.eval_seeds), baselines=baselines,
                        train=replace(config.train or TrainConfig.for_data(traj), device=config.device),
                        meta=config.meta_config(traj), lr_select=config.eval_lr_select, lrs=config.inner_lrs,
                        dt_scales=tuple(config.dt_scales))
    return compare_methods(traj, laws, cfg)
