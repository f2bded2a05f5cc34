"""Sanity baselines and paired per-horizon differences with episode-resampled intervals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from noether.video.compare import difference, is_trained
from noether.video.data import load_video_dataset
from noether.video.evaluate import METRICS, HorizonMetrics, evaluate_baseline, frame_metrics


def _runs(label: str, mse: np.ndarray, seed: int = 0, episodes=None) -> HorizonMetrics:
    episodes = list(range(len(mse))) if episodes is None else episodes
    return HorizonMetrics(label, "x", seed, mse, -mse, 1 - mse, meta={"episodes": episodes})


def test_copy_last_frame_baseline_scores_the_repeated_frame():
    data = load_video_dataset("pendulum-controlled", preset="ci", seed=0)
    copy = evaluate_baseline("pendulum-controlled", "copy-last", preset="ci")
    mean = evaluate_baseline("pendulum-controlled", "mean-frame", preset="ci")
    window = data.test[1]["frames"]
    c = data.n_cond
    truth = window[c:][None]
    expected = frame_metrics(window[c - 1:c][None].expand_as(truth), truth)
    for m in METRICS:
        np.testing.assert_allclose(getattr(copy, m)[1], expected[m][0].double().numpy(), rtol=1e-5)
        assert getattr(mean, m).shape == (len(data.test), data.n_pred)
    assert np.isfinite(mean.mse).all() and (mean.mse > 0).all()
    assert copy.meta["episodes"] == data.test.windows[:, 0].tolist()
    with pytest.raises(ValueError, match="unknown baseline"):
        evaluate_baseline("pendulum-controlled", "zero", preset="ci")


def test_is_trained_compares_horizon_one_with_copy_last():
    copy = _runs("copy", np.full((4, 3), 0.01))
    assert is_trained(_runs("m", np.full((4, 3), 0.005)), copy)
    assert not is_trained(_runs("m", np.c_[np.full(4, 0.02), np.zeros((4, 2))]), copy)


def test_difference_intervals_and_trend():
    rng = np.random.default_rng(0)
    H, windows = 6, 40
    episodes = list(np.repeat(np.arange(10), 4))
    base = rng.uniform(0.01, 0.02, (windows, H))
    runs = []
    # window noise that cancels within each episode: a paired, episode-averaged difference must be exactly 0
    wobble = np.tile(np.array([1, -1, 2, -2])[:, None] * rng.uniform(0, 1e-3, (1, H)), (10, 1))
    for seed in (0, 1):
        runs += [_runs("svg", base, seed, episodes),
                 _runs("better", base - 0.002 * np.arange(1, H + 1) + rng.normal(0, 1e-4, (windows, H)), seed,
                       episodes),
                 _runs("same", base + wobble, seed, episodes)]
    d = difference(runs, "better", "svg")
    assert d.units == 20 and d.seeds == 2
    assert (d.high < 0).all() and d.slope_interval[1] < 0  # lower MSE, more so at long horizons
    np.testing.assert_allclose(d.slope, -0.002, rtol=0.05)
    same = difference(runs, "same", "svg")
    np.testing.assert_allclose(same.mean, 0, atol=1e-15)
    assert (same.low <= 1e-15).all() and (same.high >= -1e-15).all()
    assert difference(runs, "better", "missing") is None
    with pytest.raises(ValueError, match="same windows"):
        difference([_runs("a", base, 0, episodes), _runs("b", base, 0, list(range(windows)))], "a", "b")


def test_plots_write_png(tmp_path):
    from noether.video.compare import plot_differences

    rng = np.random.default_rng(1)
    base = rng.uniform(0.01, 0.02, (8, 4))
    d = difference([_runs("a", base - 0.001), _runs("b", base)], "a", "b", resamples=200)
    plot_differences([d], tmp_path / "d.png", "t")
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"
    assert torch is not None
