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


# --- each statistic on constructed numbers whose answer is known ---------------------------------------------------


def test_is_trained_reads_horizon_one_only_and_is_strict():
    copy = _runs("copy", np.c_[np.full(4, 0.01), np.zeros((4, 2))])  # copying is perfect beyond horizon 1
    assert is_trained(_runs("m", np.c_[np.full(4, 0.005), np.ones((4, 2))]), copy)  # later horizons do not count
    assert is_trained(_runs("m", np.c_[[0.0, 0.03, 0.0, 0.0], np.ones((4, 2))]), copy)  # window mean 0.0075
    assert not is_trained(_runs("m", np.c_[np.full(4, 0.01), np.zeros((4, 2))]), copy)  # equal is not below


def test_slope_is_the_least_squares_slope_of_the_mean_curve():
    from noether.video.compare import _slope

    assert _slope(np.array([[5.0, 7.0, 9.0, 11.0]])) == pytest.approx(2.0)  # a line: its slope, offset or not
    assert _slope(np.array([[0.0, 0.0, 0.0, 0.0], [10.0, 14.0, 18.0, 22.0]])) == pytest.approx(2.0)  # mean curve
    assert _slope(np.array([[1.0, 4.0]])) == pytest.approx(3.0)
    assert _slope(np.array([[1.0, 0.0, 1.0]])) == pytest.approx(0.0)  # symmetric about the middle horizon
    assert _slope(np.array([[0.0, 0.0, 3.0]])) == pytest.approx(1.5)  # (3 x 1) / (1 + 0 + 1)


def _pair(H=3, n=12, seeds=(0,)):
    rng = np.random.default_rng(7)
    runs = []
    for s in seeds:
        base = rng.uniform(0.01, 0.02, (n, H))
        runs += [_runs("a", base - 0.001 * np.arange(1, H + 1) + rng.normal(0, 2e-4, (n, H)), s), _runs("b", base, s)]
    return runs


def test_difference_is_deterministic_under_its_seed_and_its_defaults():
    runs = _pair()
    d = difference(runs, "a", "b")
    assert (d.a, d.b, d.metric, d.units, d.seeds) == ("a", "b", "mse", 12, 1)
    assert d.mean.shape == d.low.shape == d.high.shape == (3,) and (d.low < d.mean).all() and (d.mean < d.high).all()
    explicit = difference(runs, "a", "b", "mse", seed=0, resamples=2000)  # the defaults: mse, seed 0, 2000 draws
    assert np.array_equal(d.low, explicit.low) and d.slope_interval == explicit.slope_interval
    other = difference(runs, "a", "b", seed=1)
    assert not np.array_equal(d.low, other.low) and d.slope_interval != other.slope_interval
    few = difference(runs, "a", "b", resamples=50)
    assert not np.array_equal(d.low, few.low) and d.slope_interval != few.slope_interval
    lo, hi = d.slope_interval
    assert lo < d.slope < hi and d.slope == pytest.approx(-0.001, abs=3e-4)


def test_difference_reads_the_metric_asked_for():
    runs = _pair(seeds=(0, 1))  # _runs: ssim = 1 - mse, so the ssim difference is minus the mse difference
    mse, ssim = difference(runs, "a", "b"), difference(runs, "a", "b", "ssim")
    assert ssim.metric == "ssim" and ssim.seeds == 2 and ssim.units == 24
    np.testing.assert_allclose(ssim.mean, -mse.mean, rtol=1e-12)
    assert ssim.slope == pytest.approx(-mse.slope)


def test_primary_endpoint_averages_every_window_and_frame():
    from noether.video.compare import primary_endpoint

    run = _runs("m", np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]]))
    assert primary_endpoint(run) == pytest.approx(4.0)
    assert primary_endpoint(run, "psnr") == pytest.approx(-4.0)


def test_t_interval_at_other_confidences_and_two_values():
    from noether.video.compare import t_interval

    mean, low, high = t_interval([1, 2, 3, 4, 5], confidence=0.9)
    half = 2.131846786326649 * np.sqrt(2.5 / 5)  # t_{0.95, 4}
    assert (mean, low, high) == pytest.approx((3.0, 3.0 - half, 3.0 + half))
    mean, low, high = t_interval([1.0, 3.0])  # two values are enough: t_{0.975, 1} = 12.706, s / sqrt(2) = 1
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - 12.706204736174696, 2.0 + 12.706204736174696))


def test_holm_caps_at_one_and_keeps_a_single_p_value():
    from noether.video.compare import holm

    # sorted: 0.01 x 3 = 0.03, 0.5 x 2 = 1.0, 0.6 x 1 = 0.6 -> running max 1.0
    np.testing.assert_allclose(holm([0.5, 0.6, 0.01]), [1.0, 1.0, 0.03])
    np.testing.assert_allclose(holm([0.7, 0.9]), [1.0, 1.0])  # 0.7 x 2 capped at 1
    np.testing.assert_allclose(holm([0.3]), [0.3])
    np.testing.assert_allclose(holm([0.02, 0.02]), [0.04, 0.04])


def _comparison(mean, low, high, horizon_mean=(), horizon_p=()):
    from noether.video.compare import SeedComparison

    return SeedComparison(
        "a", "b", "mse", (0, 1), np.zeros(2), mean, low, high, np.array(horizon_mean), np.array(horizon_p)
    )


def test_seed_verdict_needs_the_interval_strictly_off_zero():
    assert _comparison(-2.0, -3.0, -1.0).verdict == "lower"
    assert _comparison(-1.0, -2.0, 0.0).verdict == "no clear difference"  # touching 0 is not excluding it
    assert _comparison(1.0, 0.0, 2.0).verdict == "no clear difference"
    assert _comparison(2.0, 1.0, 3.0).verdict == "higher"


def test_horizons_are_the_significant_ones_on_each_side():
    c = _comparison(0.0, -1.0, 1.0, [-1.0, -1.0, -1.0, 0.5, 0.0], [0.01, 0.05, 0.2, 0.001, 0.04])
    # horizon 1: p < 0.05, lower; 2: p = 0.05 is not below 0.05; 3: not significant; 4: higher; 5: no difference
    assert c.horizons() == ([1], [4])
    assert c.horizons(alpha=0.3) == ([1, 2, 3], [4])
    assert c.horizons(alpha=0.001) == ([], [])


def test_seed_difference_per_seed_and_per_horizon():
    """Three seeds, two horizons, differences (x1e-4) [-1, -3], [-2, -4], [0, -2] on every window: per seed the
    mean over horizons, per horizon the mean over seeds and a t-test over the seeds, Holm-adjusted."""
    from scipy.stats import ttest_1samp

    from noether.video.compare import seed_difference

    shifts = np.array([[-1.0, -3.0], [-2.0, -4.0], [0.0, -2.0]]) * 1e-4
    runs = []
    for s, d in enumerate(shifts):
        runs += [_runs("svg", np.full((4, 2), 0.01), s), _runs("a", np.full((4, 2), 0.01) + d, s)]
    c = seed_difference(runs, "a", "svg")
    assert c.seeds == (0, 1, 2) and (c.a, c.b, c.metric) == ("a", "svg", "mse")
    np.testing.assert_allclose(c.per_seed, [-2e-4, -3e-4, -1e-4], rtol=1e-9)
    np.testing.assert_allclose(c.horizon_mean, [-1e-4, -3e-4], rtol=1e-9)
    p = [ttest_1samp(shifts[:, h], 0.0).pvalue for h in range(2)]  # 0.225 and 0.0189
    np.testing.assert_allclose(c.horizon_p, [max(2 * min(p), max(p)), 2 * min(p)], rtol=1e-6)  # Holm for two
    psnr = seed_difference(runs, "a", "svg", "psnr")  # _runs: psnr = -mse
    np.testing.assert_allclose(psnr.per_seed, -c.per_seed, rtol=1e-9)
    wide = seed_difference(runs, "a", "svg", confidence=0.99)
    assert wide.low < c.low and wide.high > c.high and wide.mean == c.mean
    default = seed_difference(runs, "a", "svg", "mse", 0.95)
    assert (default.low, default.high) == (c.low, c.high)


def test_seed_difference_with_no_difference_has_p_one_and_two_seeds_suffice():
    from noether.video.compare import seed_difference

    same = seed_difference(_seeded("svg", [0.0, 0.0]) + _seeded("a", [0.0, 0.0]), "a", "svg")
    assert same.seeds == (0, 1)  # two seeds are enough for a t-interval
    np.testing.assert_array_equal(same.horizon_p, np.ones(4))  # no spread, no difference: p = 1, not significant
    assert same.verdict == "no clear difference" and same.horizons() == ([], [])


def test_seed_difference_refuses_unpaired_windows_and_ignores_a_label_never_run():
    from noether.video.compare import seed_difference

    svg = _seeded("svg", [0.0] * 3)
    assert seed_difference(svg, "a", "svg") is None  # 'a' has no run at all: nothing to compare, no error
    assert seed_difference(svg, "svg", "a") is None
    shifted = [_runs("a", np.full((6, 4), 0.01), s, [0] * 6) for s in range(3)]  # other episodes
    with pytest.raises(ValueError, match=r"^'a' and 'svg' \(seed 0\) were not scored on the same windows$"):
        seed_difference(svg + shifted, "a", "svg")
    fewer = [_runs("a", np.full((5, 4), 0.01), s, [0] * 3 + [1] * 2) for s in range(3)]  # other windows
    with pytest.raises(ValueError, match="not scored on the same windows"):
        seed_difference(svg + fewer, "a", "svg")
    msg = r"^'a' \(seeds \[0, 1\]\) and 'svg' \(seeds \[0, 1, 2\]\) were not trained on the same seeds; they are not"
    with pytest.raises(ValueError, match=msg + " compared$"):
        seed_difference(svg + _seeded("a", [0.0] * 2), "a", "svg")


def test_difference_intervals_are_percentile_intervals():
    """Skewed units (30 log-normal values u, and 2u at horizon 2, so the slope per unit is u): the intervals of the
    mean and of the slope are the 2.5% and 97.5% quantiles of resampled means, here from an independent bootstrap
    of 20000 draws. A bias-corrected (BCa) interval sits 0.07 higher at the low end and 0.15 at the high end."""
    u = np.exp(np.random.default_rng(1).normal(0, 1.5, 30))
    base = np.full((30, 2), 0.5)
    d = difference([_runs("a", base + np.c_[u, 2 * u]), _runs("b", base)], "a", "b")
    means = u[np.random.default_rng(2).integers(0, 30, (20000, 30))].mean(1)
    low, high = np.quantile(means, [0.025, 0.975])  # about 1.05 and 2.14
    np.testing.assert_allclose([d.low[0], d.high[0]], [low, high], atol=0.04)
    np.testing.assert_allclose([d.low[1], d.high[1]], [2 * low, 2 * high], atol=0.08)
    np.testing.assert_allclose(d.slope_interval, [low, high], atol=0.04)


def test_both_intervals_take_the_number_of_draws_asked_for():
    """One draw: the percentile interval of one resampled mean (or slope) is that one value, a point."""
    import warnings

    with warnings.catch_warnings():  # scipy warns that one draw has no standard error
        warnings.simplefilter("ignore", RuntimeWarning)
        d = difference(_pair(), "a", "b", resamples=1)
    np.testing.assert_array_equal(d.low, d.high)
    assert d.slope_interval[0] == d.slope_interval[1]
