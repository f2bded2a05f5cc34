"""Functional classes of accepted laws: functions of one law are one class, whatever their rank; the blocked
grouping equals the plain pairwise walk; a second law survives any number of forms of the first ranked above it."""

import numpy as np
import pandas as pd
import pytest
import torch

from noether.discovery import classes as cl
from noether.discovery.classes import LawClasses, class_columns, classify, law_gradients, parallel_classes
from noether.discovery.independence import _smallest_sv, _unit, state_gradients
from noether.discovery.survivors import rank_survivors, simplest_basis
from noether.dsl import CandidateSpace, Law

NAMES = ["q1", "q2", "p1", "p2"]
STATES = torch.rand(400, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1


def space_of(texts: list[str]) -> tuple[CandidateSpace, np.ndarray]:
    """The formulas of ``texts`` as a candidate space, and their numbers as the fitted parameters [n, 3]."""
    laws = [Law.reference(t, NAMES) for t in texts]
    space = CandidateSpace([law.formula for law in laws], NAMES, [laws[0].units[0]] * 4, max_params=3)
    params = np.zeros((len(laws), 3))
    for i, law in enumerate(laws):
        params[i, : len(law.params)] = law.params
    return space, params


def test_functions_of_one_law_are_one_class_and_an_independent_law_another():
    g = lambda s: s[:, 0] * s[:, 3] + s[:, 1]  # noqa: E731
    h = lambda s: s[:, 2] ** 2 + torch.sin(s[:, 0])  # noqa: E731
    laws = [
        g,
        lambda s: g(s) ** 2,
        h,
        lambda s: torch.sin(g(s)),
        lambda s: 3 * h(s) - 1,
        lambda s: g(s) + h(s),
        lambda s: torch.exp(h(s)),
    ]
    grads = torch.stack([state_gradients(f, STATES) for f in laws])
    assert parallel_classes(grads, tol=0.1).tolist() == [0, 0, 2, 0, 2, 5, 2]  # g + h: a function of both


def test_a_law_without_usable_gradients_is_a_class_of_its_own():
    g = lambda s: s[:, 0] + s[:, 1]  # noqa: E731
    flat = lambda s: torch.relu(s[:, 0] - 0.5)  # noqa: E731  zero gradient on 3/4 of the states
    laws = [flat, g, lambda s: 2 * flat(s), lambda s: g(s) ** 3]
    grads = torch.stack([state_gradients(f, STATES) for f in laws])
    assert parallel_classes(grads, tol=0.1).tolist() == [0, 1, 2, 1]


def test_blocked_grouping_equals_the_plain_walk_against_first_members(monkeypatch):
    """Many laws, blocks of 3 (new classes opened inside a block, joined from later blocks) against a plain
    loop of the pairwise smallest singular value (``independence``), and against the known classes."""
    base = [
        lambda s: s[:, 0] * s[:, 1],
        lambda s: s[:, 2] + s[:, 3] ** 2,
        lambda s: torch.cos(s[:, 0]) - s[:, 3],
        lambda s: s[:, 1] - s[:, 2],
    ]
    outer = [lambda v: v, lambda v: v**3 + v, torch.sinh, lambda v: -2 * v + 1, torch.atan]
    rng = np.random.default_rng(1)
    picks = [(int(rng.integers(len(base))), int(rng.integers(len(outer)))) for _ in range(40)]
    grads = torch.stack([state_gradients(lambda s, b=b, o=o: outer[o](base[b](s)), STATES) for b, o in picks])
    monkeypatch.setattr(cl, "_PAIR_BUDGET", 9 * STATES.shape[0])  # blocks of 3 laws
    first = parallel_classes(grads, tol=0.1)
    units = [_unit(g) for g in grads]
    seeds, plain = [], []
    for i, u in enumerate(units):
        hit = next((j for j in seeds if _smallest_sv([units[j], u]) <= 0.1), None)
        if hit is None:
            seeds.append(i)
        plain.append(i if hit is None else hit)
    assert first.tolist() == plain
    truth = [next(j for j, (b2, _) in enumerate(picks) if b2 == b) for b, _ in picks]
    assert first.tolist() == truth


def test_gradients_are_batched_candidate_gradients():
    space, params = space_of(["sin(2*(p1 + p2))", "q1*p2 - q2*p1", "(p1 + p2)**2"])
    order = np.tile([2, 0, 1], 20)  # 60 laws in chunks of 40 at memory_mb=1
    grads = law_gradients(space, params, order, STATES, memory_mb=1)
    for k, i in enumerate(order):
        law = space.law(i, params[i])
        assert torch.allclose(grads[k], state_gradients(law.torch, STATES), rtol=1e-6, atol=1e-9)


def test_the_representative_is_the_simplest_form_within_a_factor_2_of_the_best_ratio():
    texts = ["sin(2*(p1 + p2))", "(p1 + p2)**2", "q1*p2 - q2*p1", "p1 + p2", "exp(p1 + p2)", "p1"]
    space, params = space_of(texts)
    ratio = np.array([1000.0, 900.0, 800.0, 600.0, 10.0, 5.0])  # p1 + p2 at 0.6 of the best: close enough
    simplicity = np.stack([space.n_params, space.sizes, ~space.linear], 1)
    classes, grads = classify(space, params, np.arange(6), STATES, simplicity, ratio, tol=0.1)
    assert [m.tolist() for m in classes.members] == [[0, 1, 3, 4], [2], [5]]
    assert classes.representatives.tolist() == [3, 2, 5]
    assert grads.shape == (3, *STATES.shape)
    ratio[3] = 400.0  # now below half the class's best: the next simplest close form stands for it
    classes, _ = classify(space, params, np.arange(6), STATES, simplicity, ratio, tol=0.1)
    assert classes.representatives.tolist() == [1, 2, 5]


def test_class_labels_forms_and_table_columns():
    both = LawClasses(np.array([3, 2, 0]), (np.array([1, 3]), np.array([2, 4]), np.array([0])))
    assert both.labels(6).tolist() == [3, 1, 2, 1, 2, pd.NA]
    assert both.forms(4).tolist() == [2, 4] and both.forms(5).tolist() == []
    cols = class_columns(both, [f"e{i}" for i in range(6)], 6)
    assert cols["forms"].tolist() == [1, pd.NA, 2, 2, pd.NA, pd.NA]
    assert cols["other_forms"] == ["", "", "e4", "e1", "", ""]


@pytest.mark.parametrize("n_forms", [60, 200])
def test_many_functions_of_one_law_ranked_above_a_second_law_keeps_both_independent_laws(n_forms):
    """n_forms functions of the total momentum p1 + p2 rank above the second law q1*p2 - q2*p1 (and above a
    function of it): with ``top`` = 50 both laws are independent, each once, its forms counted. The best forms
    are labelled approximate (as sin(7.56*(vy1 + vy2)) on the two-body data): they are still the same law."""
    outer = ["sin({k}*(p1 + p2))", "exp({k}*(p1 + p2))", "({k}*(p1 + p2) + 1)**2", "cos({k}*(p1 + p2))"]
    forms = [o.format(k=round(0.1 + 0.013 * k, 4)) for k in range(n_forms // len(outer)) for o in outer]
    texts = forms + ["q1*p2 - q2*p1", "(q1*p2 - q2*p1)**2", "p1 + p2"]
    space, params = space_of(texts)
    n = len(texts)
    ratio = np.concatenate([np.linspace(1e6, 1e3, len(forms)), [50.0, 40.0, 9e5]])
    verdict = np.full(n, "conserved", dtype=object)
    verdict[:5] = "approximate"
    res = rank_survivors(space, params, np.ones(n, bool), ratio, verdict, STATES, top=50, seed=0, tol=0.1)
    shown = [str(space.law(i, params[i]).display()) for i in res.independent]
    assert shown == ["p1 + p2", "-p1*q2 + p2*q1"] and res.approximate == []
    assert len(res.classes) == 2 and [len(m) for m in res.classes.members] == [len(forms) + 1, 2]
    assert res.rank[n - 3] == len(forms) + 2  # the second law ranked below every form of the first


def test_the_independent_laws_are_the_simplest_basis_within_a_factor_2_of_the_ratio():
    """As on the two-body data: P_y, then P_x + P_y (better ratio than P_x), then P_x: the same span, and P_x is
    simpler, so it stands in the basis; a P_x with a ratio under half the sum's does not."""
    laws = [lambda s: s[:, 2] + s[:, 3], lambda s: s.sum(1), lambda s: s[:, 0] + s[:, 1]]
    grads = [state_gradients(f, STATES) for f in laws]
    simplicity = np.array([[0, 3, 0], [0, 7, 0], [0, 3, 0]])
    assert simplest_basis(grads, simplicity, np.array([500.0, 470.0, 380.0]), tol=0.1) == [0, 2]
    assert simplest_basis(grads, simplicity, np.array([500.0, 470.0, 200.0]), tol=0.1) == [0, 1]
