"""The discover pipeline: data -> candidate space -> conservation filter -> screen -> meta-tailor -> evaluate.

``discover(traj, config)`` runs the stages up to ``config.stage`` and returns a :class:`DiscoveryResult`;
``result.write(out_dir)`` writes ``candidates.csv``, ``laws.json`` and ``report.md`` (+ PNG) atomically. With
``config.cache_dir`` each stage's result is cached on disk by joblib.Memory, keyed by the data's fingerprint and
the configuration of that stage and the ones before it, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Memory

from .. import progress
from ..io import atomic_path
from ..systems import Trajectories
from .filter import FilterConfig, FilterResult, filter_candidates
from .laws_file import RankedLaw, write_laws
from .tailor_stages import (TailorConfig, TailorResult, law_params, reference_laws, run_evaluate, run_meta,
                            run_screen)

STAGES = ("enumerate", "filter", "screen", "meta-tailor", "evaluate")

# the paper's survivor counts after its 100x random-sequence rule (§4.2)
PAPER_SURVIVORS = {"pendulum": 210, "spring": 219}


@dataclass(frozen=True)
class DiscoverConfig:
    """depth: formula size (nodes); max_params: parameters per formula; stage: the last stage to run;
    seed: enumeration probes, random sequences, the pretrained MLP; filter / tailor: the stages' settings;
    true_law: the oracle for the evaluation (SymPy text; None: the built-in system's, if any);
    cache_dir: joblib.Memory folder for stage results (None: no caching)."""

    depth: int = 7
    max_params: int = 2
    stage: str = "evaluate"
    seed: int = 0
    filter: FilterConfig = FilterConfig()
    tailor: TailorConfig = TailorConfig()
    true_law: str | None = None
    cache_dir: str | None = None

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ValueError(f"unknown stage '{self.stage}'; stages are {', '.join(STAGES)}")
        if self.depth < 1:
            raise ValueError(f"depth must be >= 1, got {self.depth}")
        if self.max_params < 0:
            raise ValueError(f"max_params must be >= 0, got {self.max_params}")

    def runs(self, stage: str) -> bool:
        return STAGES.index(stage) <= STAGES.index(self.stage)


@dataclass(frozen=True, eq=False)
class DiscoveryResult:
    """What the stages produced: the space (enumerate), the filter result (filter), the tailoring stages
    (screen, meta-tailor) and the test comparison (evaluate); timings in seconds per stage."""

    traj: Trajectories
    config: DiscoverConfig
    space: object
    filter: FilterResult | None = None
    tailor: TailorResult | None = None
    evaluation: object | None = None
    timings: dict = field(default_factory=dict)

    @property
    def law(self):
        """The discovered law: the meta-tailoring pick, else the best survivor; None when nothing survived."""
        laws = self.laws()
        return laws[0].law if laws else None

    def laws(self) -> list[RankedLaw]:
        """Ranked laws with their figures (see ``report.ranked_laws``)."""
        from .report import ranked_laws

        return ranked_laws(self)

    def candidates(self) -> pd.DataFrame:
        """The per-candidate table of the last stage run (screen figures joined when the screen ran)."""
        if self.filter is not None:
            table = self.filter.table.copy()
            if self.tailor is not None:
                s = self.tailor.screen
                idx = self.tailor.candidates
                table["inner_lr"] = np.nan
                table["screen_loss"] = np.nan
                table["inner_dt_scale"] = np.nan
                table.loc[table.index[idx], "inner_lr"] = s.best_lr
                table.loc[table.index[idx], "inner_dt_scale"] = s.best_dt_scale
                table.loc[table.index[idx], "screen_loss"] = s.best_loss
            return table
        space = self.space
        return pd.DataFrame({
            "formula": [space.render(i) for i in range(len(space))],
            "n_params": np.asarray(space.n_params), "linear": np.asarray(space.linear),
            "size": [f.size for f in space.formulas],
        })

    def metadata(self, command: str | None = None) -> dict:
        """Run metadata for laws.json: data, configuration, versions, timings."""
        from .. import __version__

        return {
            "data": self.traj.summary(), "fingerprint": self.traj.fingerprint(), "config": repr(self.config),
            "stage": self.config.stage, "seed": self.config.seed, "timings_s": self.timings,
            "n_candidates": len(self.space), "n_accepted": None if self.filter is None else self.filter.n_accepted,
            "versions": {"noether": __version__, "torch": torch.__version__, "numpy": np.__version__},
            "command": command, "cpus": os.cpu_count(), "device": self.config.tailor.device,
        }

    def write(self, out_dir: str | Path, command: str | None = None) -> list[Path]:
        """Write ``candidates.csv``, and from the filter stage on ``laws.json`` and ``report.md`` (+ PNG)."""
        from .report import write_report

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
            written += write_report(self, out, laws, meta)
        return written


def discover(traj: Trajectories, config: DiscoverConfig = DiscoverConfig()) -> DiscoveryResult:
    """Run the discovery stages on ``traj`` up to ``config.stage``."""
    from ..dsl import space_for  # the DSL is only needed when a space is built
    from ..systems.registry import SYSTEMS

    memory = Memory(config.cache_dir, verbose=0)
    key = traj.fingerprint()
    timings: dict[str, float] = {}

    def run(stage: str, fn, *args, ignore=()):
        start = time.perf_counter()
        with progress.stage(f"{stage}", total=None):
            value = memory.cache(fn, ignore=list(ignore))(*args)
        timings[stage] = time.perf_counter() - start
        return value

    start = time.perf_counter()
    space = space_for(traj, depth=config.depth, max_params=config.max_params, seed=config.seed)
    timings["enumerate"] = time.perf_counter() - start
    result = DiscoveryResult(traj, config, space, timings=timings)
    if not config.runs("filter"):
        return result
    base = (key, config.depth, config.max_params, config.seed)
    filt = run("filter", _filter_stage, base, config.filter, space, traj, ignore=("space", "traj"))
    if not config.runs("screen") or filt.n_accepted == 0:
        return DiscoveryResult(traj, config, filt.space, filt, timings=timings)
    tail = run("screen", _screen_stage, (base, config.filter), config.tailor, filt, traj, config.seed,
               ignore=("filt", "traj"))
    if config.runs("meta-tailor"):
        tail = run("meta-tailor", _meta_stage, (base, config.filter, config.tailor, config.seed), filt, traj, tail,
                   config.tailor, ignore=("filt", "traj", "stage1"))
    evaluation = None
    if config.runs("evaluate") and tail.chosen is not None:
        law = filt.space.law(tail.chosen, law_params(filt, tail, tail.chosen))
        true_law = config.true_law or (SYSTEMS[traj.name].true_law if traj.name in SYSTEMS else None)
        refs = reference_laws(traj, true_law)
        evaluation = run("evaluate", _evaluate_stage, (law.to_json(), key, config.tailor, refs), law, traj,
                         config.tailor, refs, ignore=("law", "traj"))
    return DiscoveryResult(traj, config, filt.space, filt, tail, evaluation, timings)


# Stage functions: the first argument is the cache key (data fingerprint + configuration so far); the big objects
# after it are ignored by joblib's hashing.

def _filter_stage(key, config: FilterConfig, space, traj: Trajectories) -> FilterResult:
    return filter_candidates(space, traj, config)


def _screen_stage(key, config: TailorConfig, filt: FilterResult, traj: Trajectories, seed: int) -> TailorResult:
    return run_screen(filt, traj, config, seed)


def _meta_stage(key, filt: FilterResult, traj: Trajectories, stage1: TailorResult, config: TailorConfig
                ) -> TailorResult:
    return run_meta(filt, traj, stage1, config)


def _evaluate_stage(key, law, traj: Trajectories, config: TailorConfig, refs: dict):
    return run_evaluate(law, traj, config, refs)
