"""The merge of composite laws into the filter's survivors, on laws constructed by hand (no composite search):
a two-formula space filtered on the spring, joined by three composite laws whose scores are set, so that every
row, parameter, rank and class of the union is known in advance."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from noether.discovery import FilterConfig, filter_candidates
from noether.discovery.composite import CompositeResult
from noether.discovery.composite.search import CompositeLaw
from noether.discovery.merge import with_composite
from noether.dsl import CandidateSpace, Law
from noether.dsl.space import SpaceReport
from noether.systems import load_system

CONFIG = FilterConfig()


@pytest.fixture(scope="module")
def spring():
    """Six spring trajectories and the filter on {q² + k p² (the energy, conserved), q p (rejected)}."""
    traj = load_system("spring", noise=0.0).select(list(range(6)))
    formulas = [law(traj, "q**2 + k*p**2", k=1.0).formula, law(traj, "q*p").formula]
    report = SpaceReport(steps=(), notes={}, seconds={}, depth=3, max_params=1)
    space = CandidateSpace(formulas, traj.names, traj.units, max_params=1, report=report)
    filt = filter_candidates(space, traj, CONFIG)
    assert filt.accepted_indices.tolist() == [0] and filt.table["ratio"][0] > 1e12  # the construction
    return traj, filt


def law(traj, text: str, **params: float) -> Law:
    return Law.parse(text, traj.names, traj.units, params)


def composite(traj, text: str, ratio: float, verdict: str = "conserved", **params: float) -> CompositeLaw:
    return CompositeLaw((0,), np.ones(1), 1e-3, 1.0, ratio, 10.0, law(traj, text, **params), verdict)


def laws(traj) -> list[CompositeLaw]:
    """The energy in two other forms (one with two parameters, wider than the filter's space) and q p, set as
    approximate; ratios 1e6, 1e8 and 4."""
    return [
        composite(traj, "p**2 + k*q**2", 1e6, k=1.0),
        composite(traj, "a*q**2 + b*p**2", 1e8, a=2.0, b=2.0),
        composite(traj, "q*p", 4.0, "approximate"),
    ]


def test_no_composite_law_leaves_the_filter_as_it_was(spring):
    traj, filt = spring
    same = with_composite(filt, CompositeResult([], [], [], 0), traj, CONFIG)
    assert same.space is filt.space and same.params is filt.params
    assert same.table["source"].tolist() == ["filter", "filter"]
    assert same.table.drop(columns="source").equals(filt.table)


def test_composite_laws_are_appended_as_accepted_candidates_with_their_own_parameters(spring):
    traj, filt = spring
    comp = laws(traj)
    merged = with_composite(filt, CompositeResult(["x"], comp, [0], 3), traj, CONFIG)
    assert len(merged.space) == 5 and merged.space.names == traj.names and merged.space.max_params == 2
    assert merged.space.units == traj.units and merged.space.report is filt.space.report
    assert [str(f) for f in merged.space.formulas[2:]] == [str(c.law.formula) for c in comp]
    # one width for all: the two-parameter law widens the table, the filter's values keep their place
    np.testing.assert_array_equal(merged.params, [[filt.params[0, 0], 0], [0, 0], [1, 0], [2, 2], [0, 0]])
    t = merged.table
    assert t["source"].tolist() == ["filter", "filter", "composite", "composite", "composite"]
    new = t.iloc[2:]
    assert new["formula"].tolist() == [c.law.formula.render(traj.names) for c in comp]
    assert new["expression"].tolist() == [c.expression for c in comp]
    assert new["n_params"].tolist() == [1, 2, 0] and new["params"].tolist() == ["1", "2 2", ""]
    assert new["ratio"].tolist() == [1e6, 1e8, 4.0] and new["excess"].tolist() == [10.0] * 3
    assert new["s_true"].tolist() == [1e-3] * 3 and new["s_random"].tolist() == [1.0] * 3
    assert new["verdict"].tolist() == ["conserved", "conserved", "approximate"]
    assert new["accepted"].all() and new["converged"].all() and new["trend_p"].isna().all()
    assert new["linear"].tolist() == [c.law.formula.linear for c in comp] and new["reason"].isna().all()
    pd.testing.assert_frame_equal(  # the filter's rows as they were (but for the columns recomputed over the union)
        t.iloc[:2].drop(columns=["source", "rank", "law_class", "forms", "other_forms"]),
        filt.table.drop(columns=["rank", "law_class", "forms", "other_forms"]),
        check_dtype=False,
    )
    # one ranking over the union: ratio descending with the filter's energy capped at 1e12 -> 0, 3, 2, 4
    assert merged.accepted_indices.tolist() == [0, 3, 2, 4]
    assert t["rank"].tolist()[:1] + t["rank"].tolist()[2:] == [1, 3, 2, 4] and t["rank"].isna()[1]
    # the three energies are one class, represented by the filter's form; q p is an approximate law of its own
    assert [m.tolist() for m in merged.classes.members] == [[0, 3, 2], [4]]
    assert merged.representatives.tolist() == [0, 4]
    assert merged.independent_indices == [0] and merged.approximate_indices == [4]
    assert t["law_class"].tolist()[2:] == [1, 1, 2] and t["forms"][0] == 3 and t["forms"][4] == 1


def test_a_law_the_filter_knows_keeps_the_filters_form_even_when_a_composite_form_ranks_first(spring):
    """The filter's energy set to ratio 6e7 and the composite p² + k q² (as simple: one parameter, same size) to
    1e8: the composite form leads the ranking, both are within the factor 2 of the class's best ratio that
    representatives are chosen from (``classes.classify``), and the filter's form represents the class, so the
    composite search only adds laws. (A form more than a factor 2 below the best is not eligible at all.)"""
    traj, filt = spring
    weak = replace(filt, table=filt.table.assign(ratio=[6e7, filt.table["ratio"][1]]))
    comp = [composite(traj, "p**2 + k*q**2", 1e8, k=1.0), composite(traj, "a*q**2 + b*p**2", 1e6, a=2.0, b=2.0)]
    merged = with_composite(weak, CompositeResult(["x"], comp, [0], 2), traj, CONFIG)
    assert merged.accepted_indices.tolist() == [2, 0, 3]
    assert [m.tolist() for m in merged.classes.members] == [[2, 0, 3]]
    assert merged.representatives.tolist() == [0] and merged.independent_indices == [0]


def test_independent_laws_are_chosen_again_over_the_union(spring):
    """The filter's energy relabelled approximate and q p joined as a conserved composite law: the conserved
    independent set is now q p (the composite's), the approximate one the energy."""
    traj, filt = spring
    relabelled = replace(filt, table=filt.table.assign(verdict=["approximate", "rejected"]))
    merged = with_composite(relabelled, CompositeResult(["x"], [composite(traj, "q*p", 1e6)], [0], 1), traj, CONFIG)
    assert merged.independent_indices == [2] and merged.approximate_indices == [0]


def test_the_basis_is_chosen_among_the_top_classes_only(spring):
    """Two approximate composite laws, cos(q/a) (ratio 10) and the simpler q p (ratio 8, within the factor 2 of
    exchange in ``survivors.simplest_basis``): among all classes the simpler q p stands for the approximate
    laws; with only the top class considered (top = 1), cos(q/a). Neither has two parameters: the union keeps
    the filter's width of one."""
    traj, filt = spring
    comp = [composite(traj, "cos(q/a)", 10.0, "approximate", a=1.0), composite(traj, "q*p", 8.0, "approximate")]
    result = CompositeResult(["x"], comp, [], 2)
    merged = with_composite(filt, result, traj, CONFIG)
    assert merged.space.max_params == 1 and merged.params.shape == (4, 1)
    assert merged.representatives.tolist() == [0, 2, 3] and merged.independent_indices == [0]
    assert merged.approximate_indices == [3]
    assert with_composite(filt, result, traj, replace(CONFIG, top=1)).approximate_indices == [2]
