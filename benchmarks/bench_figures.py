"""How long the report's figures take: the filter's figure and one per top law (up to 20), on the filter's output
of an 8-state system (two-body) and of a 2-state one (pendulum, with level sets), against writing the same run
without figures (candidates.csv, laws.json, report.md) in the same process.

    python benchmarks/bench_figures.py [--systems two-body:5,pendulum:7] [--repeats 3]

(each system with the depth of its filter run).

Writes benchmarks/results/figures.md and, as samples, figures_<system>_filter.png and figures_<system>_law_01.png.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

import noether
from noether.pipeline import DiscoverConfig
from noether.pipeline.figures import FOLDER
from noether.pipeline.report import TOP_LAWS

RESULTS = Path(__file__).parent / "results"


def seconds(fn, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (this process) of each of ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--systems", default="two-body:5,pendulum:7", help="NAME:DEPTH,...")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()
    lines = [
        "# Figures: the time to write them",
        "",
        f"Command: `python benchmarks/bench_figures.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), no GPU; load average at the start {load[0]:.1f} (other work "
        "shared the cores).",
        "",
        "Each run: the filter stage at the depth given (default settings), then `result.write(out)` with "
        f"and without figures, {args.repeats} times each (min and max shown). Figures: the filter at a glance "
        f"and one PNG per top law, up to {TOP_LAWS}.",
        "",
        "| system | depth | states | candidates | laws | figures | write without figures s | with figures s | "
        "figures alone s | per figure s | figures alone, CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for item in args.systems.split(","):
        name, depth = item.split(":")
        traj = noether.load_system(name)
        result = noether.discover(traj, DiscoverConfig(depth=int(depth), stage="filter"))
        result.laws()  # ranking computed once, outside the timings (both writes share it)
        with tempfile.TemporaryDirectory() as tmp:
            bare, bare_cpu = seconds(lambda: result.write(Path(tmp) / "bare", figures=False), args.repeats)
            full, full_cpu = seconds(lambda: result.write(Path(tmp) / "full"), args.repeats)
            n_figures = len(list((Path(tmp) / "full" / FOLDER).glob("*.png")))
            slug = name.replace("-", "_")
            for png in ("filter", "law_01"):
                if (Path(tmp) / "full" / FOLDER / f"{png}.png").exists():
                    shutil.copy(Path(tmp) / "full" / FOLDER / f"{png}.png", RESULTS / f"figures_{slug}_{png}.png")
        extra = [f - b for f, b in zip(sorted(full), sorted(bare))]
        extra_cpu = [f - b for f, b in zip(sorted(full_cpu), sorted(bare_cpu))]
        lines.append(
            f"| {name} | {depth} | {traj.dim} | {len(result.space):,} | {len(result.laws())} | {n_figures} | "
            f"{min(bare):.2f}-{max(bare):.2f} | {min(full):.2f}-{max(full):.2f} | "
            f"{min(extra):.2f}-{max(extra):.2f} | {min(extra) / n_figures:.2f} | "
            f"{min(extra_cpu):.2f}-{max(extra_cpu):.2f} |"
        )
        print(lines[-1], flush=True)
    load = os.getloadavg()
    lines += [
        "",
        "Figures alone: with figures minus without, the fastest against the fastest (and the slowest "
        "against the slowest); CPU: the same in this process's CPU seconds, which other work on the machine "
        f"inflates less than wall-clock time (load average at the end {load[0]:.1f}). Sample figures: "
        "`figures_<system>_filter.png`, `figures_<system>_law_01.png`.",
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "figures.md").write_text("\n".join(lines))
    print(f"wrote {RESULTS / 'figures.md'}")


if __name__ == "__main__":
    main()
