"""The best-conditioned independent set, beside the one taken in ranking order."""

import torch

from noether.discovery.independence import independent_set, widest_set


def test_the_widest_set_grows_by_the_best_conditioned_law_not_the_next_in_order():
    # constant gradients in 4 states (at most 3 independent laws): the second law is nearly the first (above the
    # tolerance), so ranking order keeps it and then the fourth; the widest set takes the third and fourth
    rows = [[1, 0, 0, 0], [1, 0.3, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    grads = [torch.tensor(r, dtype=torch.float64).expand(50, 4) for r in rows]
    assert independent_set(grads, tol=0.1) == [0, 1, 3]
    assert widest_set(grads, tol=0.1) == [0, 2, 3]  # in the given order, the first law always in
    assert widest_set(grads, tol=0.1, max_rank=1) == [0]
    assert widest_set([torch.zeros(50, 4), *grads[1:]], tol=0.1) == [1, 2, 3]  # a vanishing gradient is skipped
    assert widest_set([grads[0], grads[0]], tol=0.1) == [0]


def test_the_widest_set_holds_at_most_one_law_fewer_than_the_states_by_default():
    # four states, four independent constant gradients: a law of all four states moves every state, so at most
    # d - 1 = 3 laws can be functionally independent along a trajectory; the default tolerance is 0.1
    grads = [torch.eye(4, dtype=torch.float64)[i].expand(50, 4) for i in range(4)]
    assert widest_set(grads) == [0, 1, 2]
    assert widest_set(grads, max_rank=4) == [0, 1, 2, 3]
    near = [grads[0], torch.tensor([1, 0.3, 0, 0], dtype=torch.float64).expand(50, 4)]
    assert widest_set(near) == [0, 1]  # its condition (~0.2) is above the default 0.1, below 1
    assert widest_set(near, tol=0.5) == [0]


def test_a_law_usable_on_only_half_the_states_is_skipped():
    half = torch.tensor([0, 1, 0, 0], dtype=torch.float64).expand(50, 4).clone()
    half[:25] = 0  # a vanishing gradient on exactly half the points: not more than half usable
    first = torch.tensor([1, 0, 0, 0], dtype=torch.float64).expand(50, 4)
    assert widest_set([half, first]) == [1]


def test_an_exactly_dependent_law_is_not_added_at_tolerance_zero():
    # a condition of exactly 0 (the same gradient twice) is not above a tolerance of 0
    g = torch.tensor([1, 0, 0, 0], dtype=torch.float64).expand(50, 4)
    assert widest_set([g, g], tol=0.0) == [0]
