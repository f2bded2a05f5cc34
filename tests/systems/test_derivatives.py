"""Derivative estimators on irregular times: accuracy on known functions, short and padded trajectories, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from noether.systems import load_system
from noether.systems.derivatives import ESTIMATORS, estimate_all, estimate_derivative


def irregular_times(seed: int = 0, n_fine: int = 200, keep: int = 120) -> np.ndarray:
    """A fine uniform grid on [0, 2 pi] with random samples dropped (gaps from 1 to ~8 fine steps)."""
    rng = np.random.default_rng(seed)
    fine = np.linspace(0.0, 2 * np.pi, n_fine)
    return fine[np.sort(rng.choice(n_fine, keep, replace=False))]


def waves(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(states [T, 2] = sin t, cos 2t; exact derivative [T, 2])."""
    return np.stack([np.sin(t), np.cos(2 * t)], 1), np.stack([np.cos(t), -2 * np.sin(2 * t)], 1)


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_free_irregular(seed):
    t = irregular_times(seed)
    x, exact = waves(t)
    finite = estimate_derivative(x, t, "finite")
    spline = estimate_derivative(x, t, "spline")
    savgol = estimate_derivative(x, t, "savgol")
    assert np.abs(finite - exact)[1:-1].max() < 0.06  # O(h^2) on gaps up to 0.25
    assert rmse(finite, exact) < 0.05  # the first-order ends dominate
    assert np.abs(estimate_derivative(x, t, "finite", edge_order=2) - exact).max() < 0.06
    # the natural spline's zero curvature at the ends biases the end slopes; inside it is very tight
    assert np.abs(spline - exact)[3:-3].max() < 5e-3
    assert rmse(spline, exact) < 0.03
    assert rmse(savgol, exact) < 0.04  # a quadratic over 7 samples: smoothing bias, no noise to buy back


@pytest.mark.parametrize("method, options", [("finite", {"edge_order": 2}), ("savgol", {})])
def test_quadratic_is_exact_on_irregular_times(method, options):
    t = irregular_times(3, keep=40)
    x = np.stack([1 + 2 * t - 0.5 * t**2, 3 * t**2], 1)
    exact = np.stack([2 - t, 6 * t], 1)
    np.testing.assert_allclose(estimate_derivative(x, t, method, **options), exact, atol=1e-8)
    # finite's default first-order ends: exact inside only
    np.testing.assert_allclose(estimate_derivative(x, t, method)[1:-1], exact[1:-1], atol=1e-8)


def test_finite_is_todays_central_difference():
    traj = load_system("spring")
    np.testing.assert_array_equal(
        estimate_all(traj.states, traj.times, None, "finite"), traj.finite_difference("central")
    )


def test_noisy_smoothers_beat_finite_differences():
    rng = np.random.default_rng(0)
    t = irregular_times(0)
    x, exact = waves(t)
    noisy = x + rng.normal(0.0, 0.02, x.shape)
    err = {m: rmse(estimate_derivative(noisy, t, m), exact) for m in ESTIMATORS}
    assert err["finite"] > 0.3  # noise / dt: finite differences amplify it
    assert err["savgol"] < 0.5 * err["finite"]
    assert err["spline"] < 0.5 * err["finite"]


def test_savgol_is_scipys_filter_on_uniform_times():
    t = np.linspace(0.0, 3.0, 30)
    x = np.stack([np.sin(2 * t), np.cos(2 * t)], 1) + np.random.default_rng(1).normal(0, 0.1, (30, 2))
    expected = savgol_filter(x, 7, 2, deriv=1, delta=t[1] - t[0], axis=0, mode="interp")
    np.testing.assert_allclose(estimate_derivative(x, t, "savgol"), expected, atol=1e-12)
    # the irregular-time path does the same local fit: nudging one time by 1e-7 barely changes the answer
    t2 = t.copy()
    t2[10] += 1e-7
    np.testing.assert_allclose(estimate_derivative(x, t2, "savgol"), expected, atol=1e-4)


@pytest.mark.parametrize("method", ESTIMATORS)
@pytest.mark.parametrize("n", [3, 4, 5])
def test_short_trajectories(method, n):
    t = np.array([0.0, 0.3, 0.5, 1.1, 1.2])[:n]
    x = np.stack([2 * t + 1, -t], 1)
    out = estimate_derivative(x, t, method)
    assert out.shape == (n, 2)
    np.testing.assert_allclose(out, np.broadcast_to([2.0, -1.0], (n, 2)), atol=1e-6)


def test_one_dimensional_states_keep_their_shape():
    t = irregular_times(0, keep=20)
    assert estimate_derivative(np.sin(t), t, "spline").shape == (20,)


@pytest.mark.parametrize("method", ESTIMATORS)
def test_padding_stays_nan(method):
    rng = np.random.default_rng(0)
    m, t_len = 3, 12
    lengths = np.array([12, 7, 3])
    times = np.full((m, t_len), np.nan)
    states = np.full((m, t_len, 2), np.nan)
    for i, n in enumerate(lengths):
        times[i, :n] = np.cumsum(rng.uniform(0.05, 0.2, n))
        states[i, :n] = np.stack([np.sin(times[i, :n]), np.cos(times[i, :n])], 1)
    states[2, 5:] = 7.0  # junk beyond a length is ignored, not just NaN
    out = estimate_all(states, times, lengths, method)
    for i, n in enumerate(lengths):
        assert np.isfinite(out[i, :n]).all()
        assert np.isnan(out[i, n:]).all()
        np.testing.assert_allclose(out[i, :n], estimate_derivative(states[i, :n], times[i, :n], method))


def test_estimate_all_without_lengths_uses_every_sample():
    t = np.tile(np.linspace(0, 1, 10), (2, 1))
    x = np.stack([t, t**2], -1)
    np.testing.assert_allclose(
        estimate_all(x, t, None, "finite", edge_order=2)[1], np.stack([np.ones(10), 2 * t[1]], 1), atol=1e-12
    )


def test_bad_method_names_the_choices():
    t = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="finite, savgol, spline"):
        estimate_derivative(np.sin(t), t, "kalman")
    with pytest.raises(ValueError, match="finite, savgol, spline"):
        estimate_all(np.zeros((1, 10, 1)), t[None], None, "gradient")


def test_bad_inputs():
    t = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="at least 3"):
        estimate_derivative(np.zeros((2, 1)), t[:2], "finite")
    with pytest.raises(ValueError, match="strictly increasing"):
        estimate_derivative(np.zeros((3, 1)), np.array([0.0, 1.0, 1.0]), "finite")
    with pytest.raises(ValueError, match="lengths"):
        estimate_all(np.zeros((1, 10, 1)), t[None], np.array([11]), "finite")
