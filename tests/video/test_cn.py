"""CN layers: identity at initialisation, per-example parameters, and a tailored model that reduces to the plain one."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from noether.tailoring.inner import InnerConfig
from noether.video.cn import CondNorm, NormCN, cn_parameters, per_example


def test_cn_starts_as_identity_after_groupnorm():
    x = torch.randn(2, 5, 7, 7)
    layer = NormCN(5)
    assert torch.equal(layer(x), layer.norm(x))
    assert torch.equal(CondNorm(5)(x), x)


def test_groupnorm_works_at_batch_size_one_and_two():
    layer = NormCN(4)
    for B in (1, 2):
        y = layer(torch.randn(B, 4, 3, 3))
        assert torch.isfinite(y).all() and y.shape == (B, 4, 3, 3)


def test_per_example_parameters_equal_a_loop_over_examples():
    torch.manual_seed(0)
    layer = CondNorm(3)
    x = torch.randn(4, 3, 2, 2)
    gamma, beta = torch.randn(4, 3), torch.randn(4, 3)
    batched = torch.func.functional_call(layer, {"gamma": gamma, "beta": beta}, (x,))
    for b in range(4):
        one = torch.func.functional_call(layer, {"gamma": gamma[b : b + 1], "beta": beta[b : b + 1]}, (x[b : b + 1],))
        assert torch.allclose(batched[b : b + 1], one)
    # frames of 2 time steps folded time-major into the batch reuse each example's parameters
    folded = torch.func.functional_call(layer, {"gamma": gamma, "beta": beta}, (torch.cat([x, x]),))
    assert torch.allclose(folded[4:], batched)
    with pytest.raises(ValueError, match="per-example"):
        torch.func.functional_call(layer, {"gamma": gamma[:3], "beta": beta[:3]}, (x,))


def test_cn_parameters_are_found_and_expanded():
    net = nn.Sequential(NormCN(2), nn.Conv2d(2, 2, 1), NormCN(3, cn=False))
    params = cn_parameters(net)
    assert set(params) == {"0.cn.gamma", "0.cn.beta"}
    assert per_example(params, 5)["0.cn.gamma"].shape == (5, 2)


@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_zero_inner_steps_or_zero_lr_equal_the_untailored_model(teacher_forcing, ramp_net, ramp_query):
    net = ramp_net()
    q = ramp_query(net, teacher_forcing=teacher_forcing)
    with torch.no_grad():
        plain = net.rollout(q).frames
    for inner in (InnerConfig(lr=1e-2, steps=0), InnerConfig(lr=0.0, steps=1)):
        assert torch.equal(net(q, inner).frames.detach(), plain)
    # a real inner step does change the prediction (so the equality above is not vacuous)
    moved = net(q, InnerConfig(lr=10.0, steps=1)).frames.detach()
    assert (moved - plain).abs().max() > 1e-6
