"""DSL speed and size: enumerate + deduplicate the depth-7 spaces, and evaluate every pendulum candidate once.

    .venv/bin/python benchmarks/bench_dsl.py [--repeats 3] [--states 10000] [--threads 2]

Writes benchmarks/results/dsl.md: counts after each pruning step for pendulum and spring beside the paper's,
the time of enumerate + dedup (best of --repeats) and of one batched evaluation of all pendulum candidates on
--states random states (float64 and float32; compile time separately). Targets on 2 CPU cores: enumerate +
dedup < 5 s, evaluation < 2 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

from noether.dsl import enumerate_space
from noether.systems import paper_facts

RESULTS = Path(__file__).parent / "results"
SYSTEMS = {"pendulum": (("q", "p"), ("rad", "kg*m**2/s")), "spring": (("q", "p"), ("m", "kg*m/s"))}


def best_of(repeats: int, fn):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--states", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    spaces, enum_time = {}, {}
    for name, (names, units) in SYSTEMS.items():
        enum_time[name], spaces[name] = best_of(args.repeats, lambda: enumerate_space(names, units, depth=7))

    space = spaces["pendulum"]
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(args.states, 2, generator=gen, dtype=torch.float64)
    C = torch.randn(len(space), space.max_params, generator=gen, dtype=torch.float64)
    t = time.perf_counter()
    space.evaluate(X[:8], C)  # compiles the program (once per space)
    compile_time = time.perf_counter() - t
    eval_time = {}
    with torch.no_grad():
        for dtype in (torch.float64, torch.float32):
            eval_time[dtype], ev = best_of(args.repeats, lambda: space.evaluate(X.to(dtype), C.to(dtype)))
            eval_time[(dtype, "finite")] = int(ev.finite.sum())
            del ev

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# DSL: formula space and speed",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`  ",
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, os.cpu_count()="
        f"{os.cpu_count()}, torch {torch.__version__} with {torch.get_num_threads()} threads; "
        f"1-min load average at the end: {load:.1f} (other jobs were sharing the cores).  ",
        "With the cores oversubscribed, torch's OpenMP parallel regions wait for descheduled threads and "
        "2 threads ran 5-20x slower than 1 (e.g. 28 s vs 4.5 s for float64 at load 8.5), so these figures "
        "use --threads as given; on an idle machine expect them to be lower.",
        "",
        "## Counts after each pruning step (depth 7, at most 2 parameters)",
        "",
        "| after step | pendulum | spring |",
        "|---|---:|---:|",
    ]
    for (step, tp, _), (_, ts, _) in zip(spaces["pendulum"].report.steps, spaces["spring"].report.steps):
        lines.append(f"| {step} | {tp:,} | {ts:,} |")
    lines.append(
        f"| *paper (units + commutativity)* | *{paper_facts('pendulum').dsl_count:,}* | "
        f"*{paper_facts('spring').dsl_count:,}* |"
    )
    lines += [
        "",
        "## Speed",
        "",
        "| what | time | target |",
        "|---|---:|---:|",
    ]
    for name in SYSTEMS:
        lines.append(
            f"| enumerate + dedup, {name} depth 7 ({len(spaces[name]):,} candidates), best of "
            f"{args.repeats} | {enum_time[name]:.2f} s | < 5 s |"
        )
    lines.append(f"| compile the pendulum evaluator (once per space) | {compile_time:.2f} s | |")
    for dtype in (torch.float64, torch.float32):
        lines.append(
            f"| evaluate all {len(space):,} pendulum candidates on {args.states:,} states, "
            f"{str(dtype).replace('torch.', '')} ({eval_time[(dtype, 'finite')]:,} finite) | "
            f"{eval_time[dtype]:.2f} s | < 2 s |"
        )
    phases = spaces["pendulum"].report.seconds
    lines += ["", "Pendulum phases (last run): " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()), ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dsl.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
