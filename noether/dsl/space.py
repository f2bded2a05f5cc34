"""The candidate space: every deduplicated, unit-valid formula up to a depth, with a compiled batched evaluator.

``enumerate_space(["q", "p"], [rad, kg*m**2/s], depth=7)`` enumerates (``dsl.enumerate``), prunes
(``dsl.dedup``) and returns a :class:`CandidateSpace` whose ``report`` counts what each step removed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pint
import torch
from torch import Tensor

from ..errors import ConfigError
from ..units import resolve_units
from .dedup import DedupConfig, deduplicate
from .enumerate import Probes, enumerate_raw
from .estimate import check_space
from .evaluate import Evaluation, Evaluator
from .grammar import DEFAULT_OPERATORS, OPERATORS, Formula
from .units import DimensionBasis


@dataclass(frozen=True)
class SpaceReport:
    """Counts after each pruning step (in order), per size, and the time each phase took.

    steps: ((name, total, {size: count}), ...); the first step, "valid", counts every unit-valid formula before
    any pruning, "commutativity" is the paper's count (41,460 pendulum / 72,372 spring in the paper)."""

    steps: tuple[tuple[str, int, dict], ...]
    notes: dict
    seconds: dict
    depth: int
    max_params: int

    def count(self, step: str) -> int:
        for name, total, _ in self.steps:
            if name == step:
                return total
        raise KeyError(f"no pruning step '{step}'; steps are {[s[0] for s in self.steps]}")

    def table(self) -> list[dict]:
        """One row per step: step, total, then counts per size."""
        return [
            {"step": name, "total": total, **{f"size {s}": c.get(s, 0) for s in range(1, self.depth + 1)}}
            for name, total, c in self.steps
        ]


class CandidateSpace:
    """Candidate conserved quantities g(x; c) over inputs ``names`` with pint ``units``.

    formulas: list[Formula]; n_params [n]; linear [n] (affine in the parameters jointly); report: SpaceReport.
    """

    def __init__(
        self,
        formulas: Sequence[Formula],
        names: Sequence[str],
        units: Sequence[pint.Unit],
        *,
        max_params: int = 2,
        report: SpaceReport | None = None,
    ):
        self.formulas = list(formulas)
        self.names = tuple(names)
        self.units = tuple(units)
        self.max_params = int(max_params)
        self.report = report
        self.n_params = np.array([f.n_params for f in self.formulas], dtype=np.int64)
        self.linear = np.array([f.linear for f in self.formulas], dtype=bool)
        self.sizes = np.array([f.size for f in self.formulas], dtype=np.int64)
        if len(self.names) != len(self.units):
            raise ValueError(f"{len(self.names)} names but {len(self.units)} units")
        bad = [str(f) for f in self.formulas if f.n_params > self.max_params]
        if bad:
            raise ValueError(f"formulas with more than max_params={self.max_params} parameters: {bad[:3]}")
        self._evaluator: Evaluator | None = None

    def __len__(self) -> int:
        return len(self.formulas)

    def __getitem__(self, i: int) -> Formula:
        return self.formulas[i]

    def __repr__(self) -> str:
        return f"CandidateSpace({len(self)} formulas over {', '.join(self.names)}, max_params={self.max_params})"

    def index(self, formula: Formula | str) -> int:
        """Position of a formula (or of its text as ``str(formula)`` renders it with x0, x1 or the names)."""
        if isinstance(formula, str):
            for i, f in enumerate(self.formulas):
                if formula in (str(f), f.render(self.names)):
                    return i
            raise KeyError(f"'{formula}' is not in the space")
        return self.formulas.index(formula)

    def render(self, i: int) -> str:
        """Formula i with the input names (parameters c0, c1, ...)."""
        return self.formulas[i].render(self.names)

    def subset(self, indices) -> CandidateSpace:
        idx = np.asarray(indices, dtype=np.int64).ravel()
        return CandidateSpace(
            [self.formulas[i] for i in idx], self.names, self.units, max_params=self.max_params, report=self.report
        )

    def evaluate(self, X: Tensor, C: Tensor | np.ndarray | None = None, *, memory_mb: float = 512) -> Evaluation:
        """g_i(x; C_i) for every candidate i. X: [N, d] shared, or [n, N, d] one input set per candidate;
        C: [n, max_params] (unused slots ignored; None = zeros). Returns Evaluation(values [n, N], finite [n]),
        values differentiable w.r.t. X and C, in X's dtype and device; non-finite entries are 0 and the
        candidate's ``finite`` flag False. Never raises for numerical trouble."""
        X = torch.as_tensor(X)
        if not X.is_floating_point():
            X = X.double()
        if C is None:
            C = X.new_zeros(len(self), max(self.max_params, 1))
        if self._evaluator is None:
            self._evaluator = Evaluator(self.formulas, len(self.names), self.max_params)
        return self._evaluator(X, C, memory_mb=memory_mb)

    def law(self, i: int, params=None):
        """The Law of candidate i with parameter values ``params`` (the first n_params[i] entries are used)."""
        from .law import Law

        k = int(self.n_params[i])
        values = [] if params is None else [float(v) for v in np.asarray(params, dtype=float).ravel()[:k]]
        if len(values) < k:
            raise ValueError(f"candidate {i} ({self.render(i)}) needs {k} parameter values, got {len(values)}")
        return Law(self.formulas[i], tuple(values), self.names, self.units)


def enumerate_space(
    names: Sequence[str],
    units,
    *,
    depth: int = 7,
    max_params: int = 2,
    seed: int = 0,
    ops: Sequence[str] = DEFAULT_OPERATORS,
    dedup: DedupConfig = DedupConfig(),
    force: bool = False,
) -> CandidateSpace:
    """All unit-valid formulas with at most ``depth`` nodes and ``max_params`` parameters, deduplicated.

    names: input (state) names; units: pint units or strings, a sequence aligned with names or a mapping (a
    missing unit gives the state an independent dimension). seed: the probe points and parameter draws used
    to fingerprint functions. Raises SpaceTooLargeError (``dsl.estimate``) before enumerating when the space
    would not fit in memory, unless ``force``."""
    names = tuple(names)
    if not names:
        raise ConfigError("enumerate_space needs at least one input")
    unknown = [o for o in ops if o not in OPERATORS]
    if unknown:
        raise ConfigError(f"unknown operators {unknown}; known: {sorted(OPERATORS)}")
    units = resolve_units(names, units)
    basis = DimensionBasis(units)
    check_space(len(names), depth, max_params, tuple(ops), input_dims=basis.inputs, zero=basis.zero, force=force)
    t0 = time.perf_counter()
    raw = enumerate_raw(
        list(basis.inputs),
        basis.zero,
        depth=depth,
        max_params=max_params,
        ops=tuple(ops),
        probes=Probes.make(len(names), max(max_params, 1), seed=seed),
    )
    t1 = time.perf_counter()
    dedup_steps = deduplicate(raw, dedup)
    t2 = time.perf_counter()
    kept = dedup_steps[-1].kept
    formulas = raw.formulas(kept)
    t3 = time.perf_counter()
    steps = [(name, sum(per_size.values()), dict(per_size)) for name, per_size in raw.counts.items()]
    notes = {}
    for st in dedup_steps:
        steps.append((st.name, len(st.kept), _per_size(raw.size[st.kept], depth)))
        if st.note:
            notes[st.name] = st.note
    report = SpaceReport(
        tuple(steps), notes, {"enumerate": t1 - t0, "dedup": t2 - t1, "materialise": t3 - t2}, depth, max_params
    )
    return CandidateSpace(formulas, names, units, max_params=max_params, report=report)


def space_for(traj, depth: int = 7, max_params: int = 2, force: bool = False, **kwargs) -> CandidateSpace:
    """The candidate space of a Trajectories' states (names and units); refused before enumerating when its
    estimated memory is over the limit (``dsl.estimate.check_space``), unless ``force``."""
    return enumerate_space(traj.names, traj.units, depth=depth, max_params=max_params, force=force, **kwargs)


def _per_size(sizes: np.ndarray, depth: int) -> dict[int, int]:
    counts = np.bincount(sizes, minlength=depth + 1)
    return {s: int(counts[s]) for s in range(1, depth + 1)}
