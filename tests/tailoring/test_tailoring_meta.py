"""Screen (stage 1), meta-tailoring (stage 2) and the long-term evaluation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from noether.systems import load_system
from noether.tailoring.evaluate import long_term, mlp_field, tailored_field
from noether.tailoring.integrate import IntegratorConfig
from noether.tailoring.law.setting import InnerSetting
from noether.tailoring.law.step import tailor_mlp
from noether.tailoring.loss import law_inner_loss
from noether.tailoring.meta import MetaConfig, meta_tailor
from noether.tailoring.mlp import MLP, params_of, stacked
from noether.tailoring.screen import ScreenConfig, screen
from noether.tailoring.train import points

CS = torch.tensor([0.0, 1.0, 3.0, 6.0])


def batched_pendulum_laws(x):
    """p^2 - c cos q for c in CS: x [4, N, 2] -> [4, N]."""
    return x[..., 1] ** 2 - CS.to(x)[:, None] * torch.cos(x[..., 0])


@pytest.fixture(scope="module")
def pendulum():
    traj = load_system("pendulum", seed=0)
    return traj.select(list(range(6)) + list(range(25, 31)))  # 6 train + 6 test trajectories


SGD = InnerSetting.paper()  # these tests were written for the paper's SGD step at the data's own time step


@pytest.fixture(scope="module")
def small_mlp():
    return params_of(MLP.seeded(0, 2, 32))


def test_screen_equals_a_loop_over_laws_and_learning_rates(pendulum, small_mlp):
    cfg = ScreenConfig(top_k=2, chunk=3)
    inner = InnerSetting(kind="sgd", rates=(0.0, 0.01, 0.3), dt_scales=(1.0,))
    res = screen(small_mlp, pendulum, batched_pendulum_laws, 4, cfg, inner=inner)
    x, dx = points(pendulum)
    for i, c in enumerate(CS.tolist()):

        def law(z, c=c):
            return z[..., 1] ** 2 - c * torch.cos(z[..., 0])

        for j, lr in enumerate(inner.grid):
            pred, _ = tailor_mlp(small_mlp, x[None], law_inner_loss(law, pendulum.dt), lr)
            assert res.losses[i, 0, j] == pytest.approx(float((pred[0] - dx).square().mean()), rel=1e-4)
    assert res.losses[:, 0, 0] == pytest.approx(np.full(4, res.base_loss), rel=1e-5)  # lr 0: no tailoring
    assert list(res.top) == list(np.argsort(res.best_loss)[:2])
    assert res.best_lr[res.top[0]] in inner.grid and len(res.table) == 4


def test_screen_gives_non_finite_laws_an_infinite_loss(pendulum, small_mlp):
    def laws(x):
        out = torch.stack([x[0, :, 1] ** 2, torch.log(x[1, :, 0])])  # log of negative angles -> NaN
        return out

    res = screen(small_mlp, pendulum, laws, 2, inner=InnerSetting(kind="sgd", rates=(0.01, 0.1)))
    assert np.isfinite(res.best_loss[0]) and np.isinf(res.best_loss[1])
    assert list(res.top) == [0]


def test_meta_tailoring_is_vectorised_exactly_and_deterministic(pendulum, small_mlp):
    cfg = MetaConfig(epochs=4, select=False)
    law = lambda x: x[..., 1] ** 2 - 3.0 * torch.cos(x[..., 0])  # noqa: E731
    one = meta_tailor(small_mlp, pendulum, law, [0.05], cfg, inner=SGD)
    two = meta_tailor(small_mlp, pendulum, batched_pendulum_laws, [0.2, 0.05, 0.05, 0.01], cfg, inner=SGD)
    again = meta_tailor(small_mlp, pendulum, batched_pendulum_laws, [0.2, 0.05, 0.05, 0.01], cfg, inner=SGD)
    # candidate 2 of the stack is law c=3 at lr 0.05, the single run's setting
    assert np.allclose(one.losses[:, 0], two.losses[:, 2], rtol=1e-4)
    for k in one.params:
        assert torch.allclose(one.params[k][0], two.params[k][2], atol=1e-5)
    assert np.array_equal(two.losses, again.losses)
    assert np.all(two.losses[-1] < two.losses[0])  # meta-training lowers the post-tailoring task loss


def test_second_order_meta_gradient_differs_from_first_order(pendulum, small_mlp):
    law = lambda x: x[..., 1] ** 2 - 3.0 * torch.cos(x[..., 0])  # noqa: E731
    a = meta_tailor(small_mlp, pendulum, law, [0.3], MetaConfig(epochs=3, select=False), inner=SGD)
    b = meta_tailor(small_mlp, pendulum, law, [0.3], MetaConfig(epochs=3, select=False, first_order=True), inner=SGD)
    assert a.losses[0, 0] == b.losses[0, 0]
    assert not np.allclose(a.losses[1:, 0], b.losses[1:, 0], rtol=1e-7, atol=0)


def test_successive_halving_keeps_the_best_half(pendulum, small_mlp):
    cfg = MetaConfig(
        epochs=6,
        halving=True,
        halving_rounds=2,
        keep_min=1,
        select=True,
        integrator=IntegratorConfig(rtol=1e-6, atol=1e-6),
    )
    res = meta_tailor(small_mlp, pendulum, batched_pendulum_laws, [0.05] * 4, cfg, inner=SGD)
    assert res.active.sum() == 1
    assert np.isnan(res.losses[-1][~res.active]).all() and np.isfinite(res.losses[-1][res.active]).all()
    assert res.best == int(np.flatnonzero(res.active)[0])
    assert np.isinf(res.train_rmse[~res.active]).all()


def test_long_term_of_the_true_field_is_exact_and_batching_is_consistent(pendulum, small_mlp):
    _, test = pendulum.split()

    def true_field(x):
        return torch.stack([2 * x[..., 1], -3 * torch.sin(x[..., 0])], -1)

    lt = long_term(true_field, test)
    assert lt.rmse[0] < 1e-6 and lt.mse_horizon.shape == (1, test.n_steps) and not lt.diverged[0]
    # two stacked models = the two separately
    p2 = stacked(small_mlp, 2)
    p2["l3.weight"][1] *= 0.5
    both = long_term(mlp_field(p2), test, n_models=2)
    first = long_term(mlp_field(small_mlp), test)
    assert both.rmse[0] == pytest.approx(first.rmse[0], rel=1e-5) and both.rmse[1] != pytest.approx(both.rmse[0])
    # per-trajectory integration (different time grids) gives the same numbers
    shifted = replace(test, times=test.times + np.arange(test.n_traj)[:, None])
    assert long_term(mlp_field(small_mlp), shifted).rmse[0] == pytest.approx(first.rmse[0], rel=1e-5)


def test_long_term_flags_a_diverging_model(pendulum):
    _, test = pendulum.split()
    lt = long_term(lambda x: x**3 * 50, test, config=IntegratorConfig(max_abs=10.0))
    assert lt.diverged[0]


def test_tailored_field_with_zero_lr_is_the_mlp(pendulum, small_mlp):
    _, test = pendulum.split()
    law = lambda x: x[..., 1] ** 2 - 3.0 * torch.cos(x[..., 0])  # noqa: E731
    a = long_term(tailored_field(small_mlp, law, 0.0, pendulum.dt, SGD), test)
    b = long_term(mlp_field(small_mlp), test)
    assert a.rmse[0] == pytest.approx(b.rmse[0], rel=1e-9)
