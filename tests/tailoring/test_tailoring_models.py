"""Baseline MLP, HNN, their training, and the fast one-step tailoring of all MLP weights (law/step.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import functional_call, vmap

from noether.systems import load_system
from noether.tailoring.hnn import HNN
from noether.tailoring.inner import InnerConfig, tailor_batch
from noether.tailoring.law.step import tailor_mlp
from noether.tailoring.loss import law_inner_loss
from noether.tailoring.mlp import MLP, mlp_apply, params_of, stacked
from noether.tailoring.train import TrainConfig, train_baseline

DT = 0.07


def pendulum_law(x):
    return x[..., 1] ** 2 - 3 * torch.cos(x[..., 0])


def test_mlp_architecture_is_hnns():
    m = MLP.seeded(0)
    assert [tuple(p.shape) for p in m.parameters()] == [(200, 2), (200,), (200, 200), (200,), (2, 200)]
    assert m.l3.bias is None
    w = m.l2.weight.detach()
    assert torch.allclose(w @ w.T, torch.eye(200), atol=1e-5)  # orthogonal init
    assert torch.equal(m.l1.weight, MLP.seeded(0).l1.weight) and not torch.equal(m.l1.weight, MLP.seeded(1).l1.weight)
    x = torch.randn(3, 5, 2)
    assert torch.allclose(mlp_apply(stacked(params_of(m), 3), x), m(x), atol=1e-6)


def test_hnn_field_is_the_symplectic_gradient_of_its_hamiltonian():
    torch.manual_seed(0)
    h = HNN.seeded(0, 2, 32).double()
    x = torch.randn(6, 2, dtype=torch.float64)
    field = h(x)
    eps = 1e-6
    dq = (h.hamiltonian(x + torch.tensor([eps, 0.0])) - h.hamiltonian(x - torch.tensor([eps, 0.0]))) / (2 * eps)
    dp = (h.hamiltonian(x + torch.tensor([0.0, eps])) - h.hamiltonian(x - torch.tensor([0.0, eps]))) / (2 * eps)
    assert torch.allclose(field, torch.stack([dp, -dq], -1), atol=1e-7)
    # H is conserved along its own field: dH/dt = grad H . field = 0
    gh = torch.stack([dq, dp], -1)
    assert torch.allclose((gh * field).sum(-1), torch.zeros(6, dtype=torch.float64), atol=1e-7)
    with pytest.raises(ValueError, match="even"):
        HNN(3)


@pytest.mark.parametrize("kind", ["mlp", "hnn"])
def test_training_lowers_the_loss_and_is_deterministic(kind):
    traj = load_system("spring", noise=0.0)
    cfg = TrainConfig(steps=40, hidden=32, seed=3, lr=3e-3)
    a, b = train_baseline(traj, kind, cfg), train_baseline(traj, kind, cfg)
    assert a.losses[-1] < 0.5 * a.losses[0]
    assert np.array_equal(a.losses, b.losses)
    assert a.test_mse is not None and np.isfinite(a.test_mse)
    with pytest.raises(ValueError, match="baseline"):
        train_baseline(traj, "cnn", cfg)


def test_weight_decay_default_follows_the_data():
    assert TrainConfig.for_data(load_system("real-pendulum")).weight_decay == 1e-5
    assert TrainConfig.for_data(load_system("spring")).weight_decay == 1e-4


# ------------------------------------------------------------------------------------- fast tailoring of the MLP


def generic_tailored(model, params, x, lr, first_order=False):
    """The reference: tailor_batch (per-query weight copies) + functional_call."""
    loss = law_inner_loss(pendulum_law, DT)

    def inner(p, xq):
        return loss(xq[None, None], functional_call(model, p, (xq[None, None],)))[0, 0]

    tailored = tailor_batch(params, inner, x, InnerConfig(lr=lr, first_order=first_order))
    return vmap(lambda p, xq: functional_call(model, p, (xq,)))(tailored, x)


@pytest.mark.parametrize("first_order", [False, True])
def test_fast_mlp_tailoring_equals_generic_tailoring_with_gradients(first_order):
    model = MLP.seeded(0, 2, 24).double()
    x = torch.randn(9, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    target = torch.randn(9, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    outs, grads = [], []
    for fast in (True, False):
        params = {k: v.detach().clone().requires_grad_() for k, v in model.named_parameters()}
        if fast:
            pred = tailor_mlp(params, x[None], law_inner_loss(pendulum_law, DT), 0.3, first_order=first_order)[0][0]
        else:
            pred = generic_tailored(model, params, x, 0.3, first_order)
        (pred - target).square().mean().backward()
        outs.append(pred.detach())
        grads.append({k: v.grad for k, v in params.items()})
    assert torch.allclose(outs[0], outs[1], atol=1e-12)
    assert not torch.allclose(outs[0], model(x), atol=1e-4)  # tailoring did something
    for k in grads[0]:
        assert torch.allclose(grads[0][k], grads[1][k], rtol=1e-8, atol=1e-12), k


def test_fast_tailoring_of_stacked_models_with_per_model_learning_rates():
    model = MLP.seeded(0, 2, 16).double()
    p = {k: v.detach() for k, v in model.named_parameters()}
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    lrs = torch.tensor([0.0, 0.1, 1.0], dtype=torch.float64)
    pred, v = tailor_mlp(stacked(p, 3), x[None].expand(3, 5, 2), law_inner_loss(pendulum_law, DT), lrs)
    assert torch.allclose(pred[0], model(x)) and torch.allclose(v[1], model(x))
    for i in (1, 2):
        assert torch.allclose(pred[i], generic_tailored(model, p, x, float(lrs[i])), atol=1e-12)


def test_tailoring_lowers_the_law_loss_for_a_small_step():
    model = MLP.seeded(0, 2, 16)
    p = {k: v.detach() for k, v in model.named_parameters()}
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    loss = law_inner_loss(pendulum_law, DT)
    pred, v = tailor_mlp(p, x[None], loss, 1e-2)
    assert loss(x[None], pred).sum() < loss(x[None], v).sum()
