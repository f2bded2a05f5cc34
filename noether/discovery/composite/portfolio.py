"""The default composite search: one library policy for every system, a small portfolio of libraries whose laws
are merged (issue 28). No per-system setting: the inputs come from the data and its units (``auto.py``), the
libraries' sizes from the number of inputs alone.

- *forms*: every monomial of degree <= 2 in the states and the cubic ones x_i·x_j² (products of the states and
  their squares), with sums as long as a quadratic form in all the states (d(d+1)/2 terms, at most
  ``max_form_terms``): every quadratic invariant of a linear system, cross terms included;
- *sums*: terms of up to three nodes over the states and the derived inputs with the default operators, and the
  products of two terms of at most four nodes together (x·vy² in a Runge-Lenz vector, ω1·ω2·cos(θ1 - θ2) in a
  double pendulum's energy), up to ``sum_terms`` terms; when that library is over ``sum_library``, products
  shrink first, then the term depth: the budget decides, not the system;
- *relative*: when the data hold two bodies' Cartesian positions (``auto.auto_relative``: the pairing whose
  relative coordinates move by a law of their own), the states and the terms over the relative coordinates and
  the distance alone, products of up to ``relative_products`` nodes (a relative Runge-Lenz vector is cubic in
  them; over every state it would be a sum of ~16 monomials). Its operators are ``relative_ops``: a law over
  Cartesian coordinates is rational in them, and sums are the search's own job, not its terms'.

Each library runs the unchanged search (``search.composite_laws``: elimination paths, refits on random
sequences, the drift verdict); the merged laws are ranked as one library's are and reduced to functionally
independent ones again.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

from ...dsl import enumerate_space
from ...errors import DataError
from ...systems import Trajectories
from ..drift import CONSERVED
from ..independence import independent_set, state_gradients, widest_set
from ..score import sequence_set
from .auto import AutoInputs, auto_derived, auto_relative
from .config import CompositeConfig
from .inputs import named_inputs
from .search import CompositeLaw, CompositeResult, composite_laws


@dataclass(frozen=True)
class DefaultPolicy:
    """inputs: the derived-input families (``auto.AutoInputs``; ``families=()`` switches them off); base: the
    search settings every library shares (rule, drift, seed, window, ...); max_form_terms: the longest quadratic
    form; sum_terms: terms per law of the *sums* library; product_nodes: its products' total size; sum_library:
    its largest size (unit-valid terms, reciprocals and products, before the constant ones are dropped), the time
    budget: an elimination path costs ~K^3 log K;
    relative_ops / relative_products: the *relative* library's operators and product size;
    forms / sums / relative: whether each library runs."""

    inputs: AutoInputs = AutoInputs()
    base: CompositeConfig = CompositeConfig(beam=32)
    max_form_terms: int = 10
    sum_terms: int = 6
    product_nodes: int = 4
    sum_library: int = 1000
    relative_ops: tuple[str, ...] = ("mul", "div", "square")
    relative_products: int = 3
    forms: bool = True
    sums: bool = True
    relative: bool = True


def default_libraries(traj: Trajectories, policy: DefaultPolicy = DefaultPolicy()) -> list[tuple[str, CompositeConfig]]:
    """The portfolio's (name, settings), from the states' number, units and values alone."""
    x = sequence_set(traj, "train", policy.base.window).x
    d = traj.dim
    out = []
    if policy.forms:
        form = dataclasses.replace(
            policy.base,
            term_depth=2,
            ops=("square",),
            products=2,
            derived=(),
            max_terms=min(d * (d + 1) // 2, policy.max_form_terms),
        )
        out.append(("forms", form))
    if policy.sums:
        derived = auto_derived(traj, x, policy.inputs)
        out.append(("sums", _fit_budget(traj, policy, derived)))
    coords, distance = auto_relative(traj, policy.inputs) if policy.relative else ((), "")
    if coords:
        relative = dataclasses.replace(
            policy.base,
            term_depth=1,
            ops=policy.relative_ops,
            derived=(("r_" + "_".join(name[2:] for name, _ in coords[:2]), distance),),
            relative=coords,
            relative_products=policy.relative_products,
            max_terms=policy.sum_terms,
        )
        out.append(("relative", relative))
    return out


def describe(traj: Trajectories, settings: CompositeConfig | DefaultPolicy) -> str:
    """One line saying which libraries a composite search runs and with which derived inputs (for the report)."""
    named = default_libraries(traj, settings) if isinstance(settings, DefaultPolicy) else [("library", settings)]
    return "; ".join(f"{name}: {_library_line(config)}" for name, config in named)


def _library_line(config: CompositeConfig) -> str:
    """'term depth 3, products of 4 nodes, up to 6 terms, derived r = sqrt(x**2 + y**2)'."""
    products = [f"products of {config.products}-node terms" if config.products else ""]
    products += [f"products of {config.product_nodes} nodes" if config.product_nodes else ""]
    derived = ", ".join(f"{n} = {f}" for n, f in config.derived)
    parts = [f"term depth {config.term_depth}", *products, f"up to {config.max_terms} terms"]
    parts += [f"derived {derived}" if derived else "no derived inputs"]
    if config.relative:
        relative = ", ".join(f"{n} = {f}" for n, f in config.relative)
        parts += [f"relative {relative} (terms over them of {config.relative_products} nodes)"]
    return ", ".join(p for p in parts if p)


def _fit_budget(traj: Trajectories, policy: DefaultPolicy, derived: tuple[tuple[str, str], ...]) -> CompositeConfig:
    """The *sums* library at the largest products, then term depth, whose size is within ``sum_library``."""
    x = sequence_set(traj, "train", policy.base.window).x
    inputs = named_inputs(traj, x[:1], derived)
    names, units = [*traj.names, *inputs.names], [*traj.units, *inputs.units]
    for depth, nodes in ((3, policy.product_nodes), (3, 3), (3, 2), (2, 3), (2, 2), (2, 0)):
        config = dataclasses.replace(
            policy.base, term_depth=depth, product_nodes=nodes, derived=derived, max_terms=policy.sum_terms
        )
        if _size(names, units, config) <= policy.sum_library:
            return config
    return dataclasses.replace(config, derived=())


def _size(names: list[str], units: list, config: CompositeConfig) -> int:
    """The library's size before its terms are evaluated: unit-valid terms, their reciprocals and the products."""
    space = enumerate_space(names, units, depth=config.term_depth, max_params=0, ops=config.ops, seed=config.seed)
    sizes = np.array([getattr(f, "size", 0) for f in space.formulas])
    joint = (sizes[:, None] <= config.products) & (sizes[None, :] <= config.products)
    joint |= sizes[:, None] + sizes[None, :] <= config.product_nodes
    return 2 * len(sizes) + int(np.triu(joint).sum())


def composite_search(traj: Trajectories, settings: CompositeConfig | DefaultPolicy) -> CompositeResult:
    """One library (``CompositeConfig``: an expert's settings) or the default portfolio (``DefaultPolicy``)."""
    if isinstance(settings, DefaultPolicy):
        return default_laws(traj, settings)
    return composite_laws(traj, settings)


def default_laws(traj: Trajectories, policy: DefaultPolicy = DefaultPolicy()) -> CompositeResult:
    """Every portfolio library searched, their laws merged: conserved first, then fewest terms, best ratio; a
    law already found (its values equal to another's up to scale and offset) kept once; the independent ones
    taken in that order, or the best-conditioned set where that holds more (``independence.widest_set``: laws of
    one relation, a two-body problem's relative angular momentum and Runge-Lenz vector, crowd out its total
    angular momentum in ranking order)."""
    libraries: list[str] = []
    laws: list[CompositeLaw] = []
    logs: list[str] = []
    searched, seconds = 0, {}
    for name, config in default_libraries(traj, policy):
        start = time.perf_counter()
        try:
            res = composite_laws(traj, config)
        except DataError as exc:  # a library the unit check leaves empty or too large: the others still run
            logs.append(f"{name}: skipped ({exc})")
            continue
        offset = len(libraries)
        libraries += res.library
        laws += [dataclasses.replace(law, terms=tuple(t + offset for t in law.terms)) for law in res.laws]
        searched += res.searched
        seconds[name] = time.perf_counter() - start
        took = ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items())
        logs.append(f"{name}: {len(res.library)} terms ({_library_line(config)}; {took})")
    start = time.perf_counter()
    laws = _distinct(sorted(laws, key=_rank), traj)
    seq = sequence_set(traj, "train", policy.base.window)
    states = torch.as_tensor(seq.x[np.random.default_rng(policy.base.seed).permutation(len(seq.x))[:512]])
    conserved = [i for i, law in enumerate(laws) if law.verdict == CONSERVED]
    grads = [state_gradients(laws[i].law.torch, states) for i in conserved]
    tol = policy.base.independence_tol
    independent = [conserved[i] for i in max(independent_set(grads, tol=tol), widest_set(grads, tol=tol), key=len)]
    seconds["merge"] = time.perf_counter() - start
    return CompositeResult(libraries, laws, independent, searched, seconds, tuple(logs))


def _rank(law: CompositeLaw) -> tuple:
    """Conserved first, then fewest terms, then best ratio (as ``search.composite_laws`` ranks)."""
    return (law.verdict != CONSERVED, len(law.terms), -min(law.ratio, 1e12))


def _distinct(laws: list[CompositeLaw], traj: Trajectories) -> list[CompositeLaw]:
    """``laws`` without the ones whose values on the training states match an earlier one's (|corr| > 1 - 1e-9)."""
    x = sequence_set(traj, "train").x
    x = x[:: max(1, len(x) // 2000)]
    kept: list[CompositeLaw] = []
    values: list[np.ndarray] = []
    for law in laws:
        v = law.law.numpy(x)
        v = (v - v.mean()) / max(float(v.std()), 1e-300)
        if not any(abs(float(np.mean(v * w))) > 1 - 1e-9 for w in values):
            kept.append(law)
            values.append(v)
    return kept
