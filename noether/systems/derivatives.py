"""dx/dt from sampled (possibly noisy, possibly irregularly timed) states, for data that comes without derivatives.

Three estimators, all on each trajectory's real time stamps:

- ``finite``: second-order central differences (``np.gradient``; one-sided at the ends, first order unless
  ``edge_order=2``), exactly ``Trajectories.finite_difference('central')``. No smoothing: the noise of the
  states is amplified by ~1/dt.
- ``savgol``: Savitzky-Golay derivative -- a least-squares polynomial of degree ``polyorder`` fitted to a window
  of ``window`` consecutive samples and differentiated at each sample. On uniform times this is exactly
  ``scipy.signal.savgol_filter(deriv=1, mode='interp')``. On irregular times, where Savitzky-Golay's fixed
  coefficients would be wrong, the same local fit is done on the real times: for each sample, the window of
  ``window`` consecutive samples centred on it (shifted inward at the ends, as mode='interp' does) is fitted by
  least squares in the time offset from that sample, and the fit's slope there is the derivative.
- ``spline``: a cubic smoothing spline per state column on the real times
  (``scipy.interpolate.make_smoothing_spline``; its smoothing is chosen by generalised cross-validation unless
  ``lam`` is given), differentiated; its natural end conditions (zero curvature) bias the slope at the first
  and last few samples. It needs ``SPLINE_MIN_POINTS`` samples: shorter trajectories fall back to
  ``finite``.

``estimate_derivative`` handles one trajectory [T, d]; ``estimate_all`` a padded batch [M, T, d] with lengths.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import make_smoothing_spline
from scipy.signal import savgol_filter

from ..errors import ConfigError

ESTIMATORS: tuple[str, ...] = ("finite", "savgol", "spline")
#: for data without derivatives; chosen by measurement (benchmarks/results/derivatives.md): on HNN's noisy
#: pendulum a smoothing spline cut the MLP's long-term error by 32% and the oracle-tailored one's by 23% against
#: finite differences; on the spring it was no clearly better for the MLP and 15% worse tailored -- the lower
#: error on average, not everywhere
DEFAULT_ESTIMATOR = "spline"
#: Savitzky-Golay defaults: a 7-sample window, quadratic fit (clipped to short trajectories).
SAVGOL_WINDOW = 7
SAVGOL_POLYORDER = 2
#: make_smoothing_spline needs at least 5 samples; shorter trajectories use finite differences.
SPLINE_MIN_POINTS = 5
MIN_POINTS = 3


def estimate_derivative(states: np.ndarray, times: np.ndarray, method: str = "finite", **options) -> np.ndarray:
    """dx/dt [T, d] of one trajectory: states [T, d] (or [T]) at strictly increasing times [T], T >= 3.

    options: finite -- ``edge_order`` (1 or 2, default 1); savgol -- ``window`` (samples, default 7),
    ``polyorder`` (default 2); spline -- ``lam`` (None: GCV)."""
    x, t = _check(states, times)
    if method == "finite":
        out = finite_difference(x, t, **options)
    elif method == "savgol":
        out = savgol_derivative(x, t, **options)
    elif method == "spline":
        out = spline_derivative(x, t, **options)
    else:
        raise ConfigError(f"unknown derivative estimator '{method}' (use one of {', '.join(ESTIMATORS)})")
    return out.reshape(np.shape(states))


def estimate_all(
    states: np.ndarray, times: np.ndarray, lengths: np.ndarray | None = None, method: str = "finite", **options
) -> np.ndarray:
    """dx/dt [M, T, d] of a padded batch: trajectory i uses its first ``lengths[i]`` samples (all T when
    ``lengths`` is None); entries beyond its length are NaN in the result whatever they hold on input."""
    if method not in ESTIMATORS:
        raise ConfigError(f"unknown derivative estimator '{method}' (use one of {', '.join(ESTIMATORS)})")
    states = np.asarray(states, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if states.ndim != 3 or times.shape != states.shape[:2]:
        raise ValueError(f"states must be [M, T, d] and times [M, T], got {states.shape} and {times.shape}")
    m, t_len, _ = states.shape
    lengths = np.full(m, t_len) if lengths is None else np.asarray(lengths)
    if lengths.shape != (m,) or np.any(lengths > t_len):
        raise ValueError(f"lengths must be [M] = [{m}] values <= T = {t_len}, got {lengths}")
    out = np.full(states.shape, np.nan)
    for i, n in enumerate(lengths.astype(int)):
        out[i, :n] = estimate_derivative(states[i, :n], times[i, :n], method, **options)
    return out


# ------------------------------------------------------------------------------------------------ estimators


def finite_difference(states: np.ndarray, times: np.ndarray, edge_order: int = 1) -> np.ndarray:
    """Second-order central differences on the real times, one-sided at the ends: first order by default (as
    ``Trajectories.finite_difference`` has always done), second order with ``edge_order=2``."""
    return np.gradient(states, times, axis=0, edge_order=edge_order)


def savgol_derivative(
    states: np.ndarray, times: np.ndarray, window: int = SAVGOL_WINDOW, polyorder: int = SAVGOL_POLYORDER
) -> np.ndarray:
    """Savitzky-Golay derivative: scipy's filter on uniform times, the same local fit on the real times
    otherwise. ``window`` is clipped to the largest odd number <= T, ``polyorder`` to window - 1."""
    if window < 3 or polyorder < 1:
        raise ConfigError(f"savgol needs window >= 3 and polyorder >= 1, got window={window}, polyorder={polyorder}")
    n = len(times)
    window = min(window, n if n % 2 else n - 1)
    window -= 1 - window % 2  # odd: a centred window
    polyorder = min(polyorder, window - 1)
    steps = np.diff(times)
    if np.allclose(steps, steps.mean(), rtol=1e-9, atol=0.0):
        return savgol_filter(states, window, polyorder, deriv=1, delta=float(steps.mean()), axis=0, mode="interp")
    return _local_poly_slope(states, times, window, polyorder)


def _local_poly_slope(states: np.ndarray, times: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """Slope at each t_i of the least-squares polynomial through the ``window`` samples centred on i (shifted
    inward at the ends), fitted in the scaled offset (t - t_i) / span so the Vandermonde stays well conditioned."""
    n = len(times)
    start = np.clip(np.arange(n) - window // 2, 0, n - window)
    idx = start[:, None] + np.arange(window)  # [T, window]
    offset = times[idx] - times[:, None]
    span = times[idx[:, -1]] - times[idx[:, 0]]
    vander = (offset / span[:, None])[..., None] ** np.arange(polyorder + 1)  # [T, window, p+1]
    coef = np.linalg.pinv(vander) @ states[idx]  # [T, p+1, d]
    return coef[:, 1] / span[:, None]


def spline_derivative(states: np.ndarray, times: np.ndarray, lam: float | None = None) -> np.ndarray:
    """Derivative of a cubic smoothing spline fitted to each column (smoothing by GCV when ``lam`` is None);
    finite differences below ``SPLINE_MIN_POINTS`` samples, where the spline cannot be fitted."""
    if len(times) < SPLINE_MIN_POINTS:
        return finite_difference(states, times)
    cols = [make_smoothing_spline(times, states[:, j], lam=lam).derivative()(times) for j in range(states.shape[1])]
    return np.stack(cols, axis=1)


def _check(states: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(states as [T, d] float64, times [T]) after checking shapes, length and strictly increasing times."""
    x = np.asarray(states, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    if x.ndim not in (1, 2) or t.ndim != 1 or len(t) != len(x):
        raise ValueError(f"states must be [T] or [T, d] with times [T], got {x.shape} and {t.shape}")
    if len(t) < MIN_POINTS:
        raise ValueError(f"a derivative needs at least {MIN_POINTS} samples, got {len(t)}")
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) > 0)):
        raise ValueError("times must be finite and strictly increasing")
    return x.reshape(len(x), -1), t
