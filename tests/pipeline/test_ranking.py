"""The ranking lists each conserved function once: forms equal up to a * g + b merge at the group's best rank,
shown in the simplest form, with the other forms and the source of carried-over figures named."""

import numpy as np

from noether.dsl import Formula, Law
from noether.dsl.grammar import PARAM, inp
from noether.pipeline.laws_file import RankedLaw
from noether.pipeline.ranking import merge_equal


def ranked(*texts_and_scores):
    return [
        RankedLaw(i + 1, Law.reference(text, ["q", "p"]), dict(scores))
        for i, (text, scores) in enumerate(texts_and_scores)
    ]


STATES = np.random.default_rng(0).uniform(-2, 2, (300, 2))


def test_equal_forms_merge_into_the_simplest_at_the_best_rank():
    laws = ranked(
        ("cos(q) - (0.5*p)**2", {"test_rmse": 0.08, "s_true": 1.0}),
        ("q**2 + p**2", {"s_true": 2.0}),
        ("cos(q) - 0.25*p**2", {"s_true": 3.0}),
        ("2*cos(q) - 0.5*p**2 + 3", {"s_true": 4.0}),
        ("sin(q) + p", {"s_true": 5.0}),
    )
    merged = merge_equal(laws, STATES)
    assert [r.rank for r in merged] == [1, 2, 3]
    top = merged[0]
    assert top.law.formula.size == min(r.law.formula.size for r in (laws[0], laws[2], laws[3]))
    assert top.scores["s_true"] in (3.0, 4.0)  # its own filter figure ...
    assert top.scores["test_rmse"] == 0.08  # ... and the tailoring figure measured on the rank-1 form
    assert top.scores["figures_from"] == laws[0].law.expression
    assert len(top.scores["equivalent_forms"]) == 2
    assert [str(r.law.display()) for r in merged[1:]] == ["p**2 + q**2", "p + sin(q)"]


def test_forms_equal_as_fitted_by_the_filter_stay_merged_after_meta_learning_moved_them():
    q, p = inp(0), inp(1)
    plain = Formula("add", (Formula("cos", (q,)), Formula("mul", (PARAM, Formula("square", (p,))))))
    squared = Formula("sub", (Formula("cos", (q,)), Formula("square", (Formula("mul", (PARAM, p)),))))
    units = ("dimensionless", "dimensionless")
    laws = [
        RankedLaw(1, Law(plain, (-0.331787,), ("q", "p"), units), {"filter_params": [-0.33]}),  # meta-learned
        RankedLaw(2, Law(squared, (0.575,), ("q", "p"), units), {"filter_params": [0.33**0.5]}),
    ]
    assert len(merge_equal(laws, STATES)) == 1
    laws[1].scores["filter_params"] = [0.6]
    assert len(merge_equal(laws, STATES)) == 2


def test_close_but_different_functions_stay_apart():
    # on small angles cos(q) ~ 1 - q**2/2: correlated, but not the same function
    laws = ranked(("cos(q) + 0.5*p**2", {}), ("-0.5*q**2 + 0.5*p**2", {}))
    small = STATES * 0.3
    assert len(merge_equal(laws, small)) == 2
    singular = ranked(("p/q", {}), ("p/q", {}))  # infinite at q = 0: not comparable there, never merged
    assert len(merge_equal(singular, np.vstack([[0.0, 1.0], STATES]))) == 2
    assert len(merge_equal(singular, STATES)) == 1
