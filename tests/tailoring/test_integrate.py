"""The batched torch solve agrees with scipy's reference, a model's result does not depend on what is stacked with
it, and a broken model is stopped and flagged without spoiling the others."""

import numpy as np
import pytest
import torch

from noether.systems import load_system
from noether.tailoring.compare import law_rows
from noether.tailoring.evaluate import long_term, mlp_field, stack_fields, tailored_field
from noether.tailoring.integrate import IntegratorConfig
from noether.tailoring.mlp import MLP, params_of
from noether.tailoring.train import TrainConfig, fit, points

SCIPY, TORCH = IntegratorConfig(backend="scipy"), IntegratorConfig(backend="torch")


def energy(x: torch.Tensor) -> torch.Tensor:
    return x[..., 1] ** 2 + 3 * (1 - torch.cos(x[..., 0]))


@pytest.fixture(scope="module")
def setup():
    traj = load_system("pendulum", seed=0).select(list(range(6)) + list(range(44, 50)))
    model = MLP.seeded(0, 2, 32)
    fit(model, *points(traj, "train"), TrainConfig(steps=200, hidden=32))
    _, test = traj.split()
    return traj, test, params_of(model)


def test_torch_and_scipy_give_the_same_rmse_for_plain_and_tailored_fields(setup):
    traj, test, params = setup
    for field in (mlp_field(params), tailored_field(params, energy, 0.5, 0.1 * traj.dt)):
        a, b = long_term(field, test, config=SCIPY), long_term(field, test, config=TORCH)
        assert not a.diverged[0] and not b.diverged[0]
        assert abs(a.rmse[0] - b.rmse[0]) <= 1e-4 * a.rmse[0]
        assert np.allclose(a.pred, b.pred, rtol=1e-5, atol=1e-6)


def test_torch_solve_reads_ragged_trajectories_at_their_own_times(setup):
    traj, _, params = setup
    _, test = traj.thinned(0.6, seed=1).split()
    assert test.ragged
    a, b = long_term(mlp_field(params), test, config=SCIPY), long_term(mlp_field(params), test, config=TORCH)
    assert abs(a.rmse[0] - b.rmse[0]) <= 1e-4 * a.rmse[0]
    assert np.array_equal(np.isnan(a.pred), np.isnan(b.pred))  # padding stays padding


def test_a_models_result_does_not_depend_on_what_is_stacked_with_it(setup):
    traj, test, params = setup
    alone = long_term(mlp_field(params), test, config=TORCH)
    wild = {k: v * 3 for k, v in params.items()}  # a much stiffer field beside it
    field, n = stack_fields([(mlp_field(wild), 1), (mlp_field(params), 1)])
    both = long_term(field, test, n_models=n, config=TORCH)
    assert np.allclose(both.pred[1], alone.pred[0], rtol=1e-12, atol=1e-12)


def test_a_broken_model_is_flagged_and_the_others_keep_their_result(setup):
    _, test, params = setup
    good = long_term(mlp_field(params), test, config=TORCH)

    def exploding(x):  # dx/dt = 50 x^3 leaves any bound in finite time
        return 50 * x**3

    field, n = stack_fields([(exploding, 1), (mlp_field(params), 1)])
    lt = long_term(field, test, n_models=n, config=IntegratorConfig(max_abs=10.0))
    assert lt.diverged.tolist() == [True, False]
    assert lt.rmse[1] == pytest.approx(good.rmse[0], rel=1e-12)


def test_a_stiff_model_is_stopped_by_the_budget(setup):
    _, test, _ = setup
    stiff = long_term(lambda x: -1e6 * x, test, config=IntegratorConfig(max_evals=300, evals_per_step=1))
    assert stiff.diverged[0] and stiff.evaluations <= 320


def test_the_torch_backend_refuses_another_method_and_unknown_backends():
    with pytest.raises(ValueError, match="backend='scipy'"):
        IntegratorConfig(method="DOP853")
    IntegratorConfig(method="DOP853", backend="scipy")
    with pytest.raises(ValueError, match="unknown integrator"):
        IntegratorConfig(backend="euler")


def test_law_rows_sends_each_row_to_its_own_law():
    def double(x):
        return 2 * x[..., 0]

    def minus(x):
        return -x[..., 1]

    x = torch.randn(3, 5, 2)
    g = law_rows([double, minus, double])(x)
    assert torch.equal(g, torch.stack([double(x[0]), minus(x[1]), double(x[2])]))
