"""The long-term evaluation on unequal, irregularly sampled trajectories: one stacked solve on the union of their
times, each trajectory compared at its own samples only."""

import numpy as np
import torch

from noether.tailoring.evaluate import long_term


def exact(x: torch.Tensor) -> torch.Tensor:
    """The oscillator's true field (q' = p, p' = -q) for stacked models x [n, M, d]."""
    return torch.stack([x[..., 1], -x[..., 0]], -1)


def test_exact_field_reproduces_thinned_trajectories_at_their_own_times(oscillator):
    thin = oscillator(n_traj=6, steps=30).thinned(0.6, seed=3)
    assert thin.ragged and not thin.regular
    lt = long_term(exact, thin)
    assert lt.rmse[0] < 1e-6 and not lt.diverged[0]
    assert np.isnan(lt.pred[0][~thin.valid]).all() and np.isfinite(lt.pred[0][thin.valid]).all()
    slow = long_term(lambda x: 1.01 * exact(x), thin)  # a slightly wrong field: error grows with time
    assert slow.rmse[0] > 1e-3 and np.isfinite(slow.mse_horizon).all()
    # the same trajectories one at a time give the same errors (the union grid reads each at its own times)
    singles = [long_term(lambda x: 1.01 * exact(x), thin.select([i])).traj_rmse[0, 0] for i in range(6)]
    np.testing.assert_allclose(slow.traj_rmse[0], singles, rtol=1e-5)
