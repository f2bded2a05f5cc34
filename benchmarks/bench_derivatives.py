"""Which derivative estimator to use by default when data comes without dx/dt: measured on the noisy HNN systems.

For the ideal spring and pendulum (HNN protocol, noise 0.1, data seeds 0 and 1), the built-in exact derivatives
(the true vector field at the noise-free states) are replaced by each estimator's dx/dt computed from the NOISY states
(``noether.systems.derivatives``); for each source of derivatives we measure
(a) the RMSE of dx/dt against the exact derivatives,
(b) the vanilla MLP's long-term test RMSE when trained on them, and
(c) the long-term test RMSE of that MLP meta-tailored with the true law (oracle), the best a discovered law can do;
'exact' (what the built-in systems train on today) is the reference row. A cheap side table sweeps the
Savitzky-Golay window and the noise level for (a) only.

    .venv/bin/python benchmarks/bench_derivatives.py [--seeds 2] [--data-seeds 0,1] [--steps 2000] [--epochs 30]
        [--checkpoint DIR] [--quick]

Writes benchmarks/results/derivatives.md and benchmarks/results/derivatives.png (the results file's conclusion
is written by hand from the numbers; a rerun drops it). ``--checkpoint DIR`` keeps every finished run, so an
interrupted run (or one with more seeds) resumes.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from noether.dsl import Law  # noqa: E402
from noether.systems import SYSTEMS, Trajectories, load_system  # noqa: E402
from noether.systems.derivatives import ESTIMATORS, estimate_all  # noqa: E402
from noether.tailoring import CompareConfig, MetaConfig, TrainConfig, compare_methods  # noqa: E402
from noether.tailoring.checkpoint import Checkpoint  # noqa: E402
from noether.tailoring.compare import sem  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SOURCES = ("exact", *ESTIMATORS)


def with_derivatives(traj: Trajectories, source: str, **options) -> Trajectories:
    """The data with its dx/dt from ``source``: 'exact' keeps the built-in ones, else an estimator on the noisy
    states."""
    if source == "exact":
        return traj
    est = estimate_all(traj.states, traj.times, None, source, **options)
    return replace(traj, derivatives=est, meta={**traj.meta, "derivatives": source})


def dxdt_rmse(traj: Trajectories, exact: np.ndarray) -> float:
    """RMSE of the data's dx/dt against the exact derivatives, over all samples and coordinates."""
    return float(np.sqrt(np.mean((traj.derivatives - exact) ** 2)))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def side_tables(systems: list[str]) -> list[str]:
    """dx/dt RMSE only: Savitzky-Golay window x polyorder at noise 0.1, and every estimator at three noise levels."""
    lines = [
        "## dx/dt error only: Savitzky-Golay window and noise level",
        "",
        "RMSE of dx/dt against the exact derivatives (all samples). Savitzky-Golay at noise 0.1:",
        "",
        "| system | " + " | ".join(f"w={w}" for w in (5, 7, 9, 11, 15)) + " |",
        "|---|" + "---:|" * 5,
    ]
    for system in systems:
        traj = load_system(system, noise=0.1, seed=0)
        for order in (2, 3):
            cells = [
                dxdt_rmse(with_derivatives(traj, "savgol", window=w, polyorder=order), traj.derivatives)
                for w in (5, 7, 9, 11, 15)
            ]
            lines.append(f"| {system}, polyorder {order} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    lines += [
        "",
        "Every estimator (defaults) at three noise levels:",
        "",
        "| system | noise | " + " | ".join(ESTIMATORS) + " |",
        "|---|---:|" + "---:|" * len(ESTIMATORS),
    ]
    for system in systems:
        for noise in (0.02, 0.1, 0.2):
            traj = load_system(system, noise=noise, seed=0)
            cells = [dxdt_rmse(with_derivatives(traj, m), traj.derivatives) for m in ESTIMATORS]
            lines.append(f"| {system} | {noise} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return lines + [""]


SUMMARY: dict[str, dict[str, dict]] = {}  # system -> source -> {"dxdt", "mlp", "oracle"}: filled by run_system


def run_system(system: str, data_seeds: tuple[int, ...], seeds: tuple[int, ...], args) -> list[str]:
    """One system's table: every dx/dt source x data seed x model seed; paired differences against 'finite'."""
    runs: dict[str, dict[tuple[int, int], dict[str, float]]] = {}  # source -> (data seed, seed) -> method -> rmse
    errs: dict[str, list[float]] = {}
    secs: dict[str, float] = {}
    for ds in data_seeds:
        base = load_system(system, noise=0.1, seed=ds)
        law = Law.reference(SYSTEMS[system].true_law, base.names).torch
        cfg = CompareConfig(
            seeds=seeds,
            baselines=("mlp",),
            train=TrainConfig.for_data(base, steps=args.steps),
            meta=MetaConfig.for_data(base, epochs=args.epochs),
        )
        for source in SOURCES:
            traj = with_derivatives(base, source)
            errs.setdefault(source, []).append(dxdt_rmse(traj, base.derivatives))
            folder = None if args.checkpoint is None else Path(args.checkpoint) / f"{system}-data{ds}" / source
            table = compare_methods(traj, {"oracle": law}, cfg, checkpoint=Checkpoint(folder)).table
            for row in table.itertuples():
                runs.setdefault(source, {}).setdefault((ds, row.seed), {})[row.method] = row.rmse
            # compute seconds from the runs' own timings (also right when they come from a checkpoint)
            timing = table.filter(like="s_").fillna(0.0)
            shared = timing["s_train"][table.method == "oracle"].sum()  # the oracle reuses its seed's MLP
            secs[source] = secs.get(source, 0.0) + float(timing.sum().sum() - shared)
            print(f"{system} data seed {ds} {source}: {table[['method', 'seed', 'rmse']].values.tolist()}", flush=True)
    base = load_system(system, noise=0.1, seed=data_seeds[0])
    lines = [
        f"## {system} (true law `{SYSTEMS[system].true_law}`, dt = {base.dt:.4f}, "
        f"{base.n_traj} x {base.n_steps} samples)",
        "",
        "| dx/dt source | dx/dt RMSE vs exact | MLP test RMSE | vs finite (paired) | oracle-tailored test RMSE "
        "| vs finite (paired) | compute s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    SUMMARY[system] = {}
    for source in SOURCES:
        keys = sorted(runs[source])
        row = {"dxdt": float(np.mean(errs[source]))}
        cells = []
        for method in ("mlp", "oracle"):
            vals = np.array([runs[source][k][method] for k in keys])
            diff = vals - np.array([runs["finite"][k][method] for k in keys])
            row[method] = (float(vals.mean()), sem(vals))
            cells += [
                f"{vals.mean():.4f} ± {sem(vals):.4f}",
                "-" if source == "finite" else f"{diff.mean():+.4f} ± {sem(diff):.4f}",
            ]
        SUMMARY[system][source] = row
        lines.append(f"| {source} | {row['dxdt']:.4f} | " + " | ".join(cells) + f" | {secs[source]:.0f} |")
    lines += [
        "",
        "Per-run test RMSE (data seed, model seed): "
        + " | ".join(
            f"{src}: "
            + ", ".join(
                f"({k[0]},{k[1]}) MLP {v['mlp']:.4f} oracle {v['oracle']:.4f}" for k, v in sorted(runs[src].items())
            )
            for src in SOURCES
        ),
        "",
    ]
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2, help="model seeds per data set")
    ap.add_argument("--data-seeds", default="0,1", help="noise draws of the HNN data (load_system seed)")
    ap.add_argument("--steps", type=int, default=2000, help="MLP training steps (full-batch Adam)")
    ap.add_argument("--epochs", type=int, default=30, help="oracle meta-tailoring epochs")
    ap.add_argument("--systems", default="spring,pendulum")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: far faster on a busy 2-core box)")
    ap.add_argument("--checkpoint", default=None, help="folder for finished runs, so a rerun resumes")
    ap.add_argument("--quick", action="store_true", help="200 steps, 5 epochs, 1 seed (smoke test)")
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.epochs, args.seeds, args.data_seeds = 200, 5, 1, "0"
    torch.set_num_threads(args.threads)
    systems = args.systems.split(",")
    seeds = tuple(range(args.seeds))
    data_seeds = tuple(int(v) for v in args.data_seeds.split(","))
    RESULTS.mkdir(parents=True, exist_ok=True)
    start_all = time.perf_counter()
    lines = [
        "# Derivative estimators for data without dx/dt: which default",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores ({cpu_model()}), shared with other jobs; "
        f"torch {torch.__version__} ({torch.get_num_threads()} thread), no GPU; "
        f"{datetime.date.today().isoformat()}.",
        "",
        f"Protocol: HNN data (noise 0.1, data seeds {list(data_seeds)}: independent draws of the initial states and "
        "the noise; the estimators see only the noisy states and their times). "
        "'exact' is the built-in systems' own dx/dt: the true vector field evaluated at the NOISE-FREE states "
        "(`HamiltonianSystem.trajectory`: `vector_field(clean)`), which is also the reference of the dx/dt "
        "error. Estimators at their defaults: finite = np.gradient (central, second order inside, first order "
        "at the ends: today's `Trajectories.finite_difference`); savgol = window 7, polyorder 2; spline = "
        "make_smoothing_spline with GCV, per column. "
        f"MLP 2 -> 200 -> 200 -> 2 trained {args.steps} full-batch Adam steps (lr 1e-3, weight decay 1e-4) on "
        f"(noisy state, dx/dt) pairs of the training split; oracle: that MLP meta-tailored with the true law for "
        f"{args.epochs} epochs (reduced from the paper's 100 to fit the time budget) with the default inner "
        "setting (Gauss-Newton, (rate, dt_scale) picked by long-term fit on the training trajectories), "
        "`compare_methods(..., CompareConfig(baselines=('mlp',)))`. Long-term RMSE on the test trajectories "
        "from the noise-free initial state (solve_ivp RK45, rtol = atol = 1e-9) against the noise-free "
        f"trajectory. Mean ± s.e. over data seeds x model seeds {list(seeds)} ({len(data_seeds) * len(seeds)} "
        "runs); 'vs finite (paired)': the mean ± s.e. of the run-by-run difference from finite differences on "
        "the same data and model seed (negative = better than finite). dx/dt RMSE: mean over data seeds. "
        "'compute s': the runs' own timings summed (training, meta-tailoring, selection, evaluation).",
        "",
    ]
    fig, axes = plt.subplots(2, len(systems), figsize=(5.5 * len(systems), 8), squeeze=False)
    for col, system in enumerate(systems):
        lines += run_system(system, data_seeds, seeds, args)
        _plot(axes[:, col], system, load_system(system, noise=0.1, seed=data_seeds[0]), SUMMARY[system])
    fig.tight_layout()
    fig.savefig(RESULTS / "derivatives.png", dpi=110)
    lines += ["![estimated dx/dt and long-term RMSE](derivatives.png)", ""]
    lines += side_tables(systems)
    resumed = " (runs already in --checkpoint were loaded, not recomputed)" if args.checkpoint else ""
    lines += [f"Total wall time of this invocation: {time.perf_counter() - start_all:.0f} s{resumed}.", ""]
    (RESULTS / "derivatives.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _plot(axes, system: str, base: Trajectories, rows: dict[str, dict]) -> None:
    """Top: dp/dt of one test trajectory, exact vs each estimator; bottom: long-term RMSE per dx/dt source."""
    i = base.n_traj - 1
    ax = axes[0]
    ax.plot(base.times[i], base.derivatives[i, :, 1], "k-", lw=2, label="exact")
    for m in ESTIMATORS:
        ax.plot(
            base.times[i], estimate_all(base.states[i : i + 1], base.times[i : i + 1], None, m)[0, :, 1], ".-", label=m
        )
    ax.set(title=f"{system}: dp/dt of one trajectory (noise 0.1)", xlabel="time", ylabel="dp/dt")
    ax.legend()
    ax = axes[1]
    x = np.arange(len(rows))
    for k, (label, key) in enumerate((("MLP", "mlp"), ("oracle-tailored", "oracle"))):
        means = [r[key][0] for r in rows.values()]
        errs = [r[key][1] for r in rows.values()]
        ax.bar(x + (k - 0.5) * 0.38, means, 0.38, yerr=errs, label=label, capsize=3)
    ax.set_xticks(x, list(rows))
    ax.set(title=f"{system}: long-term test RMSE by dx/dt source", ylabel="RMSE")
    ax.legend()


if __name__ == "__main__":
    main()
