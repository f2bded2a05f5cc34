"""Conserved quantities from ONE recording: the filter (``noether discover --stage filter``, default settings, depth
7) on one long recording of each built-in system, as a user with one orbit has it (no dx/dt: the filter estimates
them), at noise 0 and 0.01 of each state's spread; the shared-energy case (six recordings on one level set); and
Lorenz and Van der Pol, which conserve nothing.

    python benchmarks/bench_one_recording.py [--cases pendulum,spring,...] [--noise 0,0.01] [--compare pendulum]

A true law counts as found when a found conserved law matches it (|corr| >= 0.999) or it is a function of the
independent conserved laws found (its gradient in their span, median relative residual < 1e-3) -- both on FRESH
states: the built-in system's 50 noise-free trajectories (on the recording itself every true law is a constant).
``--compare`` also runs the coordinate-shuffle score on those cases: the measurement that chose the derivative
score. Each case's row is kept in benchmarks/results/one_recording.json, so cases can be run in several calls;
the markdown is written from all rows kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from noether.discovery import FilterConfig
from noether.discovery.independence import state_gradients
from noether.dsl import Law
from noether.pipeline import DiscoverConfig, discover
from noether.systems import Trajectories, load_system
from noether.systems.derivatives import ESTIMATORS, estimate_all
from noether.systems.recording import one_recording
from noether.units import parse_unit

RESULTS = Path(__file__).parent / "results"
CASES = ("pendulum", "spring", "oscillator-2d", "kepler", "rigid-body", "shared-energy", "lorenz", "van-der-pol")
SHARED_LAW = "q**2 + p**2"


def shared_energy(noise: float, seed: int = 0) -> Trajectories:
    """Six recordings q = cos(t + phi), p = -sin(t + phi) (q in m, p in kg m/s), 200 samples over 20 s each: every
    one on the level q^2 + p^2 = 1; relative noise; the last one is the test split."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 20, 200)
    phi = rng.uniform(0, 2 * np.pi, 6)
    clean = np.stack([np.stack([np.cos(t + f), -np.sin(t + f)], -1) for f in phi])
    states = clean + noise * clean.reshape(-1, 2).std(0) * rng.standard_normal(clean.shape)
    mask = np.ones(clean.shape[:2], bool)
    mask[-1] = False
    return Trajectories(
        states=states,
        times=np.broadcast_to(t, clean.shape[:2]).copy(),
        derivatives=np.stack([clean[..., 1], -clean[..., 0]], -1),
        names=("q", "p"),
        units=(parse_unit("m"), parse_unit("kg*m/s")),
        clean=clean,
        train_mask=mask,
        name="shared energy",
        meta={"laws": [SHARED_LAW]},
    )


def recording(case: str, noise: float) -> Trajectories:
    """The case's data, with their true dx/dt (the filter is given none)."""
    return shared_energy(noise) if case == "shared-energy" else one_recording(case, noise=noise)


def direction_errors(case: str, noise: float) -> dict:
    """Mean sin^2 of the angle between estimated and true dx/dt on the training states, in units of each state's
    spread (what the derivative score uses), for each estimator of ``systems.derivatives``."""
    traj = recording(case, noise)
    mask = traj.train_mask
    spread = traj.states[mask].std(0)
    true = traj.derivatives[mask] / spread
    out = {"case": case, "noise": noise, "dim": traj.dim, "laws": len(traj.meta["laws"])}
    for method in ESTIMATORS:
        est = estimate_all(traj.states, traj.times, traj.lengths, method)[mask] / spread
        cos = (est * true).sum(-1) / (np.linalg.norm(est, axis=-1) * np.linalg.norm(true, axis=-1))
        out[method] = float(np.mean(1 - np.clip(cos, -1, 1) ** 2))
    return out


def fresh_states(case: str) -> np.ndarray:
    """States where the true laws take many values: the built-in system's noise-free trajectories (a box of
    uniform states for the shared-energy case)."""
    if case == "shared-energy":
        return np.random.default_rng(1).uniform(-1.5, 1.5, (4000, 2))
    x = load_system(case, noise=0).clean
    return x.reshape(-1, x.shape[-1])


def found(truth: str, names, conserved: list[Law], independent: list[Law], x: np.ndarray) -> tuple[bool, float]:
    """(found?, best |corr|) of a true law: matched by a conserved law, or a function of the independent ones."""
    ref = Law.reference(truth, names)
    y = ref.numpy(x)
    corrs = [abs(np.corrcoef(law.numpy(x), y)[0, 1]) for law in conserved]
    corr = float(np.nanmax(corrs)) if corrs else 0.0
    if corr >= 0.999 or not independent:
        return corr >= 0.999, corr
    xt = torch.as_tensor(x[:: max(1, len(x) // 400)])
    grads = torch.stack([state_gradients(law.torch, xt) for law in independent], -1)
    g = state_gradients(ref.torch, xt).unsqueeze(-1)
    resid = (grads @ torch.linalg.lstsq(grads, g).solution - g).norm(dim=(1, 2)) / g.norm(dim=(1, 2)).clamp_min(1e-300)
    return bool(resid.nanmedian() < 1e-3), corr


def run_case(case: str, noise: float, score: str) -> dict:
    traj = replace(recording(case, noise), derivatives=None)
    start = time.perf_counter()
    res = discover(traj, DiscoverConfig(stage="filter", filter=FilterConfig(score=score)))
    took = time.perf_counter() - start
    f = res.filter
    accepted = f.table.iloc[f.accepted_indices]
    conserved = [f.space.law(int(i), f.params[i]) for i in f.accepted_indices if f.verdict(i) == "conserved"]
    x = fresh_states(case)
    checks = [found(t, traj.names, conserved, f.independent, x) for t in traj.meta["laws"]]
    return {
        "case": case,
        "noise": noise,
        "score": f.score,
        "candidates": len(f.space),
        "accepted": f.n_accepted,
        "conserved": f.n_conserved,
        "unidentifiable": f.unidentifiable,
        "score_reason": f.score_reason,
        "independent": [str(law.display()) for law in f.independent],
        "approximate": [str(law.display()) for law in f.approximate],
        "top": [str(e) for e in accepted["expression"].head(3)],
        "top_ratio": [float(r) for r in accepted["ratio"].head(3)],
        "truth": list(traj.meta["laws"]),
        "found": [c[0] for c in checks],
        "best_corr": [c[1] for c in checks],
        "seconds": took,
        "timings": f.timings,
    }


def table(rows: list[dict]) -> list[str]:
    out = [
        "| case | noise | score | accepted | conserved | true laws found | best \\|corr\\| per true law | "
        "independent conserved laws | approximate laws | seconds | code |",
        "|---|---:|---|---:|---:|---:|---|---|---|---:|---|",
    ]
    for r in rows:
        n_true = len(r["truth"])
        laws = "; ".join(f"`{e}`" for e in r["independent"]) or (
            f"none: {r['unidentifiable']}" if r["unidentifiable"] else "none"
        )
        approx = "; ".join(f"`{e}`" for e in r["approximate"]) or "none"
        corr = ", ".join(f"{c:.4f}" for c in r["best_corr"]) or "-"
        got = (
            f"{sum(r['found'])}/{n_true}"
            if n_true
            else ("none, as it should" if not r["accepted"] else "**laws listed**")
        )
        level = "one level set" in r.get("score_reason", "")
        score = r["score"] + (" (all recordings on one level set)" if level else "")
        out.append(
            f"| {r['case']} | {r['noise']:g} | {score} | {r['accepted']} | {r['conserved']} | {got} | "
            f"{corr} | {laws} | {approx} | {r['seconds']:.0f} | {r.get('code', '')} |"
        )
    return out


def derivative_table(rows: list[dict]) -> list[str]:
    out = [
        "## Choosing the dx/dt estimate of the derivative score",
        "",
        "Mean sin^2 of the angle between the estimated and the true dx/dt on each recording's training states, "
        "in units of each state's spread (`direction_errors`; lower is better). A true law's derivative score is "
        "about this error and the null's about 1/d, so the rule's ratio 100 needs an error below 1/(100 d) "
        "(*bound*). One estimator serves every system: the one within the bound on the most recordings of "
        "systems that conserve something (Lorenz and Van der Pol conserve nothing: no law to resolve there).",
        "",
        "| case | noise | bound 1/(100 d) | " + " | ".join(ESTIMATORS) + " |",
        "|---|---:|---:|" + "---:|" * len(ESTIMATORS),
    ]
    for r in rows:
        bound = 1 / (100 * r["dim"])
        cells = [f"**{r[m]:.2e}**" if r[m] < bound else f"{r[m]:.2e}" for m in ESTIMATORS]
        out.append(f"| {r['case']} | {r['noise']:g} | {bound:.2e} | " + " | ".join(cells) + " |")
    laws = [r for r in rows if r["laws"]]
    within = {m: sum(r[m] < 1 / (100 * r["dim"]) for r in laws) for m in ESTIMATORS}
    out.append(
        f"| **within the bound** ({len(laws)} recordings with laws) | | | "
        + " | ".join(f"{within[m]}/{len(laws)}" for m in ESTIMATORS)
        + " |"
    )
    return [*out, ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--noise", default="0,0.01")
    ap.add_argument("--compare", default="", help="cases also run with the coordinate-shuffle score")
    ap.add_argument("--derivatives", default="", help="cases whose dx/dt estimators are measured (no filter run)")
    ap.add_argument("--note", default="", help="what else ran on the machine (goes into the report)")
    args = ap.parse_args()
    store = RESULTS / "one_recording.json"
    kept = json.loads(store.read_text()) if store.exists() else {"rows": [], "compare": [], "notes": []}
    kept.setdefault("derivatives", [])
    for case in filter(None, args.derivatives.split(",")):
        for noise in (float(v) for v in args.noise.split(",")):
            row = direction_errors(case, noise)
            kept["derivatives"] = [r for r in kept["derivatives"] if (r["case"], r["noise"]) != (case, noise)] + [row]
    for key, cases, score in (("rows", args.cases, "auto"), ("compare", args.compare, "coordinate-shuffle")):
        for case in filter(None, cases.split(",")):
            for noise in (float(v) for v in args.noise.split(",")):
                row = run_case(case, noise, score)
                kept[key] = [r for r in kept[key] if (r["case"], r["noise"]) != (case, noise)] + [row]
                print(json.dumps(row)[:400], flush=True)
                RESULTS.mkdir(exist_ok=True)
                store.write_text(json.dumps(kept, indent=1))
    kept["notes"].append(
        f"`python benchmarks/bench_one_recording.py {' '.join(sys.argv[1:])}`"
        + (f" ({args.note})" if args.note else "")
    )
    store.write_text(json.dumps(kept, indent=1))
    write_report(kept)


def write_report(kept: dict) -> None:
    """benchmarks/results/one_recording.md from all rows kept, then the hand-written one_recording_reading.md."""
    order = {c: i for i, c in enumerate(CASES)}
    rows = sorted(kept["rows"], key=lambda r: (order.get(r["case"], 99), r["noise"]))
    lines = [
        "# One recording is enough: conserved quantities from a single long trajectory",
        "",
        "Commands (rows kept from each):  ",
        *[f"{n}  " for n in kept["notes"]],
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores shared with other jobs, torch "
        f"{torch.__version__}, no GPU (seconds are wall time under that load)",
        "",
        "`noether discover --stage filter` with every default (depth 7, 2 parameters, score 'auto') on one "
        "recording per system: one initial state drawn by the system's own protocol, integrated over 8 times "
        "its usual span, 800 samples, the last 20% in time held out (`systems.recording.one_recording`), "
        "Gaussian noise of 0 or 0.01 x each state's spread, no dx/dt given (the filter estimates them). "
        "*shared-energy*: six recordings q = cos(t + phi), p = -sin(t + phi), 200 samples each, all on the "
        "level q^2 + p^2 = 1 (five train). A true law is *found* when a found conserved law matches it "
        "(|corr| >= 0.999) or it is a function of the independent conserved laws found, both on fresh states "
        "(the built-in system's 50 noise-free trajectories; a box of states for shared-energy), since on the "
        "recording itself every true law is one constant. Lorenz and Van der Pol conserve nothing.",
        "",
        *table(rows),
        "",
    ]
    if kept["compare"]:
        comp = sorted(kept["compare"], key=lambda r: (order.get(r["case"], 99), r["noise"]))
        lines += [
            "## Choosing the score: derivative test against the coordinate-shuffle null",
            "",
            "The same runs with `--score coordinate-shuffle` (each coordinate permuted within each sequence, "
            "`discovery/contrast.py`). Its top laws by ratio:",
            "",
            "| case | noise | accepted | conserved | true laws found | top 3 laws (ratio) | seconds |",
            "|---|---:|---:|---:|---:|---|---:|",
        ]
        for r in comp:
            top = "; ".join(f"`{e}` ({q:.3g})" for e, q in zip(r["top"], r["top_ratio"])) or "none"
            lines.append(
                f"| {r['case']} | {r['noise']:g} | {r['accepted']} | {r['conserved']} | "
                f"{sum(r['found'])}/{len(r['truth'])} | {top} | {r['seconds']:.0f} |"
            )
        lines.append("")
    if kept["derivatives"]:
        lines += derivative_table(sorted(kept["derivatives"], key=lambda r: (order.get(r["case"], 99), r["noise"])))
    epilogue = RESULTS / "one_recording_reading.md"
    if epilogue.exists():
        lines += [epilogue.read_text()]
    (RESULTS / "one_recording.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
