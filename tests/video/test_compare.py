"""Sanity baselines and paired per-horizon differences with episode-resampled intervals."""

from __future__ import annotations

import numpy as np
import pytest

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
    expected = frame_metrics(window[c - 1 : c][None].expand_as(truth), truth)
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
        runs += [
            _runs("svg", base, seed, episodes),
            _runs("better", base - 0.002 * np.arange(1, H + 1) + rng.normal(0, 1e-4, (windows, H)), seed, episodes),
            _runs("same", base + wobble, seed, episodes),
        ]
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


@pytest.mark.parametrize("z", [1.0, 3.0])
def test_difference_interval_is_95_percent(z):
    """Units whose mean is z standard errors from 0 (constructed: 400 units N(z·s/sqrt(400), s) re-centred to that
    mean exactly): the 95% interval (half-width 1.96 s.e.) holds 0 at z = 1 and excludes it at z = 3; its width is
    2 x 1.96 s.e. within the bootstrap's error. A 50% interval (half-width 0.67 s.e.) would exclude 0 at z = 1."""
    rng = np.random.default_rng(3)
    n, s = 400, 1e-3
    noise = rng.normal(0, s, (n, 2))
    noise = (noise - noise.mean(0)) / noise.std(0, ddof=1) * s
    se = s / np.sqrt(n)
    base = np.full((n, 2), 0.02)
    d = difference([_runs("a", base + z * se + noise), _runs("b", base)], "a", "b", resamples=2000)
    np.testing.assert_allclose(d.mean, z * se, rtol=1e-9)
    np.testing.assert_allclose(d.high - d.low, 2 * 1.96 * se, rtol=0.1)
    assert ((d.low < 0) == (z < 1.96)).all()
    # the slope of the mean curve over horizons 1, 2: its interval is also 95% (re-centred: true slope 0)
    lo, hi = d.slope_interval
    se_slope = np.std(noise[:, 1] - noise[:, 0], ddof=1) / np.sqrt(n)  # slope over 2 horizons = d2 - d1
    assert lo < 0 < hi and 2 * 1.5 * se_slope < hi - lo < 2 * 2.5 * se_slope


def test_t_interval_is_student_s():
    from noether.video.compare import t_interval

    mean, low, high = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.7764451051977987 * np.sqrt(2.5 / 5)  # t_{0.975, 4} * s / sqrt(n), s^2 = 2.5
    assert mean == 3.0 and low == pytest.approx(3.0 - half) and high == pytest.approx(3.0 + half)
    with pytest.raises(ValueError, match="at least 2"):
        t_interval([1.0])


def test_holm_adjusts_step_down():
    from noether.video.compare import holm

    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def _seeded(label, per_seed_shift, H=4, windows=6):
    """One run per seed whose every window is 0.01 + that seed's shift (paired windows, 2 episodes)."""
    return [
        _runs(label, np.full((windows, H), 0.01 + d), seed, [0] * 3 + [1] * 3) for seed, d in enumerate(per_seed_shift)
    ]


def test_seed_difference_decides_on_the_t_interval_over_seeds():
    from noether.video.compare import seed_difference

    svg = _seeded("svg", [0.0] * 4)
    # per-seed differences -1, -2, -3, -4 (x1e-4): mean -2.5e-4, s = 1.29e-4, half width 3.182 * s / 2 = 2.05e-4
    lower = seed_difference(svg + _seeded("a", [-1e-4, -2e-4, -3e-4, -4e-4]), "a", "svg")
    assert lower.seeds == (0, 1, 2, 3) and lower.verdict == "lower"
    np.testing.assert_allclose(lower.per_seed, [-1e-4, -2e-4, -3e-4, -4e-4], rtol=1e-9)
    assert lower.high == pytest.approx(-2.5e-4 + 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) * 1e-4 / 2)
    # one seed on the other side widens the interval over 0: the mean is still below 0, the verdict is not
    mixed = seed_difference(svg + _seeded("b", [-1e-4, -2e-4, -3e-4, +3e-4]), "b", "svg")
    assert mixed.mean < 0 and mixed.low < 0 < mixed.high and mixed.verdict == "no clear difference"
    assert seed_difference(svg + _seeded("c", [2e-4, 3e-4, 2.5e-4, 3.5e-4]), "c", "svg").verdict == "higher"
    # per horizon: the same t-test (p = 0.030 at each of the 4 horizons) does not survive Holm's correction (x4)
    from scipy.stats import ttest_1samp

    assert ttest_1samp([-1, -2, -3, -4], 0).pvalue < 0.05 and lower.horizons() == ([], [])
    tight = seed_difference(svg + _seeded("d", [-2e-4, -2.1e-4, -1.9e-4, -2.05e-4]), "d", "svg")
    assert tight.horizons() == ([1, 2, 3, 4], []) and mixed.horizons() == ([], [])


def test_seed_difference_refuses_rows_with_different_seeds():
    from noether.video.compare import seed_difference

    with pytest.raises(ValueError, match="same seeds"):
        seed_difference(_seeded("svg", [0.0] * 3) + _seeded("a", [0.0] * 2), "a", "svg")
    assert seed_difference(_seeded("svg", [0.0]) + _seeded("a", [0.0]), "a", "svg") is None
