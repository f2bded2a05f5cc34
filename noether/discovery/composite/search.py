"""Composite laws: sparse sums g = Σ_k c_k t_k of enumerated terms that are constant along trajectories.

Brute-force enumeration stops at ~7 nodes, but real energies are sums of several small terms (a Kepler or
Hénon-Heiles Hamiltonian, a two-body energy). Here the DSL enumerates a *library* of small parameter-free terms
t_k (unit-valid, deduplicated up to a·t + b), and the coefficients of every support S (a set of terms) come from
the within-sequence and total scatter of the terms, W and T (``score.scatter_matrices``): the c minimising
S = cᵀW_S c / cᵀT_S c is the smallest generalised eigenvector -- exact, no gradient descent. A coefficient carries
whatever unit makes its term match the others (a parameter, as in the filter).

Supports are proposed by a beam search over their size (1, 2, ... ``max_terms``), sparse regressions and
backward-elimination paths (``supports.py``). A support whose terms are linearly dependent on the data (T_S
singular, e.g. sin² + cos²) is no law; one that contains an accepted law is that law plus noise and is neither
reported nor extended. Every support is judged by the filter's own rule
(``null.AcceptanceRule``): its coefficients refitted on random sequences give S_random, and the noise floor
comes from the terms' white-noise scatter. The accepted laws are then reduced to functionally independent ones
(``independence.py``). ``derived`` inputs (``r = sqrt(x**2 + y**2)``, a relative coordinate ``x1 - x2``) join
the library's inputs and are substituted back, so a law reads in the data's own states; ``relative``
coordinates of a translation-invariant system add a family of terms over them alone (``relative.py``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import sympy
import torch

from ...dsl import Law, enumerate_space
from ...errors import DataError
from ...systems import Trajectories
from ...threads import single_thread
from ..drift import APPROXIMATE, CONSERVED, DriftRule, measure_drift, null_excess
from ..independence import independent_set, state_gradients
from ..null import ratio_of
from ..score import Segments, scatter_matrices, sequence_set, white_noise_variance, white_scatter
from .config import CompositeConfig
from .inputs import named_inputs
from .relative import relative_inputs
from .supports import Support, search


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
    independent subset of the conserved ones; searched: how many supports were scored; seconds by step; notes:
    what a default search chose (its libraries and derived inputs, ``portfolio.py``)."""

    library: list[str]
    laws: list[CompositeLaw]
    independent: list[int]
    searched: int
    seconds: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

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
    derived = named_inputs(traj, seq.x, config.derived)
    subs = dict(derived.subs)
    texts, values = _library(
        [*traj.names, *derived.names],
        [*traj.units, *derived.units],
        np.concatenate([seq.x, derived.values], axis=1),
        config,
        config.products,
        config.max_library,
    )
    if config.relative:  # the translation-invariant family, after the plain terms (simpler ones stay first)
        family = relative_inputs(traj, seq.x, config.relative, derived)
        deeper = dataclasses.replace(config, term_depth=max(config.term_depth, config.relative_products))
        more, more_values = _library(
            family.names,
            family.units,
            family.values,
            deeper,
            config.relative_products,
            config.max_library - len(texts),
            exclude=set(texts),
        )
        texts, values = texts + more, np.concatenate([values, more_values])
        subs |= family.subs
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
    found, searched = search(*std, config, white)
    seconds["search"] = time.perf_counter() - start

    start = time.perf_counter()
    accepted, _ = config.rule.decide(
        np.array([f.s_true for f in found]),
        np.array([f.s_random for f in found]),
        np.array([f.excess for f in found]),
        [None] * len(found),
    )
    laws = [f._replace(coef=_raw(f, scale)) for f, ok in zip(found, accepted) if ok]
    objects: dict[int, Law] = {}  # built when needed: at noise 0 thousands of supersets of a law are accepted

    def law_of(i: int) -> Law:
        if i not in objects:
            objects[i] = _law(texts, laws[i].terms, laws[i].coef, subs, traj)
        return objects[i]

    verdicts = _pruned_verdicts(laws, law_of, values, seq.x, index, config.drift)
    ratios = ratio_of(np.array([law.s_true for law in laws]), np.array([law.s_random for law in laws])) if laws else []
    ranked = sorted(
        range(len(laws)), key=lambda i: (verdicts[i] != CONSERVED, len(laws[i].terms), -min(ratios[i], 1e12))
    )
    kept: list[int] = []  # an accepted law plus more terms is that law plus noise, unless it turns conserved
    for i in ranked:
        if not any(
            set(laws[j].terms) <= set(laws[i].terms) and (verdicts[j] == CONSERVED or verdicts[i] != CONSERVED)
            for j in kept
        ):
            kept.append(i)
    result = [
        CompositeLaw(
            laws[i].terms,
            laws[i].coef,
            laws[i].s_true,
            laws[i].s_random,
            float(ratios[i]),
            laws[i].excess,
            law_of(i),
            verdicts[i],
        )
        for i in kept
    ]
    states = torch.as_tensor(seq.x[np.random.default_rng(config.seed).permutation(len(seq.x))[:512]])
    grads = [state_gradients(law.law.torch, states) for law in result if law.verdict == CONSERVED]
    independent = independent_set(grads, tol=config.independence_tol) if grads else []
    seconds["laws"] = time.perf_counter() - start
    return CompositeResult(texts, result, independent, searched, seconds)


def _raw(support: Support, scale: np.ndarray) -> np.ndarray:
    """A support's coefficients on the raw (unstandardised) terms, the first one 1."""
    c = support.coef * scale[list(support.terms)]
    return c / c[0]


def _pruned_verdicts(
    laws: list[Support], law_of, values: np.ndarray, states: np.ndarray, index: Segments, rule: DriftRule
) -> list[str]:
    """``_verdicts``, size by size, for the supports whose verdict can matter: one that holds a smaller conserved
    support is dropped by the ranking whatever its verdict (that law plus noise), and one whose search scores
    already fail the drift test's first branch by a wide margin (within / white-noise variance over
    ``MARGIN`` x its bound, spread over ``MARGIN`` x ``rule.exact``: the same quadratic forms the test computes
    from the values) is approximate; at noise 0 thousands of accepted supports would each pay for the test."""
    bound = _excess_bound(index, rule)
    verdicts = [APPROXIMATE] * len(laws)
    conserved: list[frozenset[int]] = []
    for size in sorted({len(law.terms) for law in laws}):
        todo = [
            i
            for i, law in enumerate(laws)
            if len(law.terms) == size
            and not (law.excess > MARGIN * bound and law.s_true > (MARGIN * rule.exact) ** 2)
            and not any(c <= frozenset(law.terms) for c in conserved)
        ]
        judged = _verdicts([laws[i] for i in todo], lambda k: law_of(todo[k]), values, states, index, rule)
        for i, verdict in zip(todo, judged):
            verdicts[i] = verdict
            if verdict == CONSERVED:
                conserved.append(frozenset(laws[i].terms))
    return verdicts


MARGIN = 10.0  # see _pruned_verdicts


def _excess_bound(index: Segments, rule: DriftRule) -> float:
    """The bound ``measure_drift`` holds a law's within / white-noise variance to, on these sequences."""
    if rule.whiteness is not None:
        return rule.whiteness
    sizes = tuple(int(k) for k in index.lengths.cpu())
    return null_excess(len(sizes), max(sizes), rule.alpha, lengths=sizes)


def _verdicts(
    laws: list[Support], law_of, values: np.ndarray, states: np.ndarray, index: Segments, rule: DriftRule
) -> list[str]:
    """Each accepted support (raw coefficients) labelled conserved or approximate by the filter's drift test
    (``drift.py``) on its values along the sequences, Σ c_k t_k from the library's values [K, N]. One that fails
    the spikiness test alone is tested again with each value's noise scale propagated from the states' through
    its Law (``law_of(i)``, see ``noise_scale``): a sum with log x or 1/r is far noisier where x or r is small,
    and that unevenness is not drift. The test's numerical-precision branch reads S measured on the values
    themselves: the generalised eigenvalue's own float64 error (~1e-14 on an ill-conditioned support, a spread
    of 1e-7) would hide a law that noise-free data keep to 1e-9."""
    if not laws:
        return []
    g = torch.as_tensor(np.stack([law.coef @ values[list(law.terms)] for law in laws]))
    within, total = scatter_matrices(g[:, None, :], index)
    s_true = (within / total.clamp_min(1e-300)).flatten().numpy()
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


def _library(
    names: list[str],
    units: list,
    x: np.ndarray,
    config: CompositeConfig,
    products: int,
    limit: int,
    exclude: set[str] = frozenset(),
) -> tuple[list[str], np.ndarray]:
    """Parameter-free unit-valid terms up to ``term_depth`` nodes, their reciprocals, and the products of pairs of
    terms of at most ``products`` nodes each or ``config.product_nodes`` nodes together, as SymPy texts and values
    [K, N], at most ``limit`` of them; terms not finite, constant on the data or in ``exclude`` are dropped (and
    those linearly dependent on simpler ones later, ``_spanning``)."""
    space = enumerate_space(names, units, depth=config.term_depth, max_params=0, ops=config.ops, seed=config.seed)
    formulas = list(space.formulas)
    sizes = np.array([f.size for f in formulas])
    joint = (sizes[:, None] <= products) & (sizes[None, :] <= products)
    joint |= sizes[:, None] + sizes[None, :] <= config.product_nodes
    pairs = [(int(a), int(b)) for a, b in zip(*np.nonzero(np.triu(joint)))]  # a <= b, by a then b
    if 2 * len(formulas) + len(pairs) > limit:
        raise DataError(
            f"the composite library would hold {2 * len(formulas) + len(pairs)} more terms (depth "
            f"{config.term_depth}, products of terms up to {products} nodes, {len(names)} inputs: "
            f"{', '.join(names)}), over the {limit} left of max_library={config.max_library}; lower "
            f"term_depth or products, or raise max_library"
        )
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
    ok &= np.array([t not in exclude for t in texts])
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


def _law(texts: list[str], support: tuple[int, ...], coef: np.ndarray, subs: dict, traj: Trajectories) -> Law:
    """The sum as one Law over the data's states (derived inputs substituted), unit-checked by ``Law.parse``
    (each coefficient but the first a parameter, whose unit is whatever its term needs)."""
    params = {f"k{i}": float(c) for i, c in enumerate(coef) if i > 0}
    text = " + ".join([f"({texts[support[0]]})"] + [f"k{i}*({texts[j]})" for i, j in enumerate(support) if i > 0])
    expr = sympy.sympify(text, locals={n: sympy.Symbol(n) for n in params})
    if subs:
        expr = expr.subs(subs)
    return Law.parse(str(expr), traj.names, dict(zip(traj.names, traj.units)), params)
