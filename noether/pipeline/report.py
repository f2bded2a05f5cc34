"""What a discover run writes: ranked laws (``laws.json``), a markdown report with tables, and PNG plots."""

from __future__ import annotations

import math
import platform
from pathlib import Path

import numpy as np

from ..discovery.composite import describe
from ..io import atomic_path, atomic_write_text
from ..systems import paper_facts
from ..systems.protocol import PROTOCOLS
from .figures import write_figures
from .laws_file import RankedLaw

TOP_LAWS = 20  # laws in the report's table, each with its figure


def write_report(result, out_dir: Path, laws: list[RankedLaw], meta: dict, figures: bool = True) -> list[Path]:
    """``report.md`` plus, unless ``figures`` is False, ``mse_horizon.png`` (when the evaluation ran), the filter's
    figure and one per top law (``figures.py``); returns the paths written."""
    out_dir = Path(out_dir)
    written = []
    lines = [f"# noether discover: {result.traj.name}", "", f"Data: {result.traj.describe()}", ""]
    if protocol_line(result.traj):
        lines += [protocol_line(result.traj), ""]
    lines += [
        f"Command: `{meta.get('command') or 'noether.discover(...)'}`  ",
        f"Machine: {platform.platform()}, {meta.get('cpus')} CPU cores, torch {meta['versions']['torch']}, "
        f"device {meta.get('device')}",
        "",
    ]
    lines += ["## Stages", "", "| stage | result | seconds |", "|---|---|---:|"]
    t = result.timings
    lines.append(
        f"| enumerate | {len(result.space):,} candidate formulas (depth {result.config.depth}) | "
        f"{_secs(result, 'enumerate')} |"
    )
    if result.filter is not None:
        paper = paper_facts(result.traj.system).survivors
        f = result.filter
        lines.append(
            f"| filter | {f.n_accepted} accepted ({f.rule.name}; {f.score} score): {f.n_conserved} "
            f"conserved, {f.n_accepted - f.n_conserved} approximate"
            + (f"; paper: {paper}" if paper else "")
            + f" | {_secs(result, 'filter')} |"
        )
        if "composite" in t:
            n = int((f.table["source"] == "composite").sum())
            libraries = describe(result.traj, result.config.composite_stage)
            lines.append(
                f"| composite | {n} laws from sparse sums of library terms joined the survivors ({libraries}) | "
                f"{_secs(result, 'composite')} |"
            )
    if result.tailor is not None:
        sc = result.tailor.screen
        lines.append(
            f"| screen | {len(result.tailor.candidates)} laws x {len(sc.lrs)} inner rates x "
            f"{len(sc.dt_scales)} inner-loss steps; top {len(result.tailor.top)} kept | "
            f"{_secs(result, 'screen')} |"
        )
        if result.tailor.meta is not None:
            lines.append(
                f"| meta-tailor | {len(result.tailor.top)} laws x {result.tailor.meta.losses.shape[0]} "
                f"epochs | {_secs(result, 'meta-tailor')} |"
            )
    if result.evaluation is not None:
        lines.append(
            f"| evaluate | {len(result.evaluation.methods)} methods x "
            f"{len(set(r.seed for r in result.evaluation.runs))} seeds | {_secs(result, 'evaluate')} |"
        )
    fresh = sum(v for k, v in t.items() if k not in result.cached)
    if result.cached:
        lines.append(
            f"| total | this run; cached stages (read from the stage cache) show the time they took when "
            f"computed, {sum(t[k] for k in result.cached):.1f} s in all | {fresh:.1f} |"
        )
    else:
        lines.append(f"| total | | {fresh:.1f} |")
    if result.filter is not None:
        lines += ["", f"Filter {result.filter.score_line}."]
        if result.filter.unidentifiable:
            lines += ["", f"**No law can be identified from these data: {result.filter.unidentifiable}.**"]
    lines += [
        "",
        "## Top laws",
        "",
        "Verdict: *conserved* when the law varies along the trajectories no more than "
        "measurement noise explains (no excess variance, no trend), *approximate* when it passes the ratio "
        "rule but drifts beyond noise (see README, 'Conserved or approximate').",
        "",
        "Screen's pick: the inner rate @ inner-loss step (x the data's dt) that the screen chose for the law and "
        "meta-tailoring used; the evaluation picks its own per seed (see below).",
        "",
        "One row per law: its simplest form; *forms*: how many accepted formulas are the same law (functions of "
        "it on the data), a few of them named under it.",
        "",
        "| rank | law | verdict | forms | S_true | S_random / S_true | screen's pick | train error | test RMSE |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    if law_helped(result.evaluation) is False:
        lines += [
            "**No discovered law improved on the MLP's long-term predictions here** (see the verdict "
            "under 'Long-term prediction'); the laws below are conserved quantities, not useful ones.",
            "",
        ]
    for r in laws[:TOP_LAWS]:
        s = r.scores
        lines.append(
            f"| {r.rank} | `{r.law.display()}` | {s.get('verdict', '')} | {s.get('forms', 1)} | "
            f"{_f(s.get('s_true'))} | "
            f"{_f(s.get('ratio'))} | "
            f"{_pick(s.get('screen_inner_lr'), s.get('screen_inner_dt_scale'))} | "
            f"{_f(s.get('train_error'))} | {_f(s.get('test_rmse'))} |"
        )
        if s.get("equivalent_forms"):
            lines.append(f"| | same law as: {'; '.join(f'`{e}`' for e in s['equivalent_forms'][:3])} | | | | | | | |")
    if result.filter is not None:
        f = result.filter
        indep, approx = f.independent_indices, f.approximate_indices
        lines += [
            "",
            f"Functionally independent conserved laws among the survivors ({len(indep)}), "
            "one form each: " + ("; ".join(_with_forms(f, i) for i in indep) if indep else "none"),
            "",
            "Approximate laws (accepted, but drifting beyond noise), one per class: "
            + ("; ".join(_with_forms(f, i) for i in approx) if approx else "none"),
            "",
        ]
    paper_law = paper_facts(result.traj.system).law
    if paper_law:
        lines += [f"The paper's law for this system: `{paper_law}`.", ""]
    if result.evaluation is not None:
        lines += _evaluation_section(result)
        if figures:
            png = out_dir / "mse_horizon.png"
            plot_horizon(result.evaluation, png, result.traj.name)
            written.append(png)
            lines += ["", f"![MSE against horizon]({png.name})", ""]
    if figures:
        more, paths = write_figures(result, out_dir, laws, TOP_LAWS)
        lines += ["", *more]
        written += paths
    path = out_dir / "report.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return [path, *written]


def _one_recording_lines(traj) -> list[str]:
    """For data that is one recording split in time: which stretch trained and where the evaluation starts."""
    if traj.n_traj != 1 or not traj.test_mask.any() or not traj.train_mask.any():
        return []
    t = traj.times[0]
    train, test = t[traj.train_mask[0]], t[traj.test_mask[0]]
    return [
        f"One recording: split in time -- t in [{train[0]:.4g}, {train[-1]:.4g}] trains, t in [{test[0]:.4g}, "
        f"{test[-1]:.4g}] is held out; the long-term evaluation integrates every method from the held-out "
        f"segment's first state (t = {test[0]:.4g}) over its {test[-1] - test[0]:.4g} time units.",
        "",
    ]


def _evaluation_section(result) -> list[str]:
    ev = result.evaluation
    paper = paper_facts(result.traj.system).rmse
    lines = [
        "## Long-term prediction on the test trajectories",
        "",
        "RMSE against the noise-free trajectory (observed states for real data), mean ± standard error over "
        f"training seeds {sorted(set(r.seed for r in ev.runs))}.",
        "",
        spread_line(result.traj),
        "",
    ]
    lines += _one_recording_lines(result.traj)
    lines += ["| method | RMSE | ± | paper |", "|---|---:|---:|---:|"]
    for _, row in ev.summary.iterrows():
        ref = paper.get(row["method"])
        lines.append(
            f"| {row['method']} | {row['rmse_mean']:.5g} | {row['rmse_sem']:.5g} | "
            f"{'' if ref is None else f'{ref:.5g}'} |"
        )
    lines += [
        "",
        "Verdict against the vanilla MLP (paired over seeds; better or worse when the mean difference is "
        "more than 2 standard errors from 0):",
        "",
    ]
    lines += [f"- {line}" for line in verdict_lines(ev)]
    tuned = [r for r in ev.runs if r.lr is not None]
    if tuned:
        lines += [
            "",
            "Evaluation's pick per seed: the inner rate @ inner-loss step each law was meta-tailored and "
            "tested with, chosen on the training trajectories of that seed:",
            "",
            "| method | seed | evaluation's pick | test RMSE |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {r.method} | {r.seed} | {_pick(r.lr, r.dt_scale)} | {r.rmse:.5g} |" for r in tuned]
    return lines


def protocol_line(traj) -> str:
    """'Protocol: paper (noise-free ODE data, ...); data seed 0.' for data generated under a named protocol."""
    name = traj.meta.get("protocol")
    if name is None:
        return ""
    return f"Protocol: {name} ({PROTOCOLS[name].description}); data seed {traj.meta.get('seed', 0)}."


def spread_line(traj) -> str:
    """What the comparison's ± covers: the training seeds (initialisation, batches, tailoring) on ONE data draw."""
    seed = traj.meta.get("seed") if traj.system else None
    draw = "this one data set" if seed is None else f"one data draw (data seed {seed})"
    return (
        f"The ± covers training seeds only, on {draw}: another draw of the data moves these RMSEs more "
        "(benchmarks/results/tables_1_2.md measures both)."
    )


def verdict_lines(ev) -> list[str]:
    """One line per method against the MLP, e.g. 'noether vs mlp: better (RMSE -15.6%, 0.0833 vs 0.0987)'."""
    summary = ev.summary.set_index("method")
    lines = []
    for _, row in ev.versus("mlp").iterrows():
        lines.append(
            f"{row['method']} vs mlp: {row['verdict']} (RMSE {100 * row['relative']:+.1f}%, "
            f"{summary.loc[row['method'], 'rmse_mean']:.5g} vs {summary.loc['mlp', 'rmse_mean']:.5g}, "
            f"{row['n']} seed{'s' if row['n'] != 1 else ''})"
        )
    return lines


def law_helped(ev) -> bool | None:
    """Whether the discovered law beat the MLP clearly (None when either was not evaluated)."""
    vs = ev.versus("mlp").set_index("method") if ev is not None else None
    if vs is None or "noether" not in vs.index:
        return None
    return vs.loc["noether", "verdict"] == "better"


def plot_horizon(ev, path: Path, title: str) -> None:
    """MSE against prediction horizon per method (mean ± s.e. over seeds), log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    start = 1 if len(ev.times) > 1 and ev.times[0] == 0 else 0  # the error at t = 0 is 0: no place on a log axis
    for method in ev.methods:
        mean, sem = (a[start:] for a in ev.horizon(method))
        t = ev.times[start:]
        ax.plot(t, mean, label=method)
        ax.fill_between(t, np.maximum(mean - sem, mean * 1e-3), mean + sem, alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("time since the initial state")
    ax.set_ylabel("MSE")
    ax.set_title(f"{title}: long-term prediction error")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def _with_forms(filt, index: int) -> str:
    """'`law` (N forms)': candidate ``index``'s law, and how many forms its class holds when more than one."""
    n = filt.forms(index)
    return f"`{filt.space.law(int(index), filt.params[int(index)]).display()}`" + (f" ({n} forms)" if n > 1 else "")


def _secs(result, stage: str) -> str:
    """A stage's seconds for the stages table, 'cached (took N s)' when it was read from the stage cache."""
    seconds = result.timings.get(stage, 0.0)
    return f"cached (took {seconds:.1f})" if stage in result.cached else f"{seconds:.1f}"


def _pick(lr, dt_scale) -> str:
    """An inner setting as one cell: 'rate @ dt_scale'."""
    if lr is None:
        return ""
    return f"{_f(lr)} @ {_f(dt_scale) or '1'}"


def _f(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.5g}"
