"""A small-configuration run of the long-term protocol on the pendulum: the true law helps the MLP."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from noether.systems import load_system
from noether.tailoring.compare import CompareConfig, compare_methods
from noether.tailoring.integrate import IntegratorConfig
from noether.tailoring.law.setting import InnerSetting
from noether.tailoring.meta import MetaConfig
from noether.tailoring.train import TrainConfig


def true_law(x):
    return x[..., 1] ** 2 - 3.0 * torch.cos(x[..., 0])


@pytest.mark.slow
@pytest.mark.parametrize("step, lrs, dt_scales", [("sgd", (1.0, 3.0, 10.0), 0.1), ("newton", (0.5, 1.0), (0.01, 0.1))])
def test_true_law_meta_tailoring_beats_the_vanilla_mlp_on_the_pendulum(step, lrs, dt_scales):
    traj = load_system("pendulum", noise=0.1, seed=0)
    traj = traj.select(list(range(12)) + list(range(25, 37)))  # 12 train + 12 test trajectories
    cfg = CompareConfig(
        seeds=(0,),
        baselines=("mlp",),
        train=TrainConfig(steps=800),
        meta=MetaConfig(epochs=100 if step == "sgd" else 30),
        # looser than the default 1e-9: this checks the protocol's plumbing and a 10% margin, not the solve's
        # accuracy (test_integrate.py does); it halves the long-term solves' time
        integrator=IntegratorConfig(rtol=1e-6, atol=1e-6),
    )
    inner = InnerSetting(kind=step, rates=lrs, dt_scales=np.atleast_1d(dt_scales), law_lr=0.0)
    # The inner loss with the data's dt (0.068) is biased towards the secant of the level set; at dt/10 the true
    # law's tailoring helps (see README 'Meta-tailoring' for the full-protocol numbers).
    res = compare_methods(traj, {"oracle": true_law}, cfg, inner=inner)
    rmse = dict(zip(res.summary.method, res.summary.rmse_mean))
    # One seed cannot show that tailoring beats the MLP: the paired verdict says so, and the 3-seed protocol in
    # benchmarks/results/tailoring.md finds no clear difference on this pendulum (MLP per-seed RMSE 0.095-0.101).
    # What one seed can check: the tailored model is evaluated on the same seed and trajectories, and is not worse
    # than the MLP by more than twice that seed-to-seed spread (~5%).
    verdict = res.versus("mlp").set_index("method").loc["oracle", "verdict"]
    assert verdict.endswith("(one seed: no spread)"), verdict
    assert np.isfinite(rmse["oracle"]) and rmse["oracle"] < 1.1 * rmse["mlp"], rmse
