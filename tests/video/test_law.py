"""A discovered law as the Noether embedding: loading, differentiability, and gradients reaching the readout."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from noether.dsl import Law
from noether.errors import DataError
from noether.pipeline import RankedLaw, write_laws
from noether.tailoring.inner import InnerConfig
from noether.video.config import preset_config
from noether.video.laws import law_columns, law_from_expression, law_from_json
from noether.video.noether_net import Query, task_loss
from noether.video.train import build_net


def pipeline_laws_file(tmp_path):
    """A laws.json as the discover pipeline writes it (formula tree, units, parameters with their units)."""
    law = Law.parse("p**2 - c*cos(q)", ["q", "p"], {"q": "rad", "p": "rad/s"}, params={"c": 2.5})
    path = tmp_path / "laws.json"
    write_laws(path, [RankedLaw(1, law, {"s_true": 1e-9}), RankedLaw(2, Law.reference("q**2", ["q", "p"]))], {})
    return path


def _values(law, qp):
    return law.torch(torch.as_tensor(qp)[:, law_columns(law)]).numpy()


def test_law_from_a_pipeline_laws_json_is_the_exact_law(tmp_path):
    path = pipeline_laws_file(tmp_path)
    assert "formula" in json.loads(path.read_text())["laws"][0]  # the pipeline's record, not a hand-written one
    law = law_from_json(path)
    assert law.params == (2.5,) and law.unit != "dimensionless"
    qp = np.random.default_rng(0).normal(size=(5, 2))
    assert np.allclose(_values(law, qp), qp[:, 1] ** 2 - 2.5 * np.cos(qp[:, 0]))
    assert np.allclose(_values(law_from_json(path, rank=2), qp), qp[:, 0] ** 2)


def test_hand_written_laws_json_is_read_from_its_expression(tmp_path):
    path = tmp_path / "laws.json"
    path.write_text(json.dumps({"laws": [{"expression": "p**2 - 3*cos(q)"}]}))
    qp = np.random.default_rng(1).normal(size=(5, 2))
    assert np.allclose(_values(law_from_json(path), qp), qp[:, 1] ** 2 - 3 * np.cos(qp[:, 0]))


@pytest.mark.parametrize("content, match", [("{not json", "not valid JSON"), ('{"laws": []}', "no laws"),
                                            ('{"laws": [{"units": {}}]}', "neither 'formula' nor 'expression'"),
                                            ('{"laws": [{"expression": "p**2 +* q"}]}', "cannot parse"),
                                            ('[1, 2]', "not a noether laws.json")])
def test_bad_law_files_raise_one_clear_error(tmp_path, content, match):
    path = tmp_path / "laws.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        law_from_json(path)
    with pytest.raises(DataError, match="not found"):
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
