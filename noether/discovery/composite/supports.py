"""The composite search's supports: which sets of library terms can hold a conserved sparse sum.

For a support S the coefficients come from the smallest generalised eigenvector of (W_S, T_S), the library's
within-sequence and total scatter restricted to S (``_smallest``). Supports are proposed by a beam search grown
one term at a time, by sparse regressions (as SINDy-PI), and by backward-elimination paths from the whole
library; ``search`` scores them all and returns those the acceptance rule could take. ``search.py`` builds
the library, judges what this returns and turns it into Laws.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

from ..null import ratio_of
from .config import CompositeConfig


class Support(NamedTuple):
    """A set of library terms the search scored: its coefficients (standardised terms, or raw once rescaled),
    S on the data and on random sequences (refitted there), and within / white-noise variance."""

    terms: tuple[int, ...]
    coef: np.ndarray
    s_true: float
    s_random: float
    excess: float


def search(
    within: np.ndarray,
    within_r: np.ndarray,
    total: np.ndarray,
    config: CompositeConfig,
    white: np.ndarray | None = None,
):
    """Beam search over supports, joined at each size by the sparse regressions' supports (see the module
    docstring) -> (the supports the rule could accept, supports scored). Every support the rule could accept is
    returned for judging; only one that already looks conserved -- constant to round-off, or varying no more
    than white noise explains (``white``: the standardised white-noise scatter times the degrees of freedom) --
    stops its supersets, while an approximate one keeps growing (a correction term may make it conserved)."""
    k = len(total)
    found: list[Support] = []
    blocked: list[tuple[int, ...]] = []
    regressed = _eliminations(within, within_r, total, config)
    if k <= config.max_regression:
        regressed |= _regressions(within, config)
    beam = [()]
    searched = 0
    for size in range(1, config.max_terms + 1):
        cands = sorted(
            {tuple(sorted((*s, j))) for s in beam for j in range(k) if j not in s}
            | {s for s in regressed if len(s) == size}
        )
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
        found += [
            Support(cands[i], coef[i], float(s_true[i]), float(s_rand[i]), float(excess[i]))
            for i in np.flatnonzero(passing)
        ]
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


def _eliminations(
    within: np.ndarray, within_r: np.ndarray, total: np.ndarray, config: CompositeConfig
) -> set[tuple[int, ...]]:
    """Supports from backward elimination paths (``_elimination_path``). The first path, from the whole library,
    ends in the law of smallest S; each law a path passes (the sparsest support on it that the rule's ratio could
    accept) opens new paths, one per term of that law, with the term left out of the library, so the next path
    ends in another law (Kepler: the angular momentum first, then, without x·vy, the energy). Those run breadth
    first; before them runs the path with the whole law left out, so the laws are peeled off one after another
    (Kepler at noise 0.01: L, E, one Runge-Lenz component, then the other, four paths deep, which breadth first
    alone does not reach in 16 paths). At most ``config.paths`` paths for each of ``config.ridges``."""
    found: set[tuple[int, ...]] = set()
    for ridge in config.ridges:
        found |= _elimination_tree(within, within_r, total, config, ridge)
    return found


def _elimination_tree(
    within: np.ndarray, within_r: np.ndarray, total: np.ndarray, config: CompositeConfig, ridge: float
) -> set[tuple[int, ...]]:
    """The paths of ``_eliminations`` at one ridge."""
    queue: list[frozenset[int]] = [frozenset()]
    seen: set[frozenset[int]] = set()
    found: set[tuple[int, ...]] = set()
    while queue and len(seen) < config.paths:
        left_out = queue.pop(0)
        if left_out in seen:
            continue
        seen.add(left_out)
        path = _elimination_path(
            within, total, np.array([i for i in range(len(within)) if i not in left_out]), config.max_terms, ridge
        )
        found.update(path)
        for support in sorted(path, key=len):
            s_true = _smallest(within, total, np.array([support]), config.degenerate)[0][0]
            s_rand = _smallest(within_r, total, np.array([support]), config.degenerate)[0][0]
            if ratio_of(np.array([s_true]), np.array([s_rand]))[0] >= config.rule.least_ratio:
                queue.insert(0, left_out | set(support))  # the law peeled off whole: next, before the others
                queue.extend(left_out | {term} for term in support)
                break
    return found


def _elimination_path(
    within: np.ndarray, total: np.ndarray, active: np.ndarray, max_terms: int, ridge: float
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


def _smallest(
    within: np.ndarray, total: np.ndarray, supports: np.ndarray, degenerate: float
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
