"""The pipeline's tailoring stages over the filter's survivors (§4.2, App. C): screen -> meta-tailor -> evaluate.

Survivors reach the tailoring core as ONE batched law (``CandidateSpace.evaluate`` on per-candidate inputs), so
the screen scores every survivor x inner learning rate in one vectorised program and meta-tailoring fine-tunes
the top 20 together. The evaluation then runs the same long-term protocol for every method over several seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from ..discovery import FilterResult
from ..dsl import Law
from ..systems import Trajectories, paper_facts
from ..tailoring import (
    Checkpoint,
    CompareConfig,
    Comparison,
    MetaResult,
    ScreenResult,
    compare_methods,
    meta_tailor,
    params_of,
    screen,
    train_baseline,
)
from .config import TailorConfig

#: The screen's figures of a candidate, as ``TailorResult.screened`` names them (and laws.json / candidates.csv).
SCREEN_FIGURES = ("screen_inner_lr", "screen_inner_dt_scale", "screen_loss")
#: Meta-tailoring's figure of a candidate: its long-term RMSE on the training trajectories.
META_FIGURE = "train_error"


@dataclass(frozen=True, eq=False)
class TailorResult:
    """candidates: space indices that were screened (one per functional class of survivors, best class first);
    screen: the screen over them; top: space indices of the screen's top-k; meta: meta-tailoring over ``top``;
    chosen: the space index of the picked law. A candidate is named by its space index in every stage: ``screened``
    and ``tailored`` give each stage's figures under that one identity, so nothing downstream translates the
    stages' own row numbers."""

    candidates: np.ndarray
    screen: ScreenResult
    top: np.ndarray
    meta: MetaResult | None = None
    chosen: int | None = None
    base_params: dict = field(default_factory=dict)
    base_seed: int | None = None  # the seed the screen's MLP was trained with, and its training seconds
    base_seconds: float = 0.0

    def screened(self) -> pd.DataFrame:
        """The screen's figures (``SCREEN_FIGURES``), one row per screened candidate, indexed by space index."""
        values = (self.screen.best_lr, self.screen.best_dt_scale, self.screen.best_loss)
        frame = pd.DataFrame(dict(zip(SCREEN_FIGURES, values, strict=True)), index=self._index(self.candidates))
        return frame.astype(float)

    def tailored(self) -> pd.DataFrame:
        """Meta-tailoring's figure (``META_FIGURE``) per meta-tailored candidate, indexed by space index, in the
        order the candidates were meta-tailored (empty when meta-tailoring did not run)."""
        errors = [] if self.meta is None else self.meta.train_rmse
        top = self.top if self.meta is not None else self.top[:0]
        return pd.DataFrame({META_FIGURE: np.asarray(errors, dtype=float)}, index=self._index(top))

    def meta_params(self, candidate: int) -> np.ndarray | None:
        """Candidate's law parameters after meta-tailoring; None when it was not meta-tailored or none were
        learned."""
        if self.meta is None or self.meta.law_params is None:
            return None
        rows = self._index(self.top).get_indexer([candidate])
        return None if rows[0] < 0 else self.meta.law_params[rows[0]]

    @staticmethod
    def _index(ids: np.ndarray) -> pd.Index:
        return pd.Index(np.asarray(ids, dtype=np.int64), name="candidate")


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


def pretrain(traj: Trajectories, config: TailorConfig, seed: int) -> tuple[dict, float]:
    """The vanilla MLP of HNN's recipe, trained with ``seed``: (its weights {name: tensor}, training seconds)."""
    trained = train_baseline(traj, "mlp", config.train_config(traj, seed))
    return params_of(trained.model), trained.seconds


def run_screen(filt: FilterResult, traj: Trajectories, config: TailorConfig, seed: int) -> TailorResult:
    """The screen on the pretrained MLP for the representatives of the best ``max_screen`` functional classes of
    survivors (other forms of one law would crowd a second law out) x every inner learning rate."""
    candidates = np.asarray(filt.representatives[: config.max_screen], dtype=np.int64)
    if len(candidates) == 0:
        raise ValueError("no candidate passed the conservation filter; nothing to tailor with")
    base, seconds = pretrain(traj, config, seed)
    res = screen(
        base, traj, batched_law(filt.space, filt.params, candidates), len(candidates), config.screen, inner=config.inner
    )
    return TailorResult(candidates, res, candidates[res.top], base_params=base, base_seed=seed, base_seconds=seconds)


def run_meta(filt: FilterResult, traj: Trajectories, screened: TailorResult, config: TailorConfig) -> TailorResult:
    """The meta-tailor stage: meta-tailor the top laws at their best inner setting (all at once; their parameters
    meta-learned with the weights when ``law_lr > 0``), keep the best long-term fit on the training trajectories."""
    top = screened.top
    figures = screened.screened().loc[top]
    lrs = np.array(figures["screen_inner_lr"], dtype=np.float64)
    scales = np.array(figures["screen_inner_dt_scale"], dtype=np.float64)
    res = meta_tailor(
        screened.base_params,
        traj,
        parametrised_law(filt.space, top),
        lrs,
        config.meta_config(traj),
        dt_scales=scales,
        law_params=filt.params[top],
        inner=config.inner,
    )
    chosen = None if res.best is None else int(top[res.best])
    return replace(screened, meta=res, chosen=chosen)


def law_params(filt: FilterResult, tail: TailorResult | None, index: int) -> np.ndarray:
    """Candidate ``index``'s parameters: meta-learned when it was among the meta-tailored laws, else the filter's
    fit."""
    learned = None if tail is None else tail.meta_params(index)
    return filt.params[index] if learned is None else learned


def reference_laws(traj: Trajectories, true_law: str | None) -> dict[str, str]:
    """The comparison's reference formulas: the oracle (true Hamiltonian) and a hand-coded law, when known."""
    refs = {}
    if true_law:
        refs["oracle"] = true_law
    hand_coded = paper_facts(traj.system).hand_coded
    if hand_coded:
        refs["hand-coded"] = hand_coded
    return refs


def run_evaluate(
    law,
    traj: Trajectories,
    config: TailorConfig,
    references: dict[str, str],
    checkpoint: Checkpoint | None = None,
    screened: TailorResult | None = None,
) -> Comparison:
    """Test-set long-term comparison over ``eval_seeds``: vanilla MLP, the discovered law ('noether'), the
    reference laws, HNN — the same protocol for every law: its inner setting picked per seed by the screen or by
    meta-tailoring the whole grid (``eval_lr_select``), then meta-tailored at it (tailoring.compare). checkpoint:
    where finished (method, seed) runs are kept so that an interrupted evaluation resumes; screened: the screen's
    result, whose MLP (trained with the same recipe) is that seed's, not trained again."""
    laws = {"noether": law.torch}
    laws.update({name: Law.reference(text, traj.names).torch for name, text in references.items()})
    # an HNN needs (q, p) pairs: on odd-dimensional data it is left out of the comparison
    baselines = tuple(b for b in config.baselines if b != "hnn" or traj.dim % 2 == 0)
    cfg = CompareConfig(
        seeds=tuple(config.eval_seeds),
        baselines=baselines,
        train=config.train_config(traj),
        meta=config.meta_config(traj),
        lr_select=config.eval_lr_select,
        integrator=config.integrator,
    )
    pretrained = (
        {}
        if screened is None or screened.base_seed is None
        else {screened.base_seed: (screened.base_params, screened.base_seconds)}
    )
    return compare_methods(traj, laws, cfg, inner=config.inner, checkpoint=checkpoint, pretrained=pretrained)
