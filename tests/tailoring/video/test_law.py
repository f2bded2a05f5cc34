"""A discovered law as the Noether embedding: loading, differentiability, and gradients reaching the readout."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from noether.errors import DataError
from noether.tailoring.inner import InnerConfig
from noether.tailoring.video.config import preset_config
from noether.tailoring.video.laws import law_columns, law_from_expression, law_from_json
from noether.tailoring.video.noether_net import Query, task_loss
from noether.tailoring.video.train import build_net


def _law_file(tmp_path, expression="p**2 - 3*cos(q)"):
    path = tmp_path / "laws.json"
    path.write_text(json.dumps({"laws": [{"expression": expression, "parameters": {"c0": -3.0},
                                          "units": {"q": "rad", "p": "kg*m**2/s"}}]}))
    return path


def test_law_from_json_evaluates_the_expression(tmp_path):
    law = law_from_json(_law_file(tmp_path))
    cols = law_columns(law)
    qp = np.random.default_rng(0).normal(size=(5, 2))
    X = torch.as_tensor(qp)[:, cols]
    expected = qp[:, 1] ** 2 - 3 * np.cos(qp[:, 0])
    assert np.allclose(law.torch(X).numpy(), expected)


@pytest.mark.parametrize("content, match", [("{not json", "not valid JSON"), ('{"laws": []}', "no law"),
                                            ('{"laws": [{"units": {}}]}', "expression")])
def test_bad_law_files_raise_one_clear_error(tmp_path, content, match):
    path = tmp_path / "laws.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        law_from_json(path)
    with pytest.raises(DataError, match="does not exist"):
        law_from_json(tmp_path / "missing.json")


def test_law_over_unknown_inputs_is_refused():
    with pytest.raises(DataError, match="readout"):
        law_columns(law_from_expression("x**2 + p"))


def _law_net(seed=0):
    torch.manual_seed(seed)
    cfg = preset_config("pendulum-pixels", "noether-law", "ci")
    return build_net(cfg, channels=3, action_dim=0, law=law_from_expression("p**2 - 3*cos(q)"))


@pytest.mark.slow
def test_law_embedding_gradient_reaches_the_readout():
    net = _law_net()
    q = Query(torch.rand(2, 5, 3, 64, 64, generator=torch.Generator().manual_seed(0)), 2)
    task_loss(q, net(q, InnerConfig(lr=1.0))).backward()
    readout_grads = [p.grad for p in net.embedding.readout.parameters()]
    assert all(g is not None for g in readout_grads)
    assert sum(g.abs().sum() for g in readout_grads) > 0
    assert net.embedding.log_scale.grad.abs() > 0


def test_law_embedding_is_the_law_of_the_readout_states():
    net = _law_net()
    seq = torch.rand(1, 4, 3, 64, 64)
    states = net.embedding.readout.pairs(seq)  # (q, p)
    expected = states[..., 1] ** 2 - 3 * torch.cos(states[..., 0])
    assert torch.allclose(net.embedding.pairs(seq)[..., 0], expected)
