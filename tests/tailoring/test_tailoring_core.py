"""Tailoring core: the Noether loss (Eq. 2) and the per-query inner step (Eq. 3) with torch.func."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from noether.tailoring.inner import InnerConfig, tailor, tailor_batch
from noether.tailoring.loss import noether_loss

# ---------------------------------------------------------------------------------------------- Noether loss


def test_noether_loss_forms_by_hand():
    g0 = torch.tensor([[1.0, 0.0]])
    seq = torch.tensor([[[2.0, 0.0], [2.0, 1.0], [0.0, 1.0]]])
    # (a): |1-2|^2 + (|1-2|^2 + 1) + (1 + 1)
    assert noether_loss(g0, seq, "a").item() == pytest.approx(1 + 2 + 2)
    # (b): |g0 - s1|^2 + |s1 - s2|^2 + |s2 - s3|^2 = 1 + 1 + 4
    assert noether_loss(g0, seq, "b").item() == pytest.approx(1 + 1 + 4)


def test_noether_loss_forms_agree_for_one_step_and_vanish_when_conserved():
    torch.manual_seed(0)
    g0, seq = torch.randn(5, 3), torch.randn(5, 1, 3)
    assert torch.allclose(noether_loss(g0, seq, "a"), noether_loss(g0, seq, "b"))
    const = g0[:, None, :].expand(5, 4, 3)
    assert torch.all(noether_loss(g0, const, "a") == 0) and torch.all(noether_loss(g0, const, "b") == 0)
    assert noether_loss(g0, const).shape == (5,)


def test_noether_loss_rejects_bad_shapes_and_forms():
    with pytest.raises(ValueError, match="g_seq"):
        noether_loss(torch.zeros(4, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="disagree"):
        noether_loss(torch.zeros(4, 2), torch.zeros(3, 5, 2))
    with pytest.raises(ValueError, match="form"):
        noether_loss(torch.zeros(4, 1), torch.zeros(4, 5, 1), form="c")


# ---------------------------------------------------------------------------------------------- a tiny Noether net


class Step(torch.nn.Module):
    """x_{t+1} = x_t + W2 tanh(W1 x_t): the base predictor f_theta."""

    def __init__(self, d: int = 2, h: int = 5):
        super().__init__()
        self.l1, self.l2 = torch.nn.Linear(d, h), torch.nn.Linear(h, d)

    def forward(self, x):
        return x + self.l2(torch.tanh(self.l1(x)))


class Embed(torch.nn.Module):
    """g_phi: R^d -> R^k."""

    def __init__(self, d: int = 2, k: int = 2):
        super().__init__()
        self.l1 = torch.nn.Linear(d, k)

    def forward(self, x):
        return torch.sin(self.l1(x))


def rollout(model, params, x0, horizon):
    xs, x = [], x0
    for _ in range(horizon):
        x = functional_call(model, params, (x,))
        xs.append(x)
    return torch.stack(xs, dim=-2)


def make_problem(dtype=torch.float32, batch=4, horizon=3, seed=0):
    torch.manual_seed(seed)
    f, g = Step().to(dtype), Embed().to(dtype)
    x0 = torch.randn(batch, 2, dtype=dtype)
    target = torch.randn(batch, horizon, 2, dtype=dtype)
    return f, g, x0, target


def outer_loss_vmapped(f, g, theta, phi, x0, target, config, form="a"):
    horizon = target.shape[-2]

    def inner(p, x):  # one query x: [d]
        seq = rollout(f, p, x, horizon)
        return noether_loss(functional_call(g, phi, (x[None],)), functional_call(g, phi, (seq[None],)), form)[0]

    tailored = tailor_batch(theta, inner, x0, config)

    def task(p, x, y):
        return (rollout(f, p, x, horizon) - y).square().mean()

    return torch.func.vmap(task)(tailored, x0, target).mean()


def outer_loss_loop(f, g, theta, phi, x0, target, config, form="a"):
    horizon = target.shape[-2]
    losses = []
    for x, y in zip(x0, target):

        def inner(p, x=x):
            seq = rollout(f, p, x[None], horizon)
            return noether_loss(functional_call(g, phi, (x[None],)), functional_call(g, phi, (seq,)), form).sum()

        p = tailor(theta, inner, config)
        losses.append((rollout(f, p, x[None], horizon)[0] - y).square().mean())
    return torch.stack(losses).mean()


CONFIGS = [
    InnerConfig(lr=0.3),
    InnerConfig(lr=0.1, steps=2),
    InnerConfig(lr=0.05, steps=2, optimizer="adam"),
    InnerConfig(lr=0.3, first_order=True),
]


@pytest.mark.parametrize("config", CONFIGS, ids=["sgd", "sgd-2", "adam-2", "sgd-first-order"])
@pytest.mark.parametrize("form", ["a", "b"])
def test_vmapped_tailored_gradients_equal_a_per_example_loop(config, form):
    f, g, x0, target = make_problem()
    grads = []
    for fn in (outer_loss_vmapped, outer_loss_loop):
        theta = {k: v.detach().clone().requires_grad_() for k, v in f.named_parameters()}
        phi = {k: v.detach().clone().requires_grad_() for k, v in g.named_parameters()}
        loss = fn(f, g, theta, phi, x0, target, config, form)
        loss.backward()
        named = {**theta, **{"g." + k: v for k, v in phi.items()}}
        grads.append((loss.detach(), {k: torch.zeros_like(v) if v.grad is None else v.grad for k, v in named.items()}))
    (l1, g1), (l2, g2) = grads
    assert torch.allclose(l1, l2, rtol=1e-5, atol=1e-7)
    for k in g1:
        assert torch.allclose(g1[k], g2[k], rtol=1e-4, atol=1e-6), k


def test_tailoring_changes_weights_per_query_and_lowers_the_inner_loss():
    f, g, x0, _ = make_problem()
    theta = dict(f.named_parameters())
    phi = dict(g.named_parameters())

    def inner(p, x):
        return noether_loss(g(x[None]), g(rollout(f, p, x[None], 3)))[0]

    tailored = tailor_batch(theta, inner, x0, InnerConfig(lr=0.05))
    assert tailored["l1.weight"].shape == (4, 5, 2)
    assert not torch.allclose(tailored["l1.weight"][0], tailored["l1.weight"][1])
    before = torch.stack([inner(theta, x) for x in x0])
    after = torch.stack([inner({k: v[i] for k, v in tailored.items()}, x) for i, x in enumerate(x0)])
    assert torch.all(after < before)
    del phi


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_second_order_gradients_match_finite_differences(optimizer):
    f, g, x0, target = make_problem(dtype=torch.float64, batch=2, horizon=2)
    theta = {k: v.detach().clone() for k, v in f.named_parameters()}
    phi = {k: v.detach().clone() for k, v in g.named_parameters()}
    names_t, names_p = list(theta), list(phi)
    config = InnerConfig(lr=0.2, steps=2, optimizer=optimizer)

    def fn(*tensors):
        th = dict(zip(names_t, tensors[: len(names_t)]))
        ph = dict(zip(names_p, tensors[len(names_t) :]))
        return outer_loss_vmapped(f, g, th, ph, x0, target, config)

    inputs = tuple(v.requires_grad_() for v in [*theta.values(), *phi.values()])
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_first_order_gives_the_embedding_zero_gradient_but_second_order_does_not():
    f, g, x0, target = make_problem()
    norms = {}
    for first_order in (True, False):
        theta = {k: v.detach().clone().requires_grad_() for k, v in f.named_parameters()}
        phi = {k: v.detach().clone().requires_grad_() for k, v in g.named_parameters()}
        loss = outer_loss_vmapped(f, g, theta, phi, x0, target, InnerConfig(lr=0.3, first_order=first_order))
        grads = torch.autograd.grad(loss, list(phi.values()) + list(theta.values()), allow_unused=True)
        phi_grads = [torch.zeros(1) if gr is None else gr for gr in grads[: len(phi)]]
        norms[first_order] = sum(float(gr.abs().sum()) for gr in phi_grads)
        assert all(gr is not None and gr.abs().sum() > 0 for gr in grads[len(phi) :])  # theta learns either way
    assert norms[True] == 0.0
    assert norms[False] > 1e-6


def test_adam_first_step_moves_each_entry_by_the_learning_rate():
    w = {"w": torch.tensor([3.0, -0.5, 1e-3])}
    out = tailor(w, lambda p: (p["w"] * torch.tensor([2.0, 1.0, -4.0])).sum(), InnerConfig(lr=0.1, optimizer="adam"))
    assert torch.allclose(out["w"] - w["w"], torch.tensor([-0.1, -0.1, 0.1]), atol=1e-6)


def test_learning_rate_can_be_swept_under_vmap():
    w = {"w": torch.tensor([1.0, 2.0])}
    lrs = torch.tensor([0.0, 0.1, 0.5])
    out = torch.func.vmap(lambda lr: tailor(w, lambda p: p["w"].square().sum(), lr=lr)["w"])(lrs)
    assert torch.allclose(out, w["w"] * (1 - 2 * lrs[:, None]))


def test_zero_steps_is_identity_and_bad_configs_are_rejected():
    w = {"w": torch.tensor([1.0, 2.0])}
    assert tailor(w, lambda p: p["w"].sum(), InnerConfig(steps=0))["w"] is w["w"]
    for bad in (dict(lr=-1.0), dict(steps=-1), dict(optimizer="rmsprop"), dict(betas=(1.0, 0.9))):
        with pytest.raises(ValueError):
            InnerConfig(**bad)
