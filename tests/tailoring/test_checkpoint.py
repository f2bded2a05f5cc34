"""An interrupted evaluation resumes: every finished (method, seed) run and each seed's MLP are kept on disk, and
the resumed comparison equals one that was never interrupted."""

import numpy as np
import pytest
import torch

from noether.systems import load_system
from noether.tailoring import compare
from noether.tailoring.checkpoint import Checkpoint
from noether.tailoring.compare import CompareConfig, compare_methods
from noether.tailoring.law.setting import InnerSetting
from noether.tailoring.meta import MetaConfig
from noether.tailoring.train import TrainConfig


def energy(x: torch.Tensor) -> torch.Tensor:
    return x[..., 0] ** 2 + x[..., 1] ** 2


@pytest.fixture(scope="module")
def setup():
    traj = load_system("spring", seed=0).select(list(range(3)) + list(range(27, 30)))
    cfg = CompareConfig(
        seeds=(0, 1), baselines=("mlp", "hnn"), train=TrainConfig(steps=30, hidden=16), meta=MetaConfig(epochs=2)
    )
    return traj, cfg, InnerSetting(kind="newton", rates=(0.5,), dt_scales=(1.0,))


def test_checkpoint_keeps_whole_values_and_ignores_nothing(tmp_path):
    box = Checkpoint(tmp_path / "c")
    assert box.get("a") is None
    box.put("seed0-hand coded", {"x": np.arange(3)})
    assert np.array_equal(box.get("seed0-hand coded")["x"], np.arange(3)) and box.names() == ["seed0-hand_coded"]
    box.clear()
    assert box.get("seed0-hand coded") is None
    assert Checkpoint(None).get("a") is None  # no directory: nothing kept, nothing fails
    Checkpoint(None).put("a", 1)


def test_an_interrupted_comparison_resumes_after_the_last_finished_run(setup, tmp_path, monkeypatch):
    traj, cfg, inner = setup
    whole = compare_methods(traj, {"oracle": energy}, cfg, inner=inner)

    trained = []
    real_train = compare.train_baseline

    def train(traj_, kind, config):
        trained.append((kind, config.seed))
        return real_train(traj_, kind, config)

    def interrupting(x):  # Ctrl-C while tailoring with the law on seed 1: seed 0 is done, seed 1's MLP trained
        if trained[-1] == ("mlp", 1):
            raise KeyboardInterrupt
        return energy(x)

    monkeypatch.setattr(compare, "train_baseline", train)
    box = Checkpoint(tmp_path / "eval")
    with pytest.raises(KeyboardInterrupt):
        compare_methods(traj, {"oracle": interrupting}, cfg, inner=inner, checkpoint=box)
    assert trained == [("mlp", 0), ("hnn", 0), ("mlp", 1)]
    kept = set(box.names())
    assert {"seed0-mlp", "seed0-oracle", "seed0-hnn", "seed0-mlp-weights", "seed1-mlp-weights", "seed1-mlp"} == kept

    trained.clear()
    resumed = compare_methods(traj, {"oracle": energy}, cfg, inner=inner, checkpoint=box)
    assert trained == [("hnn", 1)]  # seed 0 entirely and seed 1's MLP came from the checkpoint
    assert [(r.method, r.seed) for r in resumed.runs] == [(r.method, r.seed) for r in whole.runs]
    assert np.allclose([r.rmse for r in resumed.runs], [r.rmse for r in whole.runs], rtol=1e-6, atol=1e-9)
    assert np.array_equal(resumed.times, whole.times)
