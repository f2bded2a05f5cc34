"""The Gauss-Newton inner step: it removes the requested fraction of the law's linearised violation, its step size
matches autograd's per-query gradient norm, and it plugs into the screen and meta-tailoring grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import functional_call, grad, vmap

from noether.systems import load_system
from noether.tailoring.law.setting import InnerSetting
from noether.tailoring.law.step import backprop, grad_norm2, tailor_mlp, trace
from noether.tailoring.loss import law_inner_loss
from noether.tailoring.meta import MetaConfig, meta_tailor
from noether.tailoring.mlp import MLP, params_of
from noether.tailoring.screen import ScreenConfig, screen


def energy(x):
    return x[..., 0] ** 2 + x[..., 1] ** 2


@pytest.fixture(scope="module")
def model():
    return MLP.seeded(3, 2, 16).double()


@pytest.fixture(scope="module")
def queries():
    return torch.randn(1, 64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def residual(x, v, dt):
    return energy(x + v * dt) - energy(x)


@pytest.mark.parametrize("adapt", ["all", "last"])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_newton_removes_the_requested_fraction_of_the_violation(model, queries, adapt, alpha):
    dt = 1e-3  # small: the residual is then nearly linear in the output
    p = {k: v.detach() for k, v in params_of(model).items()}
    tailored, v = tailor_mlp(p, queries, law_inner_loss(energy, dt), alpha, step="newton", adapt=adapt)
    before, after = residual(queries, v, dt), residual(queries, tailored, dt)
    assert before.abs().min() > 0
    ratio = (after / before)[0]
    assert torch.allclose(ratio, torch.full_like(ratio, 1 - alpha), atol=0.05)


def test_last_layer_newton_moves_the_output_along_the_law_gradient(model, queries):
    """The output layer's tangent kernel is |a|^2 I, so the output moves along -dL/dv ~ grad g: an orthogonal
    projection onto g's level set (to first order in dt)."""
    dt = 1e-4
    p = {k: v.detach() for k, v in params_of(model).items()}
    tailored, v = tailor_mlp(p, queries, law_inner_loss(energy, dt), 1.0, step="newton", adapt="last")
    g = 2 * queries[0]
    v0 = v[0]
    projected = v0 - (g * v0).sum(-1, keepdim=True) * g / (g * g).sum(-1, keepdim=True)
    assert torch.allclose(tailored[0], projected, atol=1e-3 * float(v0.abs().max()))


def test_grad_norm_matches_autograd_per_query(model, queries):
    dt = 0.05
    p = {k: v.detach() for k, v in params_of(model).items()}
    loss = law_inner_loss(energy, dt)

    def one(params, x):
        v = functional_call(model, params, (x,))
        return loss(x[None, None], v[None, None])[0, 0]

    per_query = vmap(grad(one), in_dims=(None, 0))(p, queries[0])
    expected = sum(g.flatten(1).square().sum(1) for g in per_query.values())
    tr = trace(p, queries)
    v = tr.output.detach().requires_grad_()
    (u,) = torch.autograd.grad(loss(queries, v).sum(), v)
    got = grad_norm2(p, tr, backprop(p, tr, u))[0, :, 0]
    assert torch.allclose(got, expected, rtol=1e-8)


def test_newton_is_differentiable_second_order(model, queries):
    p = {k: v.detach().clone().requires_grad_() for k, v in params_of(model).items()}
    tailored, _ = tailor_mlp(p, queries, law_inner_loss(energy, 0.01), 1.0, step="newton")
    grads = torch.autograd.grad(tailored.square().sum(), list(p.values()))
    assert all(torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_a_law_that_ignores_the_output_leaves_the_query_untailored(model, queries):
    p = {k: v.detach() for k, v in params_of(model).items()}
    tailored, v = tailor_mlp(p, queries, law_inner_loss(lambda x: torch.ones_like(x[..., 0]), 0.1), 1.0, step="newton")
    assert torch.equal(tailored, v)


def test_unknown_inner_settings_are_rejected(model, queries):
    p = params_of(model)
    with pytest.raises(ValueError, match="inner step"):
        tailor_mlp(p, queries, law_inner_loss(energy, 0.1), 1.0, step="lbfgs")
    with pytest.raises(ValueError, match="adapt"):
        tailor_mlp(p, queries, law_inner_loss(energy, 0.1), 1.0, adapt="middle")


def test_screen_and_meta_tailor_pick_from_a_grid_of_rates_and_steps():
    traj = load_system("spring", seed=0).select(list(range(4)) + list(range(25, 29)))
    p = params_of(MLP.seeded(0, 2, 32))
    inner = InnerSetting(kind="newton", rates=(0.0, 0.5, 1.0), dt_scales=(0.01, 0.1))
    res = screen(p, traj, lambda x: energy(x), 1, ScreenConfig(top_k=1), inner=inner)
    assert res.losses.shape == (1, 2, 3)
    assert np.allclose(res.losses[0, :, 0], res.base_loss, rtol=1e-5)  # alpha 0: no tailoring at any dt
    flat = res.losses.reshape(-1)
    assert res.best_loss[0] == flat.min()
    assert res.best_dt_scale[0] in (0.01, 0.1) and res.best_lr[0] in (0.0, 0.5, 1.0)
    meta = meta_tailor(
        p, traj, lambda x: energy(x), [0.5, 1.0], MetaConfig(epochs=2), dt_scales=[0.01, 0.1], inner=inner
    )
    assert np.allclose(meta.dt, np.array([0.01, 0.1]) * traj.dt)
    assert meta.best in (0, 1) and np.isfinite(meta.train_rmse).all()


@pytest.mark.slow
def test_meta_learning_the_law_parameter_pulls_a_misfitted_coefficient_towards_the_truth():
    """Stage 2 with law_lr > 0 (Algorithm 1's outer update of g, here on a symbolic law's parameter): a pendulum
    energy fitted 8% too high moves towards 3 while the weights are meta-tailored; with law_lr = 0 it stays."""
    traj = load_system("pendulum", seed=0).select(list(range(12)) + list(range(25, 37)))
    from noether.tailoring.train import TrainConfig, train_baseline

    p = params_of(train_baseline(traj, "mlp", TrainConfig(steps=600, seed=0)).model)

    def laws(x, c):
        return x[..., 1] ** 2 - c[:, :1] * torch.cos(x[..., 0])

    start = np.array([[3.24]])
    learned = meta_tailor(
        p,
        traj,
        laws,
        [1.0],
        MetaConfig(epochs=60, select=False),
        dt_scales=[0.01],
        law_params=start,
        inner=InnerSetting(law_lr=1e-2),
    ).law_params[0, 0]
    fixed = meta_tailor(
        p,
        traj,
        laws,
        [1.0],
        MetaConfig(epochs=5, select=False),
        dt_scales=[0.01],
        law_params=start,
        inner=InnerSetting(law_lr=0.0),
    ).law_params[0, 0]
    assert fixed == pytest.approx(3.24)
    assert abs(learned - 3.0) < 0.5 * abs(3.24 - 3.0)


def test_newton_second_order_gradient_matches_finite_differences():
    """d/dtheta of the task loss after one Newton step (through the per-query step size) against central
    differences along a random direction, on a tiny float64 MLP."""
    torch.manual_seed(0)
    p = {k: v.detach() for k, v in params_of(MLP.seeded(5, 2, 6).double()).items()}
    x = torch.randn(1, 8, 2, dtype=torch.float64)
    target = torch.randn(1, 8, 2, dtype=torch.float64)
    loss = law_inner_loss(energy, 0.05)

    def task(params):
        out, _ = tailor_mlp(params, x, loss, 0.7, step="newton")
        return (out - target).square().mean()

    leaf = {k: v.clone().requires_grad_() for k, v in p.items()}
    grads = torch.autograd.grad(task(leaf), list(leaf.values()))
    direction = {k: torch.randn_like(v) for k, v in p.items()}
    eps = 1e-6
    plus = task({k: v + eps * direction[k] for k, v in p.items()})
    minus = task({k: v - eps * direction[k] for k, v in p.items()})
    numeric = float((plus - minus).detach() / (2 * eps))
    analytic = float(sum((g * direction[k]).sum() for g, k in zip(grads, p)))
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-9)
