"""The figures a physicist looks at first: each top law along trajectories and over the phase space, and the filter.

Per law (``law_view`` -> ``draw_law``): its value against time on a sample of test trajectories beside the same
on random sequences -- the filter's null (paper §4.2): the split's states drawn without replacement across time
and trajectories, cut into sequences of the same lengths -- on one scale, so a conserved law is flat on the left
while the right spreads; for an approximate law the per-trajectory least-squares trend in time (what the drift
test of ``discovery.drift`` measures); and its level sets over the data's phase portrait (2 states), else the
data projected on the two states the law depends on most, coloured by the law's value. The verdict is in the
title. For the run (``filter_view`` -> ``draw_filter``): S_true against S_random for every candidate, the
accepted ones marked, the acceptance rule's boundary drawn.

Figures are built on matplotlib's object API with an Agg canvas (no pyplot state, no display): the report writes
them atomically, and a notebook shows the Figure that ``DiscoveryResult.plot_law`` returns.
"""

from __future__ import annotations

import functools
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..discovery import AcceptanceRule, FilterResult
from ..discovery.drift import APPROXIMATE, CONSERVED
from ..discovery.score import sequence_set
from ..dsl.law import Law
from ..errors import DataError
from ..io import atomic_path
from ..systems import Trajectories

SAMPLE = 8  # trajectories drawn per law figure
POINTS = 2000  # states of the split shown in a phase portrait (evenly spaced through the data)
GRID = 100  # level-set grid points per axis (2-state data)
DPI = 90
FOLDER = "figures"  # beside report.md


@dataclass(frozen=True, eq=False)
class Sample:
    """The states a law figure is drawn on, shared by every law of a run. part: 'test', or 'train' when the data
    has no test trajectories; times / runs: the sampled trajectories' times since their start [L_s] and states
    [L_s, d]; random: random sequences of the same lengths [L_s, d]; points: the split's states [n, d]."""

    part: str
    ordered: bool
    names: tuple[str, ...]
    times: tuple[np.ndarray, ...]
    runs: tuple[np.ndarray, ...]
    random: tuple[np.ndarray, ...]
    points: np.ndarray


@dataclass(frozen=True, eq=False)
class Portrait:
    """The law over the states: axes (two state indices) and their names; paths: the sampled trajectories in those
    states [L_s, 2]; points [n, 2] with the law's values [n]; grid: (x [G], y [G], g [G, G]) over the data's range
    for 2-state data (level sets), None for a projection."""

    axes: tuple[int, int]
    names: tuple[str, str]
    paths: tuple[np.ndarray, ...]
    points: np.ndarray
    values: np.ndarray
    grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None


@dataclass(frozen=True, eq=False)
class LawView:
    """What a law's figure plots. values / random_values: the law along each sampled trajectory and each random
    sequence [L_s]; trends: (slope, intercept) in time per sampled trajectory for an approximate law, else None;
    portrait: None for 1-state data."""

    title: str
    subtitle: str
    unit: str
    sample: Sample
    values: tuple[np.ndarray, ...]
    random_values: tuple[np.ndarray, ...]
    trends: tuple[tuple[float, float], ...] | None
    portrait: Portrait | None


def sample_states(traj: Trajectories, n: int = SAMPLE, seed: int = 0) -> Sample:
    """Up to ``n`` sequences of the test split (whole trajectories, or windows of a few long ones as the filter
    cuts them: ``score.sequence_set``), evenly spaced through it (the training split when there is no test
    data), and random sequences of the same lengths drawn from all the split's states (seeded)."""
    try:
        part, seq = "test", sequence_set(traj, "test")
    except DataError:
        part, seq = "train", sequence_set(traj, "train")
    ends = np.cumsum(seq.lengths)[:-1]
    states, times = np.split(seq.x, ends), np.split(seq.times, ends)
    if not traj.ordered:  # group data: the samples of a group have no time, only a position
        times = [np.arange(len(t), dtype=float) for t in times]
    lengths = np.asarray(seq.lengths)
    pool = seq.x
    chosen = np.unique(np.linspace(0, len(states) - 1, min(n, len(states))).round().astype(int))
    sizes = lengths[chosen]
    draw = np.random.default_rng(seed).choice(len(pool), size=int(sizes.sum()), replace=False)
    random = np.split(pool[draw], np.cumsum(sizes)[:-1])
    points = pool[np.unique(np.linspace(0, len(pool) - 1, min(POINTS, len(pool))).round().astype(int))]
    return Sample(
        part,
        traj.ordered,
        traj.names,
        tuple(times[i] for i in chosen),
        tuple(states[i] for i in chosen),
        tuple(random),
        points,
    )


def law_view(law: Law, sample: Sample, scores: dict | None = None, rank: int | None = None) -> LawView:
    """The data of a law's figure; scores: what the run measured (verdict, s_true, ratio, trend_p, ...)."""
    scores = scores or {}
    verdict = str(scores.get("verdict", ""))
    values = tuple(_finite_or_nan(law.numpy(x)) for x in sample.runs)
    trends = None
    if verdict == APPROXIMATE and sample.ordered:
        trends = tuple(_trend(t, g) for t, g in zip(sample.times, values))
    head = f"law {rank}" if rank is not None else "law"
    title = textwrap.shorten(f"{head}, {verdict or 'not tested'}: {law.display()}", 160, placeholder=" ...")
    figures = [
        f"{label} {scores[key]:.3g}"
        for key, label in (
            ("s_true", "S_true"),
            ("ratio", "S_random / S_true"),
            ("excess", "within / white-noise variance"),
            ("trend_p", "trend p"),
        )
        if _finite(scores.get(key))
    ]
    unit = law.unit
    return LawView(
        title,
        ", ".join(figures),
        "" if unit in ("", "dimensionless", "1") else unit,
        sample,
        values,
        tuple(_finite_or_nan(law.numpy(x)) for x in sample.random),
        trends,
        _portrait(law, sample),
    )


def draw_law(view: LawView):
    """The law's figure: values on trajectories | on random sequences (one y scale) | level sets or projection."""
    fig, axes = _figure(3 if view.portrait is not None else 2, width=4.4)
    data, rand = axes[0], axes[1]
    rand.sharey(data)
    xlabel = "time since the sequence's start" if view.sample.ordered else "sample"
    colours = [f"C{i % 10}" for i in range(len(view.values))]
    for i, (t, g) in enumerate(zip(view.sample.times, view.values)):
        data.plot(t, g, lw=1.2, color=colours[i], label="value" if i == 0 else None)
        if view.trends is not None:
            slope, intercept = view.trends[i]
            data.plot(
                t,
                slope * t + intercept,
                ls="--",
                lw=1,
                color=colours[i],
                label="trend" if i == 0 else None,
                gid="trend",
            )
    for i, (t, g) in enumerate(zip(view.sample.times, view.random_values)):
        rand.plot(t, g, lw=0.8, color=colours[i], alpha=0.8)
    ylabel = "law's value" + (f" [{view.unit}]" if view.unit else "")
    noun = "sequences" if view.sample.ordered else "groups"
    data.set(title=f"{len(view.values)} {view.sample.part} {noun}", xlabel=xlabel, ylabel=ylabel)
    rand.set(
        title="random sequences (the filter's null)",
        xlabel="position in the sequence" if not view.sample.ordered else xlabel,
    )
    rand.tick_params(labelleft=False)  # the scale is the left panel's
    if view.trends is not None:
        data.legend(loc="best", fontsize="small")
    if view.portrait is not None:
        _draw_portrait(fig, axes[2], view.portrait)
    fig.suptitle(view.title + ("\n" + view.subtitle if view.subtitle else ""), fontsize="medium")
    return fig


@dataclass(frozen=True, eq=False)
class FilterView:
    """S_true and S_random [n] of the candidates with finite scores (S_random > 0), their verdicts [n];
    unfitted: S_true of the candidates never fitted on random sequences (S_true alone ruled them out; drawn at
    S_random = 1, its upper bound); rule: the acceptance rule; hidden: candidates without a finite S_true."""

    s_true: np.ndarray
    s_random: np.ndarray
    verdict: np.ndarray
    unfitted: np.ndarray
    rule: AcceptanceRule
    hidden: int


def filter_view(filt: FilterResult) -> FilterView:
    """The filter's scores of every candidate (the table of ``filter_candidates``)."""
    st = filt.table["s_true"].to_numpy(dtype=float)
    sr = filt.table["s_random"].to_numpy(dtype=float)
    scored = np.isfinite(st) & (st >= 0)
    shown = scored & np.isfinite(sr) & (sr > 0)
    unfitted = scored & ~np.isfinite(sr)
    return FilterView(
        st[shown],
        sr[shown],
        filt.table["verdict"].to_numpy(dtype=object)[shown],
        st[unfitted],
        filt.rule,
        int((~shown & ~unfitted).sum()),
    )


def draw_filter(view: FilterView, title: str = ""):
    """S_true against S_random on equal log axes: rejected candidates grey, accepted ones by verdict, the rule's
    lines S_random = ratio x S_true."""
    fig, (ax,) = _figure(1, width=6.6, height=6.0)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.1, top=0.93)
    both = np.concatenate([view.s_true, view.s_random, view.unfitted])
    ratios = [ratio for ratio, _, _ in _boundaries(view.rule)]
    lo = min([*both[both > 0], 1 / (3 * max(ratios))]) / 2
    x = np.maximum(view.s_true, lo)  # S_true = 0 (constant along every sequence) drawn at the axis' edge
    if len(view.unfitted):
        ax.scatter(
            np.maximum(view.unfitted, lo),
            np.ones(len(view.unfitted)),
            s=6,
            c="0.8",
            marker="|",
            rasterized=True,
            label=f"not fitted on random sequences ({len(view.unfitted):,})",
            gid="unfitted",
        )
    groups = [("rejected", "0.6", 4, "o"), (CONSERVED, "C0", 22, "o"), (APPROXIMATE, "C1", 22, "^")]
    for name, colour, size, marker in groups:
        pick = view.verdict == name
        if pick.any():
            ax.scatter(
                x[pick],
                view.s_random[pick],
                s=size,
                c=colour,
                marker=marker,
                lw=0,
                rasterized=True,
                label=f"{name} ({int(pick.sum()):,})",
                gid=name,
            )
    other = ~np.isin(view.verdict, ["rejected", CONSERVED, APPROXIMATE])  # accepted without a time order
    if other.any():
        ax.scatter(
            x[other],
            view.s_random[other],
            s=22,
            c="C2",
            lw=0,
            rasterized=True,
            label=f"accepted ({int(other.sum()):,})",
            gid="accepted",
        )
    xs = np.geomspace(lo, 2.0, 50)
    for ratio, style, label in _boundaries(view.rule):
        ax.plot(xs, ratio * xs, ls=style, color="k", lw=1, label=label, gid=f"ratio={ratio:g}")
    ax.set(
        xscale="log",
        yscale="log",
        xlim=(lo, 2.0),
        ylim=(lo, 2.0),
        box_aspect=1,
        xlabel="S_true (within-sequence variance on the data)",
        ylabel="S_random (on random sequences)",
    )
    note = f"; {view.hidden:,} without a finite score not shown" if view.hidden else ""
    ax.set_title(f"{title + ': ' if title else ''}the filter at a glance{note}", fontsize="medium")
    ax.legend(loc="lower right", fontsize="small")
    return fig


def write_figures(result, out_dir: Path, laws: list, top: int) -> tuple[list[str], list[Path]]:
    """The filter's figure and one per top law under ``out_dir/figures`` (each written atomically); returns the
    report's markdown lines linking them, and the paths written."""
    folder = Path(out_dir) / FOLDER
    written = [folder / "filter.png"]
    save(draw_filter(filter_view(result.filter), result.traj.name), written[0])
    lines = [
        "## The filter at a glance",
        "",
        "Every candidate's S_true against its S_random; accepted laws lie above the rule's line "
        f"({result.filter.rule.name}).",
        "",
        f"![S_true against S_random]({FOLDER}/filter.png)",
        "",
    ]
    if not laws:
        return lines, written
    try:
        sample = sample_states(result.traj, seed=result.config.seed)
    except DataError as exc:  # e.g. no run of 3 samples in either split: the report says so, the run goes on
        return lines + [f"No law figures: {exc}.", ""], written
    lines += [
        "## Law figures",
        "",
        f"Each law's value on {sample.part} trajectories beside random sequences of the same lengths (states "
        "drawn across time and trajectories: the filter's null), on one scale; a conserved law is flat on the "
        "left. Dashed: the per-trajectory trend of an approximate law. Right: the level sets over the data's "
        "phase portrait, or the data projected on the two states the law depends on most.",
        "",
    ]
    for r in laws[:top]:
        path = folder / f"law_{r.rank:02d}.png"
        save(draw_law(law_view(r.law, sample, r.scores, r.rank)), path)
        written.append(path)
        lines += [f"![law {r.rank}: {r.scores.get('verdict', '')}]({FOLDER}/{path.name})", ""]
    return lines, written


def save(fig, path: Path) -> None:
    """Write a figure as PNG atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)


# ---------------------------------------------------------------------------------------------- internals
def _figure(n: int, width: float, height: float = 4.2):
    """A figure of n panels in a row on an Agg canvas, margins set by hand (constrained layout doubled the time
    of writing a law's figure: 0.69 against 0.45 s measured on 2 busy cores)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _shown_figure()(figsize=(width * n, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.3 / n, right=1 - 0.2 / n, bottom=0.13, top=0.8, wspace=0.3)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax in axes:  # ticks are most of the drawing time: 5 a side is enough to read values
        ax.locator_params(nbins=5)
    return fig, axes


@functools.cache
def _shown_figure() -> type:
    """A matplotlib Figure that Jupyter shows as PNG whatever the backend (a Figure made without pyplot has no
    view until pyplot's inline backend happens to be loaded). Made on first use: matplotlib loads only then."""
    from matplotlib.figure import Figure

    class ShownFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=DPI)
            return buffer.getvalue()

    return ShownFigure


def _trend(t: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Least-squares line of g against t over the finite values: (slope, intercept)."""
    ok = np.isfinite(g)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(t[ok], g[ok], 1)
    return float(slope), float(intercept)


def _boundaries(rule: AcceptanceRule) -> list[tuple[float, str, str]]:
    """(ratio, line style, label) of the rule's lines S_random = ratio x S_true."""
    if rule.min_ratio is not None:
        return [(rule.min_ratio, "-", f"S_random / S_true = {rule.min_ratio:g}: accepted above")]
    return [
        (rule.paper_ratio, "-", f"ratio {rule.paper_ratio:g}: accepted above"),
        (rule.noisy_ratio, "--", f"ratio {rule.noisy_ratio:g}: accepted above when conserved up to noise"),
    ]


def _portrait(law: Law, sample: Sample) -> Portrait | None:
    d = sample.points.shape[1]
    if d < 2:
        return None
    i, j = (0, 1) if d == 2 else _leading_states(law, sample.points)
    pts = sample.points[:, [i, j]]
    grid = None
    if d == 2:
        lo, hi = pts.min(0), pts.max(0)
        pad = 0.05 * np.where(hi > lo, hi - lo, 1.0)
        gx, gy = (np.linspace(lo[k] - pad[k], hi[k] + pad[k], GRID) for k in (0, 1))
        xx, yy = np.meshgrid(gx, gy)
        grid = (gx, gy, _finite_or_nan(law.numpy(np.stack([xx, yy], -1))))
    return Portrait(
        (i, j),
        (sample.names[i], sample.names[j]),
        tuple(x[:, [i, j]] for x in sample.runs),
        pts,
        _finite_or_nan(law.numpy(sample.points)),
        grid,
    )


def _leading_states(law: Law, x: np.ndarray) -> tuple[int, int]:
    """The two states the law depends on most: median |dg/dx_j| (central differences) times the spread of x_j."""
    spread = x.std(0)
    scale = np.where(spread > 0, spread, 1.0)
    weight = np.zeros(x.shape[1])
    for k in range(x.shape[1]):
        h = np.zeros(x.shape[1])
        h[k] = 1e-6 * scale[k]
        with np.errstate(all="ignore"):
            slope = np.abs(law.numpy(x + h) - law.numpy(x - h)) / (2 * h[k])
        finite = slope[np.isfinite(slope)]
        weight[k] = np.median(finite) * spread[k] if len(finite) else 0.0
    first, second = np.argsort(-weight, kind="stable")[:2]
    return int(min(first, second)), int(max(first, second))


def _draw_portrait(fig, ax, p: Portrait) -> None:
    finite = np.isfinite(p.values)
    if p.grid is not None:
        gx, gy, g = p.grid
        ax.scatter(p.points[:, 0], p.points[:, 1], s=2, c="0.75", lw=0, rasterized=True)
        levels = np.unique(np.quantile(p.values[finite], np.linspace(0.02, 0.98, 12))) if finite.any() else None
        if levels is not None and len(levels) > 1 and np.isfinite(g).any():
            cs = ax.contour(gx, gy, np.ma.masked_invalid(g), levels=levels, cmap="viridis", linewidths=1)
            fig.colorbar(cs, ax=ax, label="law's value")
        ax.set_title("level sets over the phase portrait", fontsize="medium")
    else:
        sc = ax.scatter(
            p.points[finite, 0], p.points[finite, 1], s=4, c=p.values[finite], cmap="viridis", lw=0, rasterized=True
        )
        fig.colorbar(sc, ax=ax, label="law's value")
        ax.set_title("the data on the two states it depends on most", fontsize="medium")
    for path in p.paths:
        ax.plot(path[:, 0], path[:, 1], color="k", lw=0.8)
    ax.set(xlabel=p.names[0], ylabel=p.names[1])


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    """Values with inf as NaN: a gap in a line (matplotlib cannot scale an axis to inf)."""
    return np.where(np.isfinite(values), values, np.nan)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and np.isfinite(value)
