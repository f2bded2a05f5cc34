"""What the filter stage is asked (``FilterConfig``) and what it returns (``FilterResult``): every candidate's fit
and verdict, the accepted laws and the independent ones."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..device import check_device, resolve_device
from ..dsl import CandidateSpace
from ..errors import ConfigError
from ..settings import RUN
from .classes import LawClasses
from .cluster import check_scheduler
from .drift import ACCEPT_LEVELS, APPROXIMATE, CONSERVED, DriftRule
from .fit_gradient import GradientConfig
from .null import AcceptanceRule
from .single import RANDOM_SEQUENCE, check_score, score_line


@dataclass(frozen=True)
class FilterConfig:
    """How candidates are fitted and filtered.

    rule: the acceptance rule (``AcceptanceRule(min_ratio=100)`` is the paper's); gradient: the fitter for
    non-affine candidates; window: sequence length (None: whole trajectories, see ``score.sequences``);
    seed: random sequences and restarts; device: "auto" | "cpu" | "cuda"; jobs: CPU worker threads over chunks;
    scheduler: run the chunks on a Dask cluster instead -- its scheduler's address ("tcp://10.0.0.5:8786") or
    "local" (a LocalCluster on this machine for the run); None (default): on this process (``cluster.py``);
    memory_mb: working-memory budget per chunk; top: how many of the best functional classes of survivors (each
    law with all its forms, ``classes.py``) are examined for independence;
    independence_tol: smallest singular value of stacked unit gradients that counts as independent;
    drift: the test that labels each accepted law conserved or approximate (``drift.py``); accept: the least a
    law must be to be accepted -- 'approximate' (default: every law that passes ``rule``, labelled) or
    'conserved' (approximate laws are rejected); noise_std: ((state, sigma), ...) the measurement noise of the
    states, for group data (no time order, so no noise floor from differences along time): g's white-noise
    variance is then sigma propagated through its gradient, E[sum_j (dg/dx_j)^2 sigma_j^2]; score: 'auto' (the
    paper's random-sequence null on whole trajectories, the derivative score when fewer than 8 recordings train,
    ``single.py``), 'random-sequence', 'derivative' or 'coordinate-shuffle' (``contrast.py``).
    device, jobs, scheduler and memory_mb say how the work runs, not what it finds: they do not key the stage
    cache (``settings.run_free``).
    """

    rule: AcceptanceRule = AcceptanceRule()
    gradient: GradientConfig = GradientConfig()
    window: int | None = None
    seed: int = 0
    device: str = field(default="auto", metadata=RUN)
    jobs: int = field(default=1, metadata=RUN)
    scheduler: str | None = field(default=None, metadata=RUN)
    memory_mb: int = field(default=512, metadata=RUN)
    top: int = 50
    independence_tol: float = 0.1
    drift: DriftRule = DriftRule()
    accept: str = APPROXIMATE
    noise_std: tuple[tuple[str, float], ...] = ()
    score: str = "auto"

    def __post_init__(self):
        check_score(self.score)
        if isinstance(self.noise_std, dict):
            object.__setattr__(self, "noise_std", tuple(sorted(self.noise_std.items())))
        bad = [(k, v) for k, v in self.noise_std if not (v >= 0 and np.isfinite(v))]
        if bad:
            raise ConfigError(f"noise_std values must be finite and >= 0, got {bad}")
        check_device(self.device)
        if self.jobs == 0 or self.jobs < -1:
            raise ConfigError(f"jobs must be >= 1 or -1 (all cores), got {self.jobs}")
        check_scheduler(self.scheduler)
        if self.memory_mb < 16:
            raise ConfigError(f"memory_mb must be >= 16, got {self.memory_mb}")
        if self.top < 1:
            raise ConfigError(f"top must be >= 1, got {self.top}")
        if self.accept not in ACCEPT_LEVELS:
            raise ConfigError(f"accept must be one of {', '.join(ACCEPT_LEVELS)}, got '{self.accept}'")

    def torch_device(self) -> torch.device:
        return resolve_device(self.device)


@dataclass(frozen=True, eq=False)
class FilterResult:
    """Every candidate's fit and verdict.

    table: one row per candidate, in space order, with the columns of ``candidates.COLUMNS``; verdict:
    'conserved' or 'approximate' for accepted candidates (``drift.py``), else 'rejected'; params [n, max_params];
    accepted_indices: accepted candidates, best first (ratio descending, capped at 1e12, then fewer parameters,
    then smaller formula), conserved and approximate alike; classes: every accepted law's functional class (its
    forms) and representative, best class first (``classes.py``); the table's ``law_class``, ``forms`` and
    ``other_forms`` columns show them; independent_indices: the representatives of a functionally independent set
    of the top CONSERVED classes (``survivors.rank_survivors``), best class first; approximate_indices: the same
    among the approximate ones; timings in seconds.
    """

    space: CandidateSpace
    table: pd.DataFrame
    params: np.ndarray
    accepted_indices: np.ndarray
    independent_indices: list[int]
    rule: AcceptanceRule
    sequences_shape: tuple[int, int, int]
    timings: dict = field(default_factory=dict)
    approximate_indices: list[int] = field(default_factory=list)
    sequence_lengths: np.ndarray | None = None  # [m] the points of each sequence (they may differ)
    score: str = RANDOM_SEQUENCE  # the score used ('random-sequence', 'derivative', ..., ``single.py``) ...
    score_reason: str = ""  # ... and why
    unidentifiable: str | None = None  # why the data cannot identify any law (nothing was fitted), else None
    classes: LawClasses = field(default_factory=LawClasses.empty)

    def laws(self, k: int | None = None) -> list:
        """The top k accepted laws (all when k is None), best first."""
        idx = self.accepted_indices if k is None else self.accepted_indices[:k]
        return [self.space.law(int(i), self.params[i]) for i in idx]

    @property
    def representatives(self) -> np.ndarray:
        """One space index per functional class of accepted laws (its simplest form), best class first."""
        return self.classes.representatives

    def forms(self, index: int) -> int:
        """How many accepted forms candidate ``index``'s functional class holds (0 when rejected)."""
        return len(self.classes.forms(index))

    @property
    def independent(self) -> list:
        """The functionally independent conserved laws."""
        return [self.space.law(int(i), self.params[i]) for i in self.independent_indices]

    @property
    def approximate(self) -> list:
        """The functionally independent approximate laws (accepted, but drifting beyond noise)."""
        return [self.space.law(int(i), self.params[i]) for i in self.approximate_indices]

    def verdict(self, index: int) -> str:
        """'conserved', 'approximate' or 'rejected' for candidate ``index`` of the space."""
        return str(self.table["verdict"].iloc[int(index)])

    @property
    def score_line(self) -> str:
        """Which score judged the candidates, and why (``single.score_line``)."""
        return score_line(self.score, self.score_reason or "as asked")

    @property
    def n_conserved(self) -> int:
        return int((self.table["verdict"] == CONSERVED).sum())

    @property
    def n_accepted(self) -> int:
        return len(self.accepted_indices)
