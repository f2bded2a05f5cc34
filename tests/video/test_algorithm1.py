"""Algorithm 1: one outer step changes both θ and φ; φ learns only through the (second-order) inner step."""

from __future__ import annotations

import pytest
import torch

from noether.tailoring.inner import InnerConfig
from noether.video import noether_net
from noether.video.config import preset_config
from noether.video.noether_net import Query, task_loss
from noether.video.train import build_net


def _grads(module):
    return [p.grad for p in module.parameters()]


@pytest.mark.slow
def test_one_algorithm1_step_changes_theta_and_phi(ramp_net, ramp_query):
    net = ramp_net()
    q = ramp_query(net)
    theta0 = [p.detach().clone() for p in net.predictor.parameters()]
    phi0 = [p.detach().clone() for p in net.embedding.parameters()]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = task_loss(q, net(q, InnerConfig(lr=1.0)), beta=1e-4)
    opt.zero_grad()
    loss.backward()
    phi_grad = sum(g.abs().sum() for g in _grads(net.embedding))
    assert phi_grad > 0
    opt.step()
    assert any(not torch.equal(a, b) for a, b in zip(theta0, net.predictor.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(phi0, net.embedding.parameters()))


def test_embedding_gradient_is_second_order_only(ramp_net, ramp_query):
    net = ramp_net()
    q = ramp_query(net)
    task_loss(q, net(q, InnerConfig(lr=1.0, first_order=True))).backward()
    grads = [g for g in _grads(net.embedding)]
    assert all(g is None or torch.count_nonzero(g) == 0 for g in grads)


def test_embedding_gradient_matches_finite_differences(ramp_net, ramp_query):
    """d L_task / d φ through the inner step, against a central difference in float64 along a random direction,
    on the output layer's weights (smooth in them: no ReLU or max-pool after it, so a finite difference is
    reliable; they reach the task loss only through the inner step). The output bias is the control: a constant
    offset of g cancels in Eq. 2(b), so its gradient must vanish."""
    net = ramp_net().double()
    q = ramp_query(net, B=2, T=4)
    q = Query(q.frames.double(), q.n_cond, eps=q.eps.double())
    inner = InnerConfig(lr=5.0)
    weight, bias = net.embedding.net[-1].weight, net.embedding.net[-1].bias
    loss = task_loss(q, net(q, inner))
    g, g_bias = torch.autograd.grad(loss, [weight, bias])
    assert g_bias.abs().max() < 1e-12 * g.abs().max()
    v = torch.randn(weight.shape, dtype=weight.dtype, generator=torch.Generator().manual_seed(1))
    h = 1e-5
    with torch.no_grad():
        weight += h * v
    up = task_loss(q, net(q, inner)).detach()
    with torch.no_grad():
        weight -= 2 * h * v
    down = task_loss(q, net(q, inner)).detach()
    fd = (up - down) / (2 * h)
    assert (g * v).sum().abs() > 1e-3 * g.abs().max()  # a direction the loss actually changes along
    assert torch.isclose((g * v).sum(), fd, rtol=1e-5, atol=0)


@pytest.mark.slow
def test_controlled_model_tailors_lstm_outputs_with_a_frozen_base():
    torch.manual_seed(0)
    net = build_net(preset_config("pendulum-controlled", "noether", "ci"), channels=3, action_dim=1)
    net.predictor.requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    q = Query(torch.rand(2, 8, 3, 64, 64, generator=g), 4, actions=torch.rand(2, 8, 1, generator=g))
    plain = net.rollout(q)
    tailored = net(q)
    # history predictions untouched, future ones moved by the inner step on the LSTM outputs
    assert torch.equal(tailored.frames[:, :3], plain.frames[:, :3])
    assert (tailored.frames[:, 3:] - plain.frames[:, 3:]).abs().max() > 0
    task_loss(q, tailored).backward()
    assert sum(p.grad.abs().sum() for p in net.embedding.parameters()) > 0
    assert all(p.grad is None for p in net.predictor.parameters())


def test_batched_tailoring_equals_tailoring_each_query_alone(ramp_net, ramp_query):
    net = ramp_net()
    q = ramp_query(net, B=3, T=5, teacher_forcing=False)
    inner = InnerConfig(lr=10.0)
    batched = net(q, inner).frames.detach()
    for b in range(3):
        one = Query(q.frames[b : b + 1], q.n_cond, eps=q.eps[:, b : b + 1], teacher_forcing=False)
        assert torch.allclose(net(one, inner).frames.detach(), batched[b : b + 1], atol=1e-5)


def test_inner_reduction_matches_the_papers_formula(ramp_net, ramp_query):
    """Per example, the tailored CN step equals the official code's SGD step for a batch of one on
    Σ_t mean_k (g_t - g_{t-1})² (``inner_crit``, form b): lr × its gradient at the identity. "sum" is k times it."""
    inner = InnerConfig(lr=0.3, first_order=True)
    steps = {}
    for reduction in ("paper", "sum"):
        net = ramp_net(reduction=reduction).double()
        q = ramp_query(net, B=3, T=5, teacher_forcing=False)
        frames = q.frames.double()
        q = Query(frames, q.n_cond, eps=q.eps.double(), teacher_forcing=False)
        start = net.predictor.theta_cn()
        captured = {}

        def spy(adapted, loss, config, _tailor=noether_net.tailor):
            out = _tailor(adapted, loss, config)
            captured.update({k: (adapted[k] - out[k]) / config.lr for k in out})  # the gradient each row used
            return out

        noether_net.tailor, original = spy, noether_net.tailor
        try:
            net(q, inner)
        finally:
            noether_net.tailor = original
        steps[reduction] = captured
        # the official formula for example b alone, shared γ, β at the identity, batch of one
        for b in range(3):
            qb = Query(frames[b : b + 1], 2, eps=q.eps[:, b : b + 1], teacher_forcing=False)

            def official(cn):
                r = net.rollout(qb, {k: v.expand(1, -1) for k, v in cn.items()})
                e = net.embedding.pairs(net.sequence(qb, r.frames))[0]  # [T-1, k], pair j = frames (j, j+1)
                seq = e[qb.n_cond - 2 :]
                return (seq[1:] - seq[:-1]).square().mean(1).sum()

            g = torch.func.grad(official)({k: v.detach() for k, v in start.items()})
            if reduction == "paper":
                for k in g:
                    torch.testing.assert_close(captured[k][b], g[k][0], rtol=1e-6, atol=1e-12)
    k = net.embedding.k
    for name in steps["paper"]:
        torch.testing.assert_close(steps["sum"][name], k * steps["paper"][name], rtol=1e-6, atol=1e-12)


def test_the_paper_ramp_is_128_pixels_and_its_model_runs_at_that_size():
    """App. E: the ramp at 128 x 128; the predictor gains a fifth resolution level (SVG's vgg_128)."""
    from noether.video.config import preset_config
    from noether.video.noether_net import Query
    from noether.video.train import build_net

    assert preset_config("ramp", "noether", "paper").size == 128
    assert preset_config("pendulum-controlled", "svg", "paper").size == 64
    cfg = preset_config("ramp", "noether", "ci", size=128)
    torch.manual_seed(0)
    net = build_net(cfg, 3, 0, size=128)
    assert len(net.predictor.encoder.levels) == 5
    g = torch.Generator().manual_seed(0)
    q = Query(torch.rand(1, 4, 3, 128, 128, generator=g), 2, eps=net.predictor.noise(1, 3, g))
    r = net(q)
    assert r.frames.shape == (1, 3, 3, 128, 128) and torch.isfinite(r.frames).all()
    with pytest.raises(ValueError, match="64 or 128"):
        preset_config("ramp", "svg", "ci", size=96)
