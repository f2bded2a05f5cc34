"""The ranking of a run's accepted laws (the order of ``laws.json``), with the figures measured for each."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..discovery import FilterResult
from ..discovery.classes import EXAMPLES
from ..tailoring import Comparison
from .laws_file import RankedLaw
from .stages import META_FIGURE, SCREEN_FIGURES, TailorResult, law_params

EQUAL_TOL = 1e-8  # 1 - |correlation| below this on the data's states: one law (relative misfit below ~1.4e-4)
TAILORING_FIGURES = (*SCREEN_FIGURES, META_FIGURE, "test_rmse", "test_rmse_sem")


def ranked_laws(
    filt: FilterResult | None,
    tail: TailorResult | None = None,
    evaluation: Comparison | None = None,
    states: np.ndarray | None = None,
) -> list[RankedLaw]:
    """Accepted laws, one per functional class (its representative; ``forms``: how many forms the class holds,
    ``equivalent_forms``: a few of the others), best first: the meta-tailored top laws by their long-term training
    error, then the other screened laws by post-tailoring loss, then the remaining classes by the filter's rank;
    the law picked by meta-tailoring first, with its test RMSE when the evaluation ran. Given ``states`` [N, d],
    laws that are the same function up to a * g + b there are listed once (``merge_equal``)."""
    if filt is None:
        return []
    table = filt.table
    order: list[int] = []
    figures: dict[int, dict] = {}
    if tail is not None:
        figures = {int(c): row for c, row in tail.screened().to_dict("index").items()}
        tailored = tail.tailored()
        for c, error in tailored[META_FIGURE].items():
            figures[int(c)][META_FIGURE] = float(error)
        order += [int(c) for c in tailored.sort_values(META_FIGURE, kind="stable").index]
        rest = [int(c) for c in tail.candidates if int(c) not in order]
        order += sorted(rest, key=lambda c: figures[c]["screen_loss"])
    placed = set(order)
    order += [int(c) for c in filt.representatives if int(c) not in placed]
    if evaluation is not None and tail is not None and tail.chosen is not None:
        summary = evaluation.summary.set_index("method")
        if "noether" in summary.index:
            figures.setdefault(tail.chosen, {})["test_rmse"] = float(summary.loc["noether", "rmse_mean"])
            figures[tail.chosen]["test_rmse_sem"] = float(summary.loc["noether", "rmse_sem"])
    if tail is not None and tail.chosen is not None and tail.chosen in order:
        order.remove(tail.chosen)
        order.insert(0, tail.chosen)
    laws = []
    for rank, c in enumerate(order, start=1):
        row = table.iloc[c]
        scores = {
            "verdict": str(row["verdict"]),
            "s_true": float(row["s_true"]),
            "s_random": float(row["s_random"]),
            "ratio": float(row["ratio"]),
            "excess": float(row["excess"]),
            "trend_p": float(row["trend_p"]),
            "candidate": c,
            **figures.get(c, {}),
        }
        forms = [int(i) for i in filt.classes.forms(c) if int(i) != c]
        if forms:
            scores["forms"] = len(forms) + 1
            scores["equivalent_forms"] = [str(table["expression"].iloc[i]) for i in forms[:EXAMPLES]]
        law, fitted = filt.space.law(c, law_params(filt, tail, c)), filt.space.law(c, filt.params[c])
        if law.params != fitted.params:  # meta-learned by the meta-tailor stage: keep the filter's fit beside it
            scores["filter_params"] = list(fitted.params)
        laws.append(RankedLaw(rank, law, scores))
    return laws if states is None else merge_equal(laws, states)


def merge_equal(laws: list[RankedLaw], states: np.ndarray, tol: float = EQUAL_TOL) -> list[RankedLaw]:
    """One entry per function: laws whose values on ``states`` with the filter's fitted parameters agree up to an
    affine map a * g + b (the same conserved quantity; e.g. cos(q) - (c0*p)**2 and cos(q) + c1*p**2 with
    c1 = -c0**2; parameters meta-learned later may differ in the last digits) are merged at the best
    rank of the group, shown in the group's simplest form (fewest nodes, then parameters, then rank). The simplest
    form keeps its own filter figures; tailoring figures measured on another form of the group are carried over
    and named in ``figures_from``; the other forms are listed in ``equivalent_forms`` (with those each form
    already listed) and counted in ``forms`` (when any form counted its own). Ranks are renumbered."""
    if len(laws) < 2:
        return laws
    z = np.stack([_standardised(_as_fitted(r), states) for r in laws])  # [n, N], rows of NaN when unusable
    usable = np.isfinite(z).all(1)
    corr = np.abs(np.nan_to_num(z) @ np.nan_to_num(z).T)
    taken = np.zeros(len(laws), bool)
    merged = []
    for i in range(len(laws)):
        if taken[i]:
            continue
        group = [i]
        if usable[i]:
            group = [j for j in range(i, len(laws)) if not taken[j] and usable[j] and 1 - corr[i, j] < tol]
        taken[group] = True
        simplest = min(group, key=lambda j: (laws[j].law.formula.size, laws[j].law.formula.n_params, j))
        scores = dict(laws[simplest].scores)
        carried = {k: laws[i].scores[k] for k in TAILORING_FIGURES if k in laws[i].scores and k not in scores}
        if carried:
            scores.update(carried)
            scores["figures_from"] = laws[i].law.expression
        others = [laws[j].law.expression for j in group if j != simplest]
        others += [e for j in group for e in laws[j].scores.get("equivalent_forms", [])]
        if others:
            scores["equivalent_forms"] = others
        if len(group) > 1 and any("forms" in laws[j].scores for j in group):
            scores["forms"] = sum(laws[j].scores.get("forms", 1) for j in group)
        merged.append(RankedLaw(len(merged) + 1, laws[simplest].law, scores))
    return merged


def _as_fitted(r: RankedLaw):
    """The law with the filter's parameters: two forms of one function stay one law after meta-learning nudged
    their parameters apart."""
    fitted = r.scores.get("filter_params")
    return r.law if fitted is None else replace(r.law, params=tuple(fitted))


def _standardised(law, states: np.ndarray) -> np.ndarray:
    """The law's values on ``states``, centred and scaled to unit norm; NaN when non-finite or constant."""
    with np.errstate(all="ignore"):
        v = np.asarray(law.numpy(states), dtype=np.float64)
        v = v - v.mean()
        norm = np.linalg.norm(v)
    if not (np.isfinite(v).all() and norm > 1e-300 * len(v) and np.isfinite(norm)):
        return np.full(len(states), np.nan)
    return v / norm
