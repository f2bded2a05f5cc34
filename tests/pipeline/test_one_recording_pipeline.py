"""The whole pipeline on one recording: the filter finds the energy with the derivative score, tailoring trains on
the first part in time, the evaluation starts at the held-out segment, and report.md says both."""

import numpy as np
import pytest

from noether.discovery import FilterConfig, GradientConfig
from noether.pipeline import DiscoverConfig, TailorConfig, discover
from noether.pipeline.report import _one_recording_lines
from noether.systems import load_system
from noether.systems.recording import one_recording
from noether.tailoring import MetaConfig, ScreenConfig, TrainConfig
from noether.tailoring.integrate import IntegratorConfig

pytestmark = pytest.mark.slow


def test_one_spring_recording_runs_every_stage_and_reports_its_split(tmp_path):
    traj = one_recording("spring", noise=0.01, points=400)
    config = DiscoverConfig(
        depth=7,
        filter=FilterConfig(gradient=GradientConfig(restarts=1, steps=6)),
        tailor=TailorConfig(
            max_screen=5,
            screen=ScreenConfig(top_k=2),
            meta=MetaConfig(epochs=3),
            train=TrainConfig(steps=100),
            eval_seeds=(0,),
            baselines=("mlp",),
            # a looser solve than the default 1e-9: these tests check what the stages do, not the ODE's accuracy
            # (tests/tailoring/test_integrate.py does); it halves meta-tailoring's pick and the evaluation
            integrator=IntegratorConfig(rtol=1e-6, atol=1e-6),
        ),
    )
    result = discover(traj, config)
    assert result.filter.score == "derivative"
    x = np.random.default_rng(0).uniform(-1, 1, (500, 2))  # off the orbit, where the energy takes many values
    assert abs(np.corrcoef(result.law.numpy(x), x[:, 0] ** 2 + x[:, 1] ** 2)[0, 1]) > 0.999
    assert set(result.timings) >= {"filter", "screen", "meta-tailor", "evaluate"}
    result.write(tmp_path)
    report = (tmp_path / "report.md").read_text()
    test_start = traj.times[0][traj.test_mask[0]][0]
    assert f"held-out segment's first state (t = {test_start:.4g})" in report
    assert "score: derivative" in report


def test_the_split_lines_appear_for_one_recording_only():
    assert _one_recording_lines(one_recording("spring", points=100))[0].startswith("One recording: split in time")
    assert _one_recording_lines(load_system("spring")) == []
