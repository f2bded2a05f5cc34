"""Comparing video predictors honestly: a model is only compared once it beats copying the last frame, and a
difference between two models is judged with the training seed as the unit.

:func:`seed_difference` (the claims): per seed, the paired difference of the primary endpoint (test MSE averaged
over every window and every predicted frame), their mean and a 95% t-interval over seeds; per horizon, one-sample
t-tests over the seeds' differences with Holm's correction over the horizons. Only labels trained on the same
seeds are compared. :func:`difference` (descriptive): per-horizon intervals from resampling (seed, episode) units,
which hold the test episodes' spread but not the spread between training runs.
Differences are paired: two methods of the same seed are scored on the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
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


def difference(
    runs: list[HorizonMetrics], a: str, b: str, metric: str = "mse", *, seed: int = 0, resamples: int = 2000
) -> Difference | None:
    """Paired difference ``a`` - ``b`` over every seed that has both labels; None when no seed has both."""
    by = {(r.label, r.seed): r for r in runs}
    seeds = sorted(s for (label, s) in by if label == a and (b, s) in by)
    if not seeds:
        return None
    units = np.concatenate([episode_units(by[a, s], by[b, s], metric) for s in seeds])
    rng = np.random.default_rng(seed)
    ci = bootstrap(
        (units,), np.mean, axis=0, n_resamples=resamples, confidence_level=0.95, method="percentile", random_state=rng
    )
    # the slope reads whole units (all horizons): resample unit indices
    trend = bootstrap(
        (np.arange(len(units)),),
        lambda idx: _slope(units[idx]),
        vectorized=False,
        n_resamples=resamples,
        confidence_level=0.95,
        method="percentile",
        random_state=rng,
    )
    return Difference(
        a,
        b,
        metric,
        units.mean(0),
        ci.confidence_interval.low,
        ci.confidence_interval.high,
        float(_slope(units)),
        (float(trend.confidence_interval.low), float(trend.confidence_interval.high)),
        len(units),
        len(seeds),
    )


def primary_endpoint(run: HorizonMetrics, metric: str = "mse") -> float:
    """The run's test metric averaged over every window and every predicted frame (the protocol's endpoint)."""
    return float(getattr(run, metric).mean())


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval of the mean of ``values`` (one per seed; needs >= 2)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        raise ValueError(f"a t-interval needs at least 2 values, got {len(x)}")
    mean, se = float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1)) * se
    return mean, mean - half, mean + half


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (controls the family-wise error rate)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    adjusted = np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]).clip(max=1.0)
    out = np.empty_like(p)
    out[order] = adjusted
    return out


@dataclass(frozen=True)
class SeedComparison:
    """a - b with the training seed as the unit. ``per_seed``: each seed's paired difference of the primary
    endpoint; ``mean``, ``low``, ``high``: their mean and 95% t-interval; ``horizon_mean`` [H]: the mean over seeds
    per horizon, ``horizon_p`` [H]: two-sided one-sample t-test p-values over seeds, Holm-adjusted over horizons."""

    a: str
    b: str
    metric: str
    seeds: tuple[int, ...]
    per_seed: np.ndarray
    mean: float
    low: float
    high: float
    horizon_mean: np.ndarray
    horizon_p: np.ndarray

    @property
    def verdict(self) -> str:
        """'lower' / 'higher' when the 95% interval excludes 0, else 'no clear difference'."""
        return "lower" if self.high < 0 else "higher" if self.low > 0 else "no clear difference"

    def horizons(self, alpha: float = 0.05) -> tuple[list[int], list[int]]:
        """Horizons (1-based) where a is lower / higher than b at family-wise level ``alpha`` (Holm)."""
        sig = self.horizon_p < alpha
        return (
            [int(h) + 1 for h in np.flatnonzero(sig & (self.horizon_mean < 0))],
            [int(h) + 1 for h in np.flatnonzero(sig & (self.horizon_mean > 0))],
        )


def seed_difference(
    runs: list[HorizonMetrics], a: str, b: str, metric: str = "mse", confidence: float = 0.95
) -> SeedComparison | None:
    """a - b per training seed (paired on the same windows); None when the labels share fewer than 2 seeds.
    Labels trained on different seed sets are not compared (ValueError)."""
    by = {(r.label, r.seed): r for r in runs}
    seeds_a, seeds_b = ({s for (label, s) in by if label == x} for x in (a, b))
    if seeds_a != seeds_b and seeds_a and seeds_b:
        raise ValueError(
            f"'{a}' (seeds {sorted(seeds_a)}) and '{b}' (seeds {sorted(seeds_b)}) were not trained on "
            "the same seeds; they are not compared"
        )
    seeds = tuple(sorted(seeds_a & seeds_b))
    if len(seeds) < 2:
        return None
    curves = []
    for s in seeds:
        x, y = by[a, s], by[b, s]
        if getattr(x, metric).shape != getattr(y, metric).shape or x.meta.get("episodes") != y.meta.get("episodes"):
            raise ValueError(f"'{a}' and '{b}' (seed {s}) were not scored on the same windows")
        curves.append(x.curve(metric) - y.curve(metric))
    curves = np.stack(curves)  # [S, H]
    per_seed = curves.mean(1)
    mean, low, high = t_interval(per_seed, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = stats.ttest_1samp(curves, 0.0, axis=0).pvalue
    p = np.where(np.isfinite(p), p, 1.0)
    return SeedComparison(a, b, metric, seeds, per_seed, mean, low, high, curves.mean(0), holm(p))


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
