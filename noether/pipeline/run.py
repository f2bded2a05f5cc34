"""The discover pipeline: data -> candidate space -> conservation filter -> screen -> meta-tailor -> evaluate.

``discover(traj, config)`` runs the stages up to ``config.stage`` and returns a :class:`DiscoveryResult`;
``result.write(out_dir)`` writes ``candidates.csv``, ``laws.json`` and ``report.md`` (+ PNG) atomically. With
``config.cache_dir`` each stage's result is cached on disk (``cache.StageCache``: keyed by the data's fingerprint,
the configuration of that stage and the ones before it, and the code), so an interrupted run resumes where it
stopped.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import progress
from ..discovery import FilterResult, filter_candidates
from ..discovery.composite import composite_search
from ..discovery.merge import with_composite
from ..dsl import CandidateSpace, space_for
from ..dsl.grammar import DEFAULT_OPERATORS
from ..errors import DataError
from ..io import atomic_path
from ..settings import run_free
from ..systems import SYSTEMS, Trajectories
from ..tailoring import Checkpoint, Comparison
from ..version import __version__
from .cache import StageCache, code_version, timed
from .config import STAGES, DiscoverConfig
from .display import laws_frame, ranked, result_html, result_latex
from .figures import draw_law, law_view, sample_states
from .laws_file import RankedLaw, write_laws
from .ranking import ranked_laws
from .report import write_report
from .stages import SCREEN_FIGURES, TailorResult, law_params, reference_laws, run_evaluate, run_meta, run_screen

__all__ = ["discover", "DiscoveryResult", "DiscoverConfig", "STAGES"]


@dataclass(frozen=True, eq=False)
class DiscoveryResult:
    """What the stages produced: the space (enumerate), the filter result (filter), the tailoring stages
    (screen, meta-tailor) and the test comparison (evaluate); timings: seconds per stage -- for a stage in
    ``cached`` (read from the stage cache) the seconds it took when it was computed."""

    traj: Trajectories
    config: DiscoverConfig
    space: CandidateSpace
    filter: FilterResult | None = None
    tailor: TailorResult | None = None
    evaluation: Comparison | None = None
    timings: dict = field(default_factory=dict)
    cached: tuple[str, ...] = ()

    @property
    def law(self):
        """The discovered law: the meta-tailoring pick, else the best survivor; None when nothing survived."""
        laws = self.laws()
        return laws[0].law if laws else None

    def laws(self) -> list[RankedLaw]:
        """Ranked laws with their figures, functionally equal forms merged (see ``ranking.ranked_laws``)."""
        return list(self._ranked)

    @functools.cached_property
    def _ranked(self) -> tuple[RankedLaw, ...]:
        return tuple(ranked_laws(self.filter, self.tailor, self.evaluation, self.traj.sample_states()))

    def to_frame(self) -> pd.DataFrame:
        """The ranked laws as a DataFrame with candidates.csv's columns, in laws.json's order (``display.py``)."""
        return laws_frame(self)

    def plot_law(self, rank: int = 1):
        """The figure of the law of ``rank`` (1 = the best) as a matplotlib Figure: its value on test trajectories
        beside random sequences, the drift trend of an approximate law, level sets (``figures.py``)."""
        r = ranked(self, rank)
        return draw_law(law_view(r.law, sample_states(self.traj, seed=self.config.seed), r.scores, r.rank))

    def _repr_html_(self) -> str:
        return result_html(self)

    def _repr_latex_(self) -> str:
        return result_latex(self)

    def candidates(self) -> pd.DataFrame:
        """The per-candidate table of the last stage run (screen figures joined when the screen ran)."""
        if self.filter is not None:
            table = self.filter.table.copy()
            if self.tailor is not None:
                screened = self.tailor.screened()
                for name in SCREEN_FIGURES:
                    table[name] = np.nan
                    table.loc[table.index[screened.index], name] = screened[name].to_numpy()
            return table
        space = self.space
        return pd.DataFrame(
            {
                "formula": [space.render(i) for i in range(len(space))],
                "n_params": np.asarray(space.n_params),
                "linear": np.asarray(space.linear),
                "size": [f.size for f in space.formulas],
            }
        )

    def metadata(self, command: str | None = None) -> dict:
        """Run metadata for laws.json: data, configuration, versions, timings."""
        return {
            "data": self.traj.summary(),
            "fingerprint": self.traj.fingerprint(),
            "config": repr(self.config),
            "stage": self.config.stage,
            "seed": self.config.seed,
            "timings_s": self.timings,
            "cached_stages": list(self.cached),
            "n_candidates": len(self.space),
            "n_accepted": None if self.filter is None else self.filter.n_accepted,
            "versions": {
                "noether": __version__,
                "code": code_version(),
                "torch": torch.__version__,
                "numpy": np.__version__,
            },
            "command": command,
            "cpus": os.cpu_count(),
            "device": self.config.tailor.device,
            # results can differ in the last digits with the number of torch threads (reduction order)
            "torch_threads": torch.get_num_threads(),
        }

    def write(self, out_dir: str | Path, command: str | None = None, figures: bool = True) -> list[Path]:
        """Write ``candidates.csv``, and from the filter stage on ``laws.json`` and ``report.md`` (+ PNG figures
        unless ``figures`` is False)."""
        out = Path(out_dir)
        path = out / "candidates.csv"
        with atomic_path(path) as tmp:
            self.candidates().to_csv(tmp, index=False)
        written = [path]
        if self.filter is not None:
            laws = self.laws()
            meta = self.metadata(command)
            write_laws(out / "laws.json", laws, meta)
            written.append(out / "laws.json")
            written += write_report(self, out, laws, meta, figures)
        return written


def discover(
    traj: Trajectories,
    config: DiscoverConfig = DiscoverConfig(),
    *,
    on_filter: Callable[[DiscoveryResult], None] | None = None,
) -> DiscoveryResult:
    """Run the discovery stages on ``traj`` up to ``config.stage``. ``on_filter(result)`` is called as soon as the
    accepted laws are known (after the filter and the composite search), before the tailoring stages run."""
    if not traj.ordered and config.runs("screen"):
        raise DataError(
            f"'{traj.name}' is group data (sets of states without time order): the tailoring stages "
            "(screen, meta-tailor, evaluate) predict trajectories in time and need times; run the "
            "discovery stages only (--stage filter, or DiscoverConfig(stage='filter'))"
        )
    cache = StageCache(config.cache_dir)
    timings: dict[str, float] = {}
    cached: list[str] = []

    def run(stage: str, key, fn, *args):
        """``fn(*args)`` as the stage ``stage``, cached on ``key``: everything its result depends on."""
        with progress.stage(stage):
            done = cache.run(stage, key, functools.partial(timed, fn, *args))
        timings[stage] = done.seconds
        if done.cached:
            cached.append(stage)
        return done.value

    start = time.perf_counter()
    with progress.stage("enumerate"):
        space = space_for(
            traj, depth=config.depth, max_params=config.max_params, seed=config.seed, force=config.force, ops=config.ops
        )
    timings["enumerate"] = time.perf_counter() - start
    result = DiscoveryResult(traj, config, space, timings=timings, cached=())
    if not config.runs("filter"):
        return result
    keys = StageKeys.of(traj, config)
    filt = run("filter", keys.filter, filter_candidates, space, traj, config.filter_stage)
    if config.composite_stage is not None:
        comp = run("composite", keys.composite, composite_search, traj, config.composite_stage)
        filt = with_composite(filt, comp, traj, config.filter_stage)
    if on_filter is not None:
        on_filter(DiscoveryResult(traj, config, filt.space, filt, timings=dict(timings), cached=tuple(cached)))
    if not config.runs("screen") or filt.n_accepted == 0:
        return DiscoveryResult(traj, config, filt.space, filt, timings=timings, cached=tuple(cached))
    tail = run("screen", keys.screen, run_screen, filt, traj, config.tailor, config.seed)
    if config.runs("meta-tailor"):
        tail = run("meta-tailor", keys.meta, run_meta, filt, traj, tail, config.tailor)
    evaluation = None
    if config.runs("evaluate") and tail.chosen is not None:
        law = filt.space.law(tail.chosen, law_params(filt, tail, tail.chosen))
        true_law = config.true_law or (SYSTEMS[traj.system].true_law if traj.system else None)
        refs = reference_laws(traj, true_law)
        eval_key = (law.to_json(), keys.data, run_free(config.tailor), refs)
        checkpoint = Checkpoint(cache.scratch("evaluate", eval_key))
        evaluation = run("evaluate", eval_key, run_evaluate, law, traj, config.tailor, refs, checkpoint, tail)
        checkpoint.clear()  # the whole comparison is in the stage cache now
    return DiscoveryResult(traj, config, filt.space, filt, tail, evaluation, timings, tuple(cached))


@dataclass(frozen=True)
class StageKeys:
    """What each stage's cached result depends on, as typed values: the data's fingerprint and the settings of that
    stage and of the ones before it, less how the work is run (``settings.run_free``: threads, device, ...)."""

    data: str
    filter: tuple
    composite: tuple
    screen: tuple
    meta: tuple

    @classmethod
    def of(cls, traj: Trajectories, config: DiscoverConfig) -> StageKeys:
        data = traj.fingerprint()
        ops = () if config.ops == DEFAULT_OPERATORS else (config.ops,)  # default: the keys of earlier caches
        filt = (data, config.depth, config.max_params, *ops, run_free(config.filter_stage))
        comp = (filt, None if config.composite_stage is None else run_free(config.composite_stage))
        screen = (comp, run_free(config.tailor))
        return cls(data, filt, comp, screen, (screen, "meta"))
