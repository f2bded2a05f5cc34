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
