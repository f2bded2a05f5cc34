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


@pytest.mark.parametrize(
    "content, match",
    [
        ("{not json", "not valid JSON"),
        ('{"laws": []}', "no laws"),
        ('{"laws": [{"units": {}}]}', "neither 'formula' nor 'expression'"),
        ('{"laws": [{"expression": "p**2 +* q"}]}', "cannot parse"),
        ("[1, 2]", "not a noether laws.json"),
    ],
)
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


def test_work_integral_is_the_trapezoid_sum_of_torque_times_velocity():
    from noether.video.embeddings import work_integral

    g = torch.Generator().manual_seed(0)
    p, a = torch.randn(2, 5, generator=g), torch.randn(2, 6, 1, generator=g)
    w = work_integral(p, a, 0.05)
    for b in range(2):
        total = 0.0
        for j in range(5):
            assert w[b, j].item() == pytest.approx(total, abs=1e-6)
            if j < 4:
                total += float(a[b, j + 1, 0] * (p[b, j] + p[b, j + 1]) / 2 * 0.05)


def test_the_controlled_pendulum_oracle_is_conserved_better_than_the_plain_energy():
    """On the true states of Pendulum-v1, 2E - 6w (energy minus the torque's work) varies less within a window
    than 2E, where the velocity never reaches the environment's clip at 8 (clipping removes energy)."""
    from noether.video.data import load_video_dataset
    from noether.video.embeddings import work_integral
    from noether.video.laws import ORACLE_LAWS

    data = load_video_dataset("pendulum-controlled", preset="ci", seed=0)
    states = torch.as_tensor(data.arrays["states"])
    actions = torch.as_tensor(data.arrays["actions"]).double()
    oracle = law_from_expression(ORACLE_LAWS["pendulum-controlled"])
    energy = law_from_expression("p**2 + 30*cos(q)")
    spread = {"oracle": [], "energy": []}
    for e in range(len(states)):
        for s in range(0, states.shape[1] - 27, 3):
            x = states[e, s : s + 27]
            if x[:, 1].abs().max() >= 7.999:
                continue
            w = work_integral(x[None, :, 1], actions[e, s : s + 28][None], 0.05)[0]
            inputs = torch.stack([x[:, 0], x[:, 1], w], -1)
            spread["oracle"].append(float(oracle.torch(inputs[:, law_columns(oracle, "pendulum-controlled")]).std()))
            spread["energy"].append(float(energy.torch(x[:, law_columns(energy, "pendulum-controlled")]).std()))
    assert len(spread["oracle"]) >= 5
    assert np.mean(spread["oracle"]) < 0.25 * np.mean(spread["energy"])


def test_a_law_over_the_controlled_pendulum_s_readout_tailors_the_lstm_outputs():
    """noether-law on pendulum-controlled: g reads a state readout of the frames decoded from the adapted LSTM
    outputs (and the work of the known actions); the inner step changes the prediction, and the outer loss
    reaches the law's scale through it."""
    from noether.video.laws import ORACLE_LAWS

    torch.manual_seed(0)
    cfg = preset_config("pendulum-controlled", "noether-law", "ci")
    net = build_net(cfg, 3, 1, law=law_from_expression(ORACLE_LAWS["pendulum-controlled"]))
    assert net.adapt == "outputs" and net.embedding.reads_actions
    g = torch.Generator().manual_seed(0)
    q = Query(torch.rand(2, 8, 3, 64, 64, generator=g), 4, actions=torch.randn(2, 8, 1, generator=g))
    plain, tailored = net.rollout(q).frames, net(q, InnerConfig(lr=10.0))
    assert not torch.allclose(plain[:, 3:], tailored.frames[:, 3:])
    task_loss(q, tailored).backward()
    assert net.embedding.log_scale.grad.abs() > 0
    with pytest.raises(DataError, match="pendulum-pixels readout only gives"):
        law_columns(law_from_expression("p**2 - 6*w"), "pendulum-pixels")
