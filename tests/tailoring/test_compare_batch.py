"""The comparison evaluates every (method, seed) in one batched solve: each run's RMSE equals that model evaluated
alone, and a pretrained MLP handed in is used instead of training one."""

import numpy as np
import pytest
import torch

from noether.systems import load_system
from noether.tailoring import compare
from noether.tailoring.checkpoint import Checkpoint
from noether.tailoring.compare import CompareConfig, compare_methods
from noether.tailoring.evaluate import long_term, mlp_field, module_field, tailored_field
from noether.tailoring.law.setting import InnerSetting
from noether.tailoring.meta import MetaConfig
from noether.tailoring.train import TrainConfig


def energy(x: torch.Tensor) -> torch.Tensor:
    return x[..., 0] ** 2 + x[..., 1] ** 2


def half_energy(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x[..., 0] ** 2 + x[..., 1] ** 2


@pytest.fixture(scope="module")
def traj():
    return load_system("spring", seed=0).select(list(range(3)) + list(range(27, 30)))


CFG = CompareConfig(
    seeds=(0, 1), baselines=("mlp", "hnn"), train=TrainConfig(steps=30, hidden=16), meta=MetaConfig(epochs=2)
)
INNER = InnerSetting(kind="newton", rates=(0.5,), dt_scales=(1.0,))


def test_each_batched_run_equals_its_model_evaluated_alone(traj, tmp_path):
    box = Checkpoint(tmp_path / "c")
    laws = {"energy": energy, "other": half_energy}
    res = compare_methods(traj, laws, CFG, inner=INNER, checkpoint=box)
    _, test = traj.split()
    for run in res.runs:
        fitted = box.get(f"seed{run.seed}-{run.method}")
        if fitted.kind == "mlp":
            field = mlp_field(fitted.weights)
        elif fitted.kind == "hnn":
            field = module_field(fitted.weights)
        else:
            field = tailored_field(fitted.weights, laws[run.method], fitted.lr, fitted.dt, fitted.setting)
        alone = long_term(field, test)
        assert run.rmse == pytest.approx(float(alone.rmse[0]), rel=1e-9), run.method
        assert np.allclose(run.mse_horizon, alone.mse_horizon[0], rtol=1e-9, atol=1e-15)


def test_a_pretrained_mlp_is_used_instead_of_training_one(traj, monkeypatch):
    whole = compare_methods(traj, {"energy": energy}, CFG, inner=INNER)
    seed1 = compare.train_baseline(traj, "mlp", CFG.train.__class__(steps=30, hidden=16, seed=1))
    trained = []
    real = compare.train_baseline
    monkeypatch.setattr(compare, "train_baseline", lambda t, k, c: trained.append((k, c.seed)) or real(t, k, c))
    reused = compare_methods(
        traj, {"energy": energy}, CFG, inner=INNER, pretrained={1: (compare.params_of(seed1.model), seed1.seconds)}
    )
    assert ("mlp", 1) not in trained and ("mlp", 0) in trained
    assert np.allclose([r.rmse for r in reused.runs], [r.rmse for r in whole.runs], rtol=1e-6, atol=1e-9)
