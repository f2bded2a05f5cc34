"""Comparing video predictors per horizon, honestly: a model is only compared once it beats copying the last
frame, and a difference between two models comes with a 95% interval from resampling test episodes.

Units of the resampling are (seed, episode): runs of different seeds see different data (the data seed is the
run seed), and the windows of one episode are not independent, so each unit's windows are averaged first.
Differences are paired: two methods of the same seed are scored on the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import bootstrap

from .evaluate import HorizonMetrics


def is_trained(model: HorizonMetrics, copy_last: HorizonMetrics) -> bool:
    """True when the model's horizon-1 MSE is below copying the last frame on the same windows."""
    return float(model.mse[:, 0].mean()) < float(copy_last.mse[:, 0].mean())


def episode_units(a: HorizonMetrics, b: HorizonMetrics, metric: str) -> np.ndarray:
    """Per (episode) unit of one seed: the mean over its windows of a - b, [units, H]. a and b: same windows."""
    x, y = getattr(a, metric), getattr(b, metric)
    if x.shape != y.shape or a.meta.get("episodes") != b.meta.get("episodes"):
        raise ValueError(f"'{a.label}' and '{b.label}' (seed {a.seed}) were not scored on the same windows")
    episodes = np.asarray(a.meta["episodes"])
    return np.stack([(x - y)[episodes == e].mean(0) for e in np.unique(episodes)])


@dataclass(frozen=True)
class Difference:
    """a - b per horizon: mean over units [H], 95% interval [H] x 2, and the trend (slope per frame of horizon,
    least squares) with its interval; ``units``: (seed, episode) pairs resampled."""

    a: str
    b: str
    metric: str
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    slope: float
    slope_interval: tuple[float, float]
    units: int
    seeds: int


def _slope(d: np.ndarray) -> float:
    """Least-squares slope of the mean curve of units d [n, H] against horizon."""
    curve = d.mean(0)
    h = np.arange(len(curve), dtype=float) - (len(curve) - 1) / 2
    return float((curve * h).sum() / (h * h).sum())


def difference(runs: list[HorizonMetrics], a: str, b: str, metric: str = "mse", *, seed: int = 0,
               resamples: int = 2000) -> Difference | None:
    """Paired difference ``a`` - ``b`` over every seed that has both labels; None when no seed has both."""
    by = {(r.label, r.seed): r for r in runs}
    seeds = sorted(s for (label, s) in by if label == a and (b, s) in by)
    if not seeds:
        return None
    units = np.concatenate([episode_units(by[a, s], by[b, s], metric) for s in seeds])
    rng = np.random.default_rng(seed)
    ci = bootstrap((units,), np.mean, axis=0, n_resamples=resamples, confidence_level=0.95, method="percentile",
                   random_state=rng)
    # the slope reads whole units (all horizons): resample unit indices
    trend = bootstrap((np.arange(len(units)),), lambda idx: _slope(units[idx]), vectorized=False,
                      n_resamples=resamples, confidence_level=0.95, method="percentile", random_state=rng)
    return Difference(a, b, metric, units.mean(0), ci.confidence_interval.low, ci.confidence_interval.high,
                      float(_slope(units)), (float(trend.confidence_interval.low),
                                             float(trend.confidence_interval.high)), len(units), len(seeds))


def plot_differences(diffs: list[Difference], path, title: str = "") -> None:
    """a - b against horizon with its 95% band, one line per pair (below zero: a has lower MSE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for d in diffs:
        h = np.arange(1, len(d.mean) + 1)
        ax.plot(h, d.mean, label=f"{d.a} − {d.b} ({d.seeds} seeds, {d.units} episodes)")
        ax.fill_between(h, d.low, d.high, alpha=0.25)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("prediction horizon (frames)")
    ax.set_ylabel(f"Δ {diffs[0].metric.upper() if diffs else ''}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)
