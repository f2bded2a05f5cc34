"""Composite laws: sparse sums g = Σ_k c_k t_k of enumerated terms that are constant along trajectories.

Brute-force enumeration stops at ~7 nodes, but real energies are sums of several small terms (a Kepler or
Hénon-Heiles Hamiltonian, a two-body energy). Here the DSL enumerates a *library* of small parameter-free terms
t_k (unit-valid, deduplicated up to a·t + b), and the coefficients of every support S (a set of terms) come from
the within-sequence and total scatter of the terms, W and T (``score.scatter_matrices``): the c minimising
S = cᵀW_S c / cᵀT_S c is the smallest generalised eigenvector -- exact, no gradient descent. A coefficient carries
whatever unit makes its term match the others (a parameter, as in the filter).

Supports are searched by beam search over their size (1, 2, ... ``max_terms``): each kept support is extended
by every library term, and the ``beam`` lowest-S supports of each size go on. A support whose terms are linearly
dependent on the data (T_S singular, e.g. sin² + cos²) is no law; one that contains an accepted law is that law
plus noise and is neither reported nor extended. Every support is judged by the filter's own rule
(``null.AcceptanceRule``): its coefficients refitted on random sequences give S_random, and the noise floor
comes from the terms' white-noise scatter. The accepted laws are then reduced to functionally independent ones
(``independence.py``). ``derived`` inputs (``r = sqrt(x**2 + y**2)``, a relative coordinate ``x1 - x2``) join
the library's inputs and are substituted back, so a law reads in the data's own states.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.linalg
import sympy
import torch

from ..dsl import Law, enumerate_space
from ..dsl.grammar import DEFAULT_OPERATORS
from ..errors import DataError
from ..systems import Trajectories
from ..threads import single_thread
from .drift import CONSERVED, DriftRule, measure_drift
from .independence import independent_set, state_gradients
from .null import AcceptanceRule, ratio_of
from .score import Segments, scatter_matrices, sequence_set, white_noise_variance, white_scatter


@dataclass(frozen=True)
class CompositeConfig:
    """term_depth: nodes per library term; ops: the terms' operators; derived: extra inputs, name -> formula over
    the states; max_terms: terms per law; beam: supports kept per size; max_library: a library larger than this
    is refused (raise term_depth's cost knowingly); rule: the acceptance rule (the filter's); degenerate: the
    smallest eigenvalue of a support's standardised total scatter below which its terms are dependent;
    thresholds: the sparse regressions' thresholds on standardised coefficients; max_regression: the largest
    library the regressions run on (their cost grows as its fourth power); paths: backward-elimination paths,
    each from the library less some found laws' terms; ridges: the paths' pencil regularisations, each a tree of
    paths (``_elimination_path``; chosen with ``benchmarks/bench_systems.py``: alone, 1e-3 found the most true
    laws at noise 0.01 and 0.05 on the double pendulum, Kepler and Hénon-Heiles among 1e-9, 1e-4, 1e-3, 1e-2,
    but lost Lotka-Volterra's, which 1e-9 finds: both run);
    products: the library also holds the product of every pair of terms of at most this many nodes (0: none), so
    a monomial such as x²·y (Hénon-Heiles) or x·vy² (Runge-Lenz) is one term without enumerating depth 4-5;
    independence_tol: the median smallest singular value of the unit gradients below which a law counts as a
    function of the ones before it (``independence.independent_set``; the filter's 0.1 undercounts the true
    laws themselves on orbits: Kepler's energy, L and Runge-Lenz x give a median of 0.069, the two-body
    problem's six 0.019, while a law fitted as a function of others stays near its coefficients' error);
    seed: the random sequences; window: sequence length (None: whole trajectories, as the filter); drift: the
    test that labels each accepted law conserved or approximate (the filter's)."""

    term_depth: int = 3
    ops: tuple[str, ...] = DEFAULT_OPERATORS
    derived: tuple[tuple[str, str], ...] = ()
    max_terms: int = 4
    beam: int = 64
    thresholds: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.5)
    max_regression: int = 600
    paths: int = 16
    ridges: tuple[float, ...] = (1e-9, 1e-3)
    products: int = 0
    independence_tol: float = 0.02
    max_library: int = 3000
    rule: AcceptanceRule = AcceptanceRule()
    degenerate: float = 1e-6
    seed: int = 0
    window: int | None = None
    drift: DriftRule = DriftRule()

    def __post_init__(self):
        if isinstance(self.derived, Mapping):
            object.__setattr__(self, "derived", tuple(self.derived.items()))
        if self.term_depth < 1 or self.max_terms < 1 or self.beam < 1:
            raise ValueError(f"term_depth, max_terms and beam must be >= 1, got {self.term_depth}, "
                             f"{self.max_terms}, {self.beam}")
        if self.products < 0 or self.paths < 0 or not self.independence_tol > 0:
            raise ValueError(f"products and paths must be >= 0 and independence_tol > 0, got {self.products}, "
                             f"{self.paths}, {self.independence_tol}")


@dataclass(frozen=True)
class CompositeLaw:
    """One accepted sparse sum: its library terms (indices), coefficients (first term's = 1), scores and Law."""

    terms: tuple[int, ...]
    coefficients: np.ndarray
    s_true: float
    s_random: float
    ratio: float
    excess: float
    law: Law
    verdict: str = CONSERVED

    @property
    def expression(self) -> str:
        return self.law.display()


@dataclass(frozen=True, eq=False)
class CompositeResult:
    """library: the terms' SymPy texts (over the states and derived inputs); laws: accepted, conserved before
    approximate, then fewest terms and best ratio first; independent: positions in ``laws`` of a functionally
    independent subset of the conserved ones; searched: how many supports were scored; seconds by step."""

    library: list[str]
    laws: list[CompositeLaw]
    independent: list[int]
    searched: int
    seconds: dict = field(default_factory=dict)

    @property
    def independent_laws(self) -> list[CompositeLaw]:
        return [self.laws[i] for i in self.independent]


def composite_laws(traj: Trajectories, config: CompositeConfig = CompositeConfig()) -> CompositeResult:
    """Search sparse sums of library terms for laws conserved along ``traj``'s training sequences."""
    with single_thread():  # small dense solves: a second BLAS thread only costs (threads.py)
        return _composite(traj, config)


def _composite(traj: Trajectories, config: CompositeConfig) -> CompositeResult:
    seconds = {}
    start = time.perf_counter()
    seq = sequence_set(traj, "train", config.window)
    names, units, x, subs = _inputs(traj, seq.x, config.derived)
    texts, values = _library(names, units, x, config)
    seconds["library"] = time.perf_counter() - start
    start = time.perf_counter()
    index = Segments.contiguous(seq.lengths)
    within, total = (m[0].numpy() for m in scatter_matrices(torch.as_tensor(values[None]), index))
    keep = _spanning(total, config.degenerate)
    texts, values = [texts[i] for i in keep], values[keep]
    within, total = within[np.ix_(keep, keep)], total[np.ix_(keep, keep)]
    feats = torch.as_tensor(values[None])
    within_r, _ = (m[0].numpy() for m in scatter_matrices(feats, Segments.shuffled(seq.lengths, config.seed)))
    noise = white_scatter(feats, index)[0].numpy() if (seq.lengths > 3).all() else None
    dof = float((seq.lengths - 1).sum())
    scale = 1 / np.sqrt(np.diag(total))
    std = [m * scale[:, None] * scale[None, :] for m in (within, within_r, total)]
    white = None if noise is None else noise * scale[:, None] * scale[None, :] * dof  # excess = c'Wc / c'(dof D)c
    found, searched = _search(*std, config, white)
    seconds["search"] = time.perf_counter() - start

    start = time.perf_counter()
    accepted, _ = config.rule.decide(np.array([f.s_true for f in found]), np.array([f.s_random for f in found]),
                                     np.array([f.excess for f in found]), [None] * len(found))
    laws = [f._replace(coef=_raw(f, scale)) for f, ok in zip(found, accepted) if ok]
    objects: dict[int, Law] = {}  # built when needed: at noise 0 thousands of supersets of a law are accepted

    def law_of(i: int) -> Law:
        if i not in objects:
            objects[i] = _law(texts, laws[i].terms, laws[i].coef, subs, traj)
        return objects[i]
    verdicts = _verdicts(laws, law_of, values, seq.x, index, config.drift)
    ratios = ratio_of(np.array([law.s_true for law in laws]), np.array([law.s_random for law in laws])) if laws \
        else []
    ranked = sorted(range(len(laws)), key=lambda i: (verdicts[i] != CONSERVED, len(laws[i].terms),
                                                     -min(ratios[i], 1e12)))
    kept: list[int] = []  # an accepted law plus more terms is that law plus noise, unless it turns conserved
    for i in ranked:
        if not any(set(laws[j].terms) <= set(laws[i].terms) and (verdicts[j] == CONSERVED or
                                                                 verdicts[i] != CONSERVED) for j in kept):
            kept.append(i)
    result = [CompositeLaw(laws[i].terms, laws[i].coef, laws[i].s_true, laws[i].s_random, float(ratios[i]),
                           laws[i].excess, law_of(i), verdicts[i]) for i in kept]
    states = torch.as_tensor(seq.x[np.random.default_rng(config.seed).permutation(len(seq.x))[:512]])
    grads = [state_gradients(law.law.torch, states) for law in result if law.verdict == CONSERVED]
    independent = independent_set(grads, tol=config.independence_tol) if grads else []
    seconds["laws"] = time.perf_counter() - start
    return CompositeResult(texts, result, independent, searched, seconds)


def _raw(support: _Support, scale: np.ndarray) -> np.ndarray:
    """A support's coefficients on the raw (unstandardised) terms, the first one 1."""
    c = support.coef * scale[list(support.terms)]
    return c / c[0]


def _verdicts(laws: list[_Support], law_of, values: np.ndarray, states: np.ndarray, index: Segments,
              rule: DriftRule) -> list[str]:
    """Each accepted support (raw coefficients) labelled conserved or approximate by the filter's drift test
    (``drift.py``) on its values along the sequences, Σ c_k t_k from the library's values [K, N]. One that fails
    the spikiness test alone is tested again with each value's noise scale propagated from the states' through
    its Law (``law_of(i)``, see ``noise_scale``): a sum with log x or 1/r is far noisier where x or r is small,
    and that unevenness is not drift."""
    if not laws:
        return []
    g = torch.as_tensor(np.stack([law.coef @ values[list(law.terms)] for law in laws]))
    s_true = np.array([law.s_true for law in laws])
    plain = measure_drift(g, index, s_true, rule)
    verdicts = plain.verdicts
    again = np.flatnonzero(plain.only_spiky).tolist()  # the noise scale changes test 3 alone
    if again:
        scale = noise_scale([law_of(i) for i in again], states, index)
        for i, v in zip(again, measure_drift(g[again], index, s_true[again], rule, scale=scale).verdicts):
            verdicts[i] = v
    return verdicts


def noise_scale(laws: list[Law], states: np.ndarray, index: Segments) -> torch.Tensor:
    """Each law's measurement-noise standard deviation at each point [n, N], to first order: the states' white-
    noise variances (from third differences along the sequences) through the law's gradient. Floored at 1e-3 of
    its median, where a gradient vanishes."""
    x = torch.as_tensor(states)
    variance = white_noise_variance(x.T.contiguous(), index)  # [d]
    grads = torch.stack([state_gradients(law.torch, x) for law in laws])  # [n, N, d]
    scale = (grads.square() * variance).sum(-1).sqrt()
    return scale.clamp_min(1e-3 * scale.median(-1, keepdim=True).values.clamp_min(1e-300))


# ------------------------------------------------------------------------------------------------ the library


def _inputs(traj: Trajectories, x: np.ndarray, derived: tuple[tuple[str, str], ...]):
    """The library's inputs: the states and the derived quantities (names, unit texts, values [N, d'], and the
    SymPy substitutions that turn a derived name back into its formula)."""
    names = list(traj.names)
    units = list(traj.units)
    cols = [x]
    subs = {}
    for name, text in derived:
        if name in names:
            raise ValueError(f"derived input '{name}' has the name of an input")
        law = Law.parse(text, traj.names, dict(zip(traj.names, traj.units)))
        cols.append(law.numpy(x)[:, None])
        names.append(name)
        units.append(law.unit)
        subs[sympy.Symbol(name)] = law.sympy()
    return names, units, np.concatenate(cols, axis=1), subs


def _library(names: list[str], units: list, x: np.ndarray, config: CompositeConfig
             ) -> tuple[list[str], np.ndarray]:
    """Parameter-free unit-valid terms up to ``term_depth`` nodes, their reciprocals, and the products of pairs of
    terms of at most ``products`` nodes, as SymPy texts and values [K, N]; terms not finite or constant on the
    data are dropped (and those linearly dependent on simpler ones later, ``_spanning``)."""
    space = enumerate_space(names, units, depth=config.term_depth, max_params=0, ops=config.ops,
                            seed=config.seed)
    formulas = list(space.formulas)
    factors = [i for i, f in enumerate(formulas) if f.size <= config.products]
    pairs = [(a, b) for n, a in enumerate(factors) for b in factors[n:]]
    if 2 * len(formulas) + len(pairs) > config.max_library:
        raise DataError(f"the composite library would hold {2 * len(formulas) + len(pairs)} terms (depth "
                        f"{config.term_depth}, products of terms up to {config.products} nodes, {len(names)} inputs), "
                        f"over max_library={config.max_library}; lower term_depth or products, or raise max_library")
    X = torch.as_tensor(x)
    vals = space.evaluate(X, torch.zeros(len(formulas), 0, dtype=X.dtype)).values.numpy()
    texts = [f.render(tuple(names)) for f in formulas]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = 1 / vals
        prods = np.array([vals[a] * vals[b] for a, b in pairs]).reshape(len(pairs), vals.shape[1])
    texts += [f"1/({t})" for t in texts] + [f"({texts[a]})*({texts[b]})" for a, b in pairs]
    vals = np.concatenate([vals, inv, prods])
    spread = np.nanstd(vals, axis=1)
    ok = np.isfinite(vals).all(1) & (spread > 1e-12 * np.maximum(1, np.abs(vals).max(1)))
    return [t for t, k in zip(texts, ok) if k], vals[ok]


def _spanning(total: np.ndarray, tol: float) -> list[int]:
    """Library terms in order (simplest first), each kept only when it is not a linear combination of the kept
    ones plus a constant on the data (x + y beside x and y; sin² beside cos²): such a term adds no law, only
    non-unique coefficients that spread a sparse law over many terms. Greedy Gram-Schmidt on the standardised
    total scatter: kept when the part of its variance outside the kept terms' span exceeds ``tol``."""
    scale = 1 / np.sqrt(np.diag(total))
    t = total * scale[:, None] * scale[None, :]
    basis = np.zeros((0, len(t)))  # rows: orthonormal directions (in the T inner product) of the kept terms
    kept = []
    for j in range(len(t)):
        proj = basis @ t[:, j] if len(kept) else np.zeros(0)  # <e_k, t_j> for the kept directions e_k
        resid = t[j, j] - proj @ proj
        if resid > tol:
            kept.append(j)
            coef = np.zeros(len(t))
            coef[j] = 1.0
            coef -= proj @ basis
            basis = np.vstack([basis, coef / np.sqrt(resid)])
    return kept


# ------------------------------------------------------------------------------------------------ the search


class _Support(NamedTuple):
    """A set of library terms the search scored: its coefficients (standardised terms, or raw once rescaled),
    S on the data and on random sequences (refitted there), and within / white-noise variance."""

    terms: tuple[int, ...]
    coef: np.ndarray
    s_true: float
    s_random: float
    excess: float


def _search(within: np.ndarray, within_r: np.ndarray, total: np.ndarray, config: CompositeConfig,
            white: np.ndarray | None = None):
    """Beam search over supports, joined at each size by the sparse regressions' supports (see the module
    docstring) -> (the supports the rule could accept, supports scored). Every support the rule could accept is
    returned for judging; only one that already looks conserved -- constant to round-off, or varying no more
    than white noise explains (``white``: the standardised white-noise scatter times the degrees of freedom) --
    stops its supersets, while an approximate one keeps growing (a correction term may make it conserved)."""
    k = len(total)
    found: list[_Support] = []
    blocked: list[tuple[int, ...]] = []
    regressed = _eliminations(within, within_r, total, config)
    if k <= config.max_regression:
        regressed |= _regressions(within, config)
    beam = [()]
    searched = 0
    for size in range(1, config.max_terms + 1):
        cands = sorted({tuple(sorted((*s, j))) for s in beam for j in range(k) if j not in s}
                       | {s for s in regressed if len(s) == size})
        cands = [s for s in cands if not any(set(f) <= set(s) for f in blocked)]
        if not cands:
            break
        supports = np.array(cands)
        s_true, coef, ok = _smallest(within, total, supports, config.degenerate)
        searched += len(cands)
        s_rand = _smallest(within_r, total, supports, config.degenerate)[0]
        passing = ok & (ratio_of(s_true, s_rand) >= config.rule.least_ratio)
        excess = _excess(within, white, supports, coef) if white is not None else np.full(len(cands), np.nan)
        settled = passing & ((s_true <= config.drift.exact**2) | (excess <= config.rule.whiteness))
        found += [_Support(cands[i], coef[i], float(s_true[i]), float(s_rand[i]), float(excess[i]))
                  for i in np.flatnonzero(passing)]
        blocked.extend(cands[i] for i in np.flatnonzero(settled))
        order = np.argsort(np.where(ok & ~settled, s_true, np.inf), kind="stable")
        beam = [cands[i] for i in order[: config.beam] if np.isfinite(s_true[i]) and ok[i] and not settled[i]]
    return found, searched


def _regressions(within: np.ndarray, config: CompositeConfig) -> set[tuple[int, ...]]:
    """Supports from sparse regression (as SINDy-PI): each term in turn as the left-hand side, regressed on all
    the others within sequences by sequentially thresholded least squares, at every threshold of
    ``config.thresholds`` (on standardised terms). It reaches sums none of whose parts is conserved (Kepler's
    energy: no pair of its three terms is), which the beam, grown from conserved-looking parts, can miss."""
    k = len(within)
    reg = within + 1e-9 * np.trace(within) / k * np.eye(k)
    inv = np.linalg.inv(reg)  # all first regressions at once: min c'Wc with c_lhs = 1 is W^-1 e_lhs, rescaled
    found = set()
    for lhs in range(k):
        active = np.delete(np.arange(k), lhs)
        first = -inv[active, lhs] / inv[lhs, lhs]
        for lam in sorted(config.thresholds):  # each threshold starts from the last one's support (nested)
            for _ in range(20):
                if first is not None:
                    coef, first = first, None
                else:
                    coef = scipy.linalg.solve(reg[np.ix_(active, active)], -reg[active, lhs], assume_a="pos")
                keep = np.abs(coef) >= lam
                if keep.all() or not keep.any():
                    break
                active = active[keep]
            if not keep.any():
                break
            if keep.all() and len(active) < config.max_terms:
                found.add(tuple(sorted((lhs, *active.tolist()))))
    return found


def _eliminations(within: np.ndarray, within_r: np.ndarray, total: np.ndarray, config: CompositeConfig
                  ) -> set[tuple[int, ...]]:
    """Supports from backward elimination paths (``_elimination_path``). The first path, from the whole library,
    ends in the law of smallest S; each law a path passes (the sparsest support on it that the rule's ratio could
    accept) opens new paths, one per term of that law, with the term left out of the library, so the next path
    ends in another law (Kepler: the angular momentum first, then, without x·vy, the energy). Breadth first, at
    most ``config.paths`` paths for each of ``config.ridges``."""
    found: set[tuple[int, ...]] = set()
    for ridge in config.ridges:
        found |= _elimination_tree(within, within_r, total, config, ridge)
    return found


def _elimination_tree(within: np.ndarray, within_r: np.ndarray, total: np.ndarray, config: CompositeConfig,
                      ridge: float) -> set[tuple[int, ...]]:
    """The paths of ``_eliminations`` at one ridge."""
    queue: list[frozenset[int]] = [frozenset()]
    seen: set[frozenset[int]] = set()
    found: set[tuple[int, ...]] = set()
    while queue and len(seen) < config.paths:
        left_out = queue.pop(0)
        if left_out in seen:
            continue
        seen.add(left_out)
        path = _elimination_path(within, total, np.array([i for i in range(len(within)) if i not in left_out]),
                                 config.max_terms, ridge)
        found.update(path)
        for support in sorted(path, key=len):
            s_true = _smallest(within, total, np.array([support]), config.degenerate)[0][0]
            s_rand = _smallest(within_r, total, np.array([support]), config.degenerate)[0][0]
            if ratio_of(np.array([s_true]), np.array([s_rand]))[0] >= config.rule.least_ratio:
                queue.extend(left_out | {term} for term in support)
                break
    return found


def _elimination_path(within: np.ndarray, total: np.ndarray, active: np.ndarray, max_terms: int, ridge: float
                      ) -> set[tuple[int, ...]]:
    """Backward elimination over the terms ``active``: the term with the smallest standardised coefficient in the
    current best combination (the smallest generalised eigenvector) is dropped, one at a time, and each support of
    at most ``max_terms`` terms on the way is kept. Noise spreads a sparse law's weight thinly over many terms;
    dropping the thinnest first keeps the law's own, whose removal would raise S by orders of magnitude. The
    pencil is (W + ridge·I, T + ridge·I) on standardised terms: a combination that is nearly constant only
    because its terms nearly cancel everywhere (cos x against 1 - x²/2 on small angles, which noise makes look
    conserved) has both scatters tiny and scores about 1, while a law with a real spread across trajectories
    keeps its small S."""
    eps = ridge * np.eye(len(within))
    found = set()
    while len(active) > 1:
        sub = np.ix_(active, active)
        _, vec = scipy.linalg.eigh(within[sub] + eps[sub], total[sub] + eps[sub], subset_by_index=[0, 0])
        if len(active) <= max_terms:
            found.add(tuple(int(i) for i in active))
        # one term at a time near the end; above ONE_AT_A_TIME terms a tenth at once (cost ~K^3 log K, not K^4)
        drop = 1 if len(active) <= ONE_AT_A_TIME else len(active) // 10
        active = np.delete(active, np.argsort(np.abs(vec[:, 0]), kind="stable")[:drop])
    return found


ONE_AT_A_TIME = 100  # see _elimination_path


def _smallest(within: np.ndarray, total: np.ndarray, supports: np.ndarray, degenerate: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each support [n, s]: the smallest generalised eigenvalue of (W_S, T_S), its eigenvector [n, s], and
    whether T_S is well conditioned (its terms independent on the data)."""
    idx = supports[:, :, None], supports[:, None, :]
    w, t = within[idx], total[idx]
    t_eig, t_vec = np.linalg.eigh(t)
    ok = t_eig[:, 0] > degenerate
    inv_sqrt = t_vec / np.sqrt(np.clip(t_eig, degenerate, None))[:, None, :]  # T^-1/2 = V diag(λ^-1/2)
    m = np.swapaxes(inv_sqrt, 1, 2) @ w @ inv_sqrt
    lam, vec = np.linalg.eigh((m + np.swapaxes(m, 1, 2)) / 2)
    coef = (inv_sqrt @ vec[:, :, :1])[:, :, 0]
    return np.clip(lam[:, 0], 0, None), coef, ok


def _excess(within: np.ndarray, white: np.ndarray, supports: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Within-sequence variance over white-noise variance of each support's combination (``white`` carries the
    degrees of freedom), [n]."""
    idx = supports[:, :, None], supports[:, None, :]
    w = np.einsum("ni,nij,nj->n", coef, within[idx], coef)
    d = np.einsum("ni,nij,nj->n", coef, white[idx], coef)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(w) / np.abs(d)


def _law(texts: list[str], support: tuple[int, ...], coef: np.ndarray, subs: dict, traj: Trajectories) -> Law:
    """The sum as one Law over the data's states (derived inputs substituted), unit-checked by ``Law.parse``
    (each coefficient but the first a parameter, whose unit is whatever its term needs)."""
    params = {f"k{i}": float(c) for i, c in enumerate(coef) if i > 0}
    text = " + ".join([f"({texts[support[0]]})"] + [f"k{i}*({texts[j]})" for i, j in enumerate(support) if i > 0])
    expr = sympy.sympify(text, locals={n: sympy.Symbol(n) for n in params})
    if subs:
        expr = expr.subs(subs)
    return Law.parse(str(expr), traj.names, dict(zip(traj.names, traj.units)), params)
