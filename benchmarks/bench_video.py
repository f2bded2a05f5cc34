"""Noether Networks on video, ``cpu`` preset: controlled pendulum (Fig. 3), ramp (Fig. 4), the inner-steps study
(Fig. 6) and a discovered law plugged in as the embedding on ``pendulum-pixels``.

    .venv/bin/python benchmarks/bench_video.py [--seeds 2] [--jobs 2] [--runs runs/bench_video] [--device auto]

Thin over ``noether.video``: each (dataset, method, seed) is ``train_run`` + ``evaluate_run``; runs are
checkpointed under ``--runs`` so an interrupted benchmark resumes. Writes ``benchmarks/results/video.md`` and
``benchmarks/results/video_*.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed

from noether.device import resolve_device
from noether.video.compare import difference, is_trained, plot_differences, seed_difference
from noether.video.config import preset_config
from noether.video.evaluate import (
    BASELINES,
    METRICS,
    HorizonMetrics,
    aggregate,
    conservation_check,
    evaluate_baseline,
    evaluate_run,
    inner_steps_study,
    plot_horizon,
    plot_study,
)
from noether.video.explain import explain_run
from noether.video.train import train_run

RESULTS = Path(__file__).parent / "results"
LR_FACTORS = (0.5, 2.0)
BASELINE_LABELS = set(BASELINES.values())
LAW_FILE = Path("runs/pendulum/laws.json")
LAW_FALLBACK = "p**2 - 3*cos(q)"  # the paper's discovered pendulum law (Table 1), used when no laws.json exists
CLAIMS = {
    "pendulum-controlled": "Noether Net lower MSE and slightly better SSIM than SVG; SVG (more steps) does not help "
    "(Fig. 3).",
    "ramp": "Noether Net better than SVG on all metrics (LPIPS, MSE, PSNR, SSIM) by a small margin, more so at long "
    "horizons (Fig. 4).",
    "pendulum-pixels": "(not in the paper) a discovered law over a learned state readout as the Noether embedding.",
}


def chain(
    dataset: str,
    methods: list[str],
    seed: int,
    runs: Path,
    study_steps: int,
    law: dict,
    preset: str = "cpu",
    device: str = "auto",
) -> list[dict]:
    """Train and evaluate ``methods`` in order for one (dataset, seed); svg first (others may start from it)."""
    torch.set_num_threads(1)
    os.environ["NOETHER_PROGRESS"] = "0"
    out = []
    for method in methods:
        cfg = preset_config(dataset, method, preset)
        run = runs / f"{dataset}_{method}_s{seed}"
        init = runs / f"{dataset}_svg_s{seed}" if cfg.freeze_base and method != "svg" else None
        extra = law if method == "noether-law" else {}
        done = run / "bench_eval.json"
        if done.exists():  # finished earlier (the benchmark resumes)
            out += json.loads(done.read_text())
            continue
        train_run(cfg, run, seed=seed, device=device, init=init, **extra)
        label = {"svg-more": "svg (more steps)", "noether-law": "noether (law)"}.get(method, method)
        items = [evaluate_run(run, device=device, label=label).to_dict()]
        if method.startswith("noether"):
            if not cfg.freeze_base:  # on a frozen base, no inner step is the svg run itself
                items.append(
                    evaluate_run(run, device=device, tailored=False, label=f"{label}, no inner step").to_dict()
                )
            for factor in LR_FACTORS:  # inner-lr sensitivity: the trained model tailored at another step size
                inner = dataclasses.replace(cfg.inner, lr=cfg.inner.lr * factor)
                items.append(
                    evaluate_run(run, device=device, inner=inner, label=f"{label}, inner lr x{factor:g}").to_dict()
                )
        if study_steps and dataset == "ramp" and method == "noether" and seed == 0:
            s = inner_steps_study(run, steps=study_steps, lr=1e-4, max_sequences=2, device=device)
            items.append({"study": {"inner": s.inner.tolist(), "outer": s.outer.tolist(), "config": s.config}})
        if method.startswith("noether") and cfg.adapt == "cn":
            conservation(run, device)
        done.write_text(json.dumps(items))
        out += items
    return out


PRESET_NOTES = {
    "pilot": "The `pilot` preset (`noether/video/config.py`): the `cpu` preset's narrow networks at the paper's "
    "sample counts (controlled pendulum, batch 8: 50 epochs of SVG teacher forced on 10 frames as in App. D, "
    "then 20 epochs on its own predictions over all 26 frames with the teacher-forced loss beside it, then "
    "20 more for the Noether embedding or for `svg (more steps)`, these two also free running), each phase "
    "stopped early when the validation episodes' MSE (10 frames in the first phase; after it all 26, "
    "scored by the geometric mean over horizons) has not improved for 8 epochs, keeping the best weights; "
    "pixel pendulum: svg up to 4,000 outer steps at lr 1e-4, "
    "batch 4, validated every 150 steps on 10 held-out trajectories, patience 6; then, as on the "
    "controlled pendulum, the law plug-in (its state readout first fitted on the known states for 6,000 "
    "steps) and the learned embedding are tuned for up to 1,600 steps on that svg run, frozen, and "
    "`svg (more steps)` trains it on for as many (`steps`: the configured budget, the law's including its "
    "readout fit). `train s`: the run's own seconds (methods built on an svg run: the steps after it).",
    "cpu": "The `cpu` preset is far smaller than the paper's runs: 120 (ramp, pixels) or 300 + 100 (controlled) "
    "outer steps; its models do not learn the motion (see the sanity baselines).",
}
PAIRS = {
    "pendulum-controlled": [("noether", "svg"), ("noether", "svg (more steps)"), ("svg (more steps)", "svg")],
    "ramp": [("noether", "svg")],
    "pendulum-pixels": [
        ("noether (law)", "svg"),
        ("noether (law)", "svg (more steps)"),
        ("noether", "svg"),
        ("noether (law)", "noether"),
        ("svg (more steps)", "svg"),
    ],
}


def baselines(dataset: str, preset: str, runs: list[HorizonMetrics]) -> list[HorizonMetrics]:
    """copy-last and mean-frame on the windows each seed's runs were scored on."""
    out = []
    for seed in sorted({r.seed for r in runs}):
        n = next(len(r.mse) for r in runs if r.seed == seed)
        out += [
            evaluate_baseline(
                dataset,
                kind,
                preset=preset,
                seed=seed,
                max_sequences=n,
                size=preset_config(dataset, "svg", preset).size,
            )
            for kind in ("copy-last", "mean-frame")
        ]
    return out


def trained_labels(runs: list[HorizonMetrics]) -> dict[str, tuple[int, int]]:
    """label -> (seeds whose model beats copy-last at horizon 1, seeds)."""
    copy = {r.seed: r for r in runs if r.meta.get("baseline") == "copy-last"}
    out: dict[str, tuple[int, int]] = {}
    for r in runs:
        if "baseline" in r.meta:
            continue
        ok, n = out.get(r.label, (0, 0))
        out[r.label] = (ok + is_trained(r, copy[r.seed]), n + 1)
    return out


def _significant(obj, digits: int = 6):
    """``obj`` with every float rounded to ``digits`` significant digits (the stored metrics compress 3x)."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, list):
        return [_significant(v, digits) for v in obj]
    if isinstance(obj, dict):
        return {k: _significant(v, digits) for k, v in obj.items()}
    return obj


def untrained(dataset: str) -> list[str]:
    """A dataset with no finished run: said so, with the measured cost of its ``paper`` preset on this CPU
    (``bench_video_cost.py``) where that table exists -- never a comparison."""
    cost = RESULTS / "video_cost_paper.md"
    rows = (
        [line for line in cost.read_text().splitlines() if line.startswith(f"| {dataset} |")] if cost.exists() else []
    )
    md = [
        f"## {dataset}",
        "",
        f"Paper: {CLAIMS[dataset]}",
        "",
        f"**Not trained here: needs a GPU.** No {dataset} run finished under this preset, so nothing is compared; "
        "no GPU was lent to this project's sessions."
        + (f" The paper preset's measured cost on this CPU (`{cost.name}`, 1 thread, under load):" if rows else ""),
        "",
    ]
    if rows:
        md += [
            "| dataset | method | batch | frames | s / step | steps | projected h |",
            "|---|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    return md


def explanation(dataset: str, runs: list[HorizonMetrics], root: Path, device: str = "auto") -> list[str]:
    """Figs. 5/7 for the lowest-seed Noether run with a learned frame embedding that beats copy-last at horizon 1:
    the PCA of g_phi along test sequences and Grad-CAM of its leading PCA dimensions (``noether video explain``)."""
    if preset_config(dataset, "noether").adapt == "outputs":
        return [
            f"No embedding figures for {dataset}: its g reads the LSTM's outputs, not frames, so there are no "
            "pixels for Grad-CAM to point at.",
            "",
        ]
    copy = {r.seed: r for r in runs if r.meta.get("baseline") == "copy-last"}
    picks = sorted((r for r in runs if r.label == "noether" and is_trained(r, copy[r.seed])), key=lambda r: r.seed)
    run = Path(picks[0].meta["run"]) if picks else None
    if run is None or not (run / "checkpoint.pt").exists():
        return [f"No embedding figures: no trained `noether` run of {dataset} with its checkpoint under {root}.", ""]
    out = RESULTS / f"video_explain_{dataset}"
    exp = explain_run(run, out, device=device)
    c = exp.check
    if exp.inert:
        return [
            f"**The learned embedding g_phi is inert** (`noether video explain {run.as_posix()}`): its inner loss "
            f"on the true frames ({c['true']:.4g}) and on svg's prediction ({c['untailored']:.4g}) are alike "
            f"(higher on the prediction in {c['separation']:.0%} of {c['windows']} test windows; figures are "
            "drawn from 75%), so it cannot tell a prediction from the truth and its PCA/Grad-CAM (Figs. 5/7) "
            "would explain nothing. None drawn.",
            "",
        ]
    rel = [p.relative_to(RESULTS).as_posix() for p in [exp.pca_png, *exp.cam_pngs]]
    share = ", ".join(f"{v:.0%}" for v in exp.explained[:3])
    return [
        f"**The learned embedding g_phi** (`noether video explain {run.as_posix()}`, Figs. 5/7): PCA of its "
        f"outputs over test sequences (first three components: {share} of the variance), then Grad-CAM of the "
        "leading components: which pixels each one reads.",
        "",
        *[f"![]({p})" for p in rel],
        "",
    ]


def conservation(run: Path, device: str = "auto") -> dict | None:
    """The run's conservation check (truth / prediction / tailored), cached beside it; None without a checkpoint."""
    cached = run / "conservation.json"
    if cached.exists():
        return json.loads(cached.read_text())
    if not (run / "checkpoint.pt").exists():
        return None
    check = conservation_check(run, device=device).to_dict()
    cached.write_text(json.dumps(check))
    return check


def conservation_table(runs: list[HorizonMetrics]) -> list[str]:
    """Per frame-embedding Noether method, the inner loss on the true frames, SVG's prediction (untailored) and
    the tailored one, means over seeds: whether tailoring pulls the prediction towards what the truth conserves."""
    rows = []
    for label in ("noether (law)", "noether"):
        checks = [c for r in runs if r.label == label and (c := conservation(Path(r.meta["run"])))]
        if not checks:
            continue
        mean = {k: float(np.mean([c[k] for c in checks])) for k in checks[0]}
        rows.append(
            f"| {label} | {len(checks)} | {mean['true']:.3g} | {mean['untailored']:.3g} | "
            f"{mean['tailored']:.3g} | {mean['mse_untailored']:.3g} | {mean['mse_tailored']:.3g} |"
        )
    if not rows:
        return []
    return [
        "**Is the embedding conserved?** (`noether.video.evaluate.conservation_check`) Mean inner loss (Eq. 2b "
        "as trained, scaled by the learned scale) per test window on the true future frames, on the untailored "
        "prediction (the frozen svg base) and after the inner step, beside the MSE over all predicted frames "
        "before and after it; means over seeds.",
        "",
        "| embedding | seeds | inner loss: truth | untailored | tailored | MSE untailored | MSE tailored |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def table(results: list[HorizonMetrics], horizons: list[int], trained: dict[str, tuple[int, int]]) -> str:
    lines = [
        "| method | seeds | trained | metric | "
        + " | ".join(f"h={h}" for h in horizons)
        + " | mean over h | steps trained | train s |",
        "|---" * (len(horizons) + 7) + "|",
    ]
    info: dict[str, tuple[list, list]] = {}
    for r in results:
        secs, steps = info.setdefault(r.label, ([], []))
        secs.append(r.meta.get("train_seconds", float("nan")))
        steps.append(r.meta.get("trained_steps", r.meta.get("steps", float("nan"))))  # taken, not budgeted
    for metric in METRICS:
        for label, (mean, se, n) in aggregate(results, metric).items():
            ok, total = trained.get(label, (n, n))
            state = (
                "—"
                if label in BASELINE_LABELS
                else "yes"
                if ok == total
                else f"**no** ({ok}/{total} seeds beat copy-last)"
            )
            cells = [f"{mean[h - 1]:.4g} ± {se[h - 1]:.2g}" for h in horizons]
            secs, steps = info[label]
            lines.append(
                f"| {label} | {n} | {state} | {metric.upper()} | "
                + " | ".join(cells)
                + f" | {mean.mean():.4g} | {_count(steps)} | {_count(secs)} |"
            )
    return "\n".join(lines)


def sanity(runs: list[HorizonMetrics]) -> list[str]:
    """Per method: at which horizons its mean MSE is below each sanity baseline's (same seeds), and with several
    seeds at how many horizons each seed's is below its own baseline's (a mean over seeds can hide one that is not)."""
    out = []
    for label in dict.fromkeys(r.label for r in runs if "baseline" not in r.meta and "," not in r.label):
        own = sorted((r for r in runs if r.label == label), key=lambda r: r.seed)
        mean = np.mean([r.curve("mse") for r in own], 0)
        words = []
        for kind, name in BASELINES.items():
            base_of = {r.seed: r.curve("mse") for r in runs if r.meta.get("baseline") == kind}
            base = np.mean([base_of[r.seed] for r in own], 0)
            below = np.flatnonzero(mean < base) + 1
            per_seed = [f"s{r.seed} {int((r.curve('mse') < base_of[r.seed]).sum())}" for r in own]
            words.append(
                f"{name}: below at {len(below)}/{len(mean)} horizons"
                + (f" (h = {_ranges(below)})" if 0 < len(below) < len(mean) else "")
                + (f" [per seed: {', '.join(per_seed)}]" if len(own) > 1 else "")
            )
        out.append(f"- `{label}` MSE vs " + "; ".join(words))
    return out


def _ranges(h: np.ndarray) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    parts, start = [], h[0]
    for a, b in zip(h, [*h[1:], None]):
        if b != a + 1:
            parts.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(parts)


def _count(values: list) -> str:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return f"{np.mean(values):.0f}" if values else "—"


def comparisons(
    runs: list[HorizonMetrics], dataset: str, trained: dict[str, tuple[int, int]], horizons: list[int]
) -> tuple[list, list[str]]:
    """The dataset's method pairs and inner-lr sensitivity as a markdown table (only trained models)."""
    pairs = list(PAIRS[dataset])
    for label in ("noether", "noether (law)"):
        pairs += [(f"{label}, {v}", label) for v in ("no inner step", *(f"inner lr x{f:g}" for f in LR_FACTORS))]
    rows, diffs, skipped = [], [], []
    for a, b in pairs:
        if a not in trained or b not in trained:
            continue
        untrained = [x for x in (a, b) if trained[x][0] < trained[x][1]]
        if untrained:
            skipped.append(f"`{a}` vs `{b}`: not compared, {' and '.join(untrained)} not trained")
            continue
        d = difference(runs, a, b, "mse")
        if d is None:
            continue
        if not a.startswith(b + ","):
            diffs.append(d)
        cells = [f"{d.mean[h - 1]:+.2e} [{d.low[h - 1]:+.1e}, {d.high[h - 1]:+.1e}]" for h in horizons]
        try:
            s = seed_difference(runs, a, b, "mse")
        except ValueError as exc:  # trained on different seeds: not compared
            skipped.append(f"`{a}` vs `{b}`: {exc}")
            continue
        if s is None:
            words, primary = "one seed: no claim (the seed is the unit)", "—"
        else:
            low_h, high_h = s.horizons()
            words = (
                f"{s.verdict}"
                + (f"; lower at h = {_ranges(np.array(low_h))}" if low_h else "")
                + (f"; higher at h = {_ranges(np.array(high_h))}" if high_h else "")
            )
            primary = f"{s.mean:+.2e} [{s.low:+.1e}, {s.high:+.1e}]"
        rows.append(f"| {a} − {b} | {d.seeds} | {d.units} | " + " | ".join(cells) + f" | {primary} | {words} |")
    head = [
        "| ΔMSE | seeds | episodes | "
        + " | ".join(f"h={h} (episodes resampled)" for h in horizons)
        + " | mean over h, 95% t over seeds | verdict (seeds; per h: Holm over horizons) |",
        "|---" * (len(horizons) + 5) + "|",
    ]
    return diffs, (head + rows if rows else ["No comparison: no pair of trained models."]) + [""] + [
        f"- {s}" for s in skipped
    ]


def _fig3_section(path: Path) -> str:
    """The section bench_video_fig3.py wrote into ``path``, or ''."""
    try:  # run as a script from benchmarks/, or imported as the benchmarks package
        from bench_video_fig3 import MARK
    except ImportError:
        from benchmarks.bench_video_fig3 import MARK

    text = path.read_text() if path.exists() else ""
    start, end = text.find(MARK[0]), text.find(MARK[1])
    return text[start : end + len(MARK[1])] if 0 <= start < end else ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--study-steps", type=int, default=150)
    ap.add_argument("--report-only", action="store_true", help="only gather runs already finished under --runs")
    ap.add_argument("--runs", type=Path, default=Path("runs/bench_video"))
    ap.add_argument("--preset", default="cpu", help="pilot (learns on a 2-core machine), cpu (short) or ci (smoke)")
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    ap.add_argument(
        "--datasets",
        default="pendulum-controlled,ramp,pendulum-pixels",
        help="comma-separated datasets to train (the report gathers every finished run)",
    )
    args = ap.parse_args()
    law = {"law_path": str(LAW_FILE)} if LAW_FILE.exists() else {"law_expr": LAW_FALLBACK}
    plan = []
    for seed in range(args.seeds):  # longest chains first
        plan += [
            ("pendulum-pixels", ["svg", "noether-law", "noether", "svg-more"], seed),
            ("ramp", ["noether"], seed),
            ("ramp", ["svg"], seed),
            ("pendulum-controlled", ["svg", "svg-more", "noether"], seed),
        ]
    wanted = set(args.datasets.split(","))
    plan = [item for item in plan if item[0] in wanted]
    args.runs.mkdir(parents=True, exist_ok=True)
    stamp = args.runs / "started.txt"
    if not args.report_only or not stamp.exists():
        stamp.write_text(f"{time.time():.0f} {args.jobs}")  # when, and how many runs shared the machine
    if args.report_only:
        done = [json.loads(f.read_text()) for f in sorted(args.runs.glob("*/bench_eval.json"))]
    else:
        done = Parallel(n_jobs=args.jobs, backend="loky")(
            delayed(chain)(d, m, s, args.runs, args.study_steps, law, args.preset, args.device) for d, m, s in plan
        )
    finished = [f.stat().st_mtime for f in args.runs.glob("*/bench_eval.json")]
    started, *jobs = stamp.read_text().split()
    wall = (max(finished) if finished else time.time()) - float(started)
    jobs = int(jobs[0]) if jobs else args.jobs
    items = [x for group in done for x in group]
    studies = [x["study"] for x in items if "study" in x]
    results = [HorizonMetrics.from_dict(x) for x in items if "study" not in x]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "video" if args.preset == "pilot" else f"video_{args.preset}"
    with gzip.open(RESULTS / f"{stem}_metrics.json.gz", "wt") as fh:  # every window's metrics: 20 MB as plain json
        json.dump(_significant(items), fh)
    cmd = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    law_note = (
        f"`{LAW_FILE}`"
        if "law_path" in law
        else f"no laws.json found, used `{LAW_FALLBACK}` (the paper's discovered pendulum law)"
    )
    md = [
        f"# Noether Networks on video ({args.preset} preset)",
        "",
        f"Command: `{cmd}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{'GPU ' + torch.cuda.get_device_name() if resolve_device(args.device).type == 'cuda' else 'no GPU'}; "
        f"{jobs} "
        f"runs in parallel, 1 thread each; wall time from the last (re)start of training to its last "
        f"evaluation {wall / 60:.1f} min.  ",
        "Every test window of every test episode is scored. Seeds draw the data, initial weights and batches. "
        "LPIPS is not computed: it needs pretrained weights that cannot be fetched here.  ",
        f"Law plug-in: {law_note}.",
        "",
        PRESET_NOTES.get(args.preset, ""),
        "",
        "**Sanity baselines.** `copy last frame` repeats the last conditioning frame; `mean training frame` "
        "predicts the average training frame. A model whose horizon-1 MSE is not below copying the last frame "
        "has not learned the motion: it is marked *not trained* and not compared.",
        "",
        "**Differences** are paired (same seed, same windows). Claims take the training seed as the unit "
        "(`noether/video/compare.py:seed_difference`): per seed the difference of the MSE averaged over every "
        "window and horizon, their mean and 95% t-interval over seeds; per horizon, t-tests over the seeds "
        "with Holm's correction over horizons; labels trained on different seeds are not compared. The "
        "per-horizon cells are descriptive: 95% percentile intervals from resampling (seed, episode) units, "
        "which ignore the spread between training runs. Negative ΔMSE: the first model predicts better.",
        "",
    ]
    notes = args.runs / "NOTE.txt"
    if notes.exists():  # what happened to these runs that their configuration does not say
        md += [
            "**Run notes** (`" + notes.as_posix() + "`):",
            "",
            *[f"- {line}" for line in notes.read_text().splitlines() if line],
            "",
        ]
    for dataset in ("pendulum-controlled", "ramp", "pendulum-pixels"):
        sub = [r for r in results if r.dataset == dataset]
        if not sub:
            md += untrained(dataset)
            continue
        sub += baselines(dataset, args.preset, sub)
        H = sub[0].mse.shape[1]
        horizons = sorted({1, 5, H // 2, H} - {0})
        png = RESULTS / f"video_{args.preset}_{dataset}.png"
        main_runs = [r for r in sub if ", " not in r.label]  # the diagnostic variants (no inner step, lr x) are tabled
        plot_horizon(main_runs, png, title=f"{dataset} ({args.preset} preset)")
        trained = trained_labels(sub)
        diffs, lines = comparisons(sub, dataset, trained, horizons)
        dpng = RESULTS / f"video_{args.preset}_{dataset}_diff.png"
        if diffs:
            plot_differences(diffs, dpng, title=f"{dataset}: paired ΔMSE, 95% intervals")
        section = args.runs / f"{dataset}.md"  # what the reader must know about these runs before the tables
        md += [
            f"## {dataset}",
            "",
            f"Paper: {CLAIMS[dataset]}",
            "",
            *([section.read_text().strip(), ""] if section.exists() else []),
            table(sub, horizons, trained),
            "",
            "Against the sanity baselines (mean over seeds, per horizon):",
            "",
            *sanity(sub),
            "",
            *lines,
            "",
            f"![]({png.name})",
            "",
        ] + ([f"![]({dpng.name})", ""] if diffs else [])
        if preset_config(dataset, "noether").adapt == "cn":
            md += conservation_table(sub)
        md += explanation(dataset, sub, args.runs, args.device)
    if studies:
        s = studies[0]
        inner, outer = np.asarray(s["inner"]), np.asarray(s["outer"])
        plot_study(
            type("S", (), {"steps": np.arange(len(inner)), "inner": inner, "outer": outer})(),
            RESULTS / "video_inner_steps.png",
            title="ramp: Adam inner steps (lr 1e-4)",
        )
        k = np.arange(len(outer))
        md += [
            "## Many inner steps (Fig. 6), ramp, seed 0",
            "",
            "Paper: with Adam (lr 1e-4) for 500 steps the outer loss improves for roughly 150 inner steps.",
            "",
            f"Ours ({len(inner) - 1} Adam steps, lr 1e-4, {s['config']['sequences']} test sequences): inner loss "
            f"{inner[0]:.4g} -> {inner[-1]:.4g}; outer MSE {outer[0]:.5f} at 0 steps, best {outer.min():.5f} at "
            f"step {int(k[outer.argmin()])}, {outer[-1]:.5f} at the end.",
            "",
            "![](video_inner_steps.png)",
            "",
        ]
    target = RESULTS / f"{stem}.md"
    kept = _fig3_section(target)  # the Fig. 3 confirmation (bench_video_fig3.py) stays where it is
    (RESULTS / f"{stem}.md").write_text("\n".join(md[:1] + ["", kept] * bool(kept) + md[1:]))
    print("\n".join(md))


if __name__ == "__main__":
    main()
