"""The filter on many inputs: the formula space's size, the filter's time by stage and its accepted laws, on the
built-in systems of 2-8 states, each beside the same run on a baseline commit (ratios from one session, since
these machines are noisy).

    python benchmarks/bench_filter.py [--runs oscillator-2d:7,kepler:7,two-body:5] [--baseline REV]

Each run is a fresh process (``--worker``), first the baseline's (its ``noether`` package from a git worktree of
REV), then this tree's, one after the other. Writes benchmarks/results/filter.md (+ .json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUNS = "pendulum:7,oscillator-2d:7,kepler:7,rigid-body:7,two-body:5"


def worker(system: str, depth: int) -> dict:
    """One enumerate + filter, timed by stage (run in a fresh process)."""
    import hashlib

    from noether import load_system
    from noether.discovery import FilterConfig, filter_candidates
    from noether.dsl import space_for

    traj = load_system(system)
    start = time.perf_counter()
    space = space_for(traj, depth=depth)
    enumerate_s = time.perf_counter() - start
    start = time.perf_counter()
    res = filter_candidates(space, traj, FilterConfig())
    filter_s = time.perf_counter() - start
    table = res.table
    accepted = sorted(table.formula[table.accepted])
    return {
        "system": system,
        "depth": depth,
        "inputs": traj.dim,
        "candidates": len(space),
        "nonlinear": int((~table.linear).sum()),
        "enumerate": enumerate_s,
        "filter": filter_s,
        "timings": res.timings,
        "accepted": len(accepted),
        "accepted_hash": hashlib.sha256("\n".join(accepted).encode()).hexdigest()[:12],
        "independent": [law.expression for law in res.independent],
        "cpu": os.times().user + os.times().system,
    }


def run_worker(system: str, depth: int, pythonpath: str | None) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, __file__, "--worker", system, str(depth)], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", default=DEFAULT_RUNS, help="system:depth, comma-separated")
    ap.add_argument("--baseline", default=None, help="a git revision to time beside this tree")
    ap.add_argument("--name", default="filter", help="results file stem (benchmarks/results/NAME.md)")
    ap.add_argument("--worker", nargs=2, metavar=("SYSTEM", "DEPTH"), help=argparse.SUPPRESS)
    ap.add_argument("--sizes", action="store_true", help="only write the space sizes (results/space_sizes.md)")
    args = ap.parse_args()
    if args.sizes:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "space_sizes.md").write_text("\n".join(["# Formula space sizes", "", *space_sizes()[2:]]) + "\n")
        print((RESULTS / "space_sizes.md").read_text())
        return
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    runs = [(r.split(":")[0], int(r.split(":")[1])) for r in args.runs.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = None
        if args.baseline:
            base_tree = str(Path(tmp) / "baseline")
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", base_tree, args.baseline],
                check=True,
                capture_output=True,
            )
        try:
            for system, depth in runs:
                base = run_worker(system, depth, base_tree) if base_tree else None
                new = run_worker(system, depth, None)
                rows.append({"new": new, "baseline": base})
                print(
                    system,
                    depth,
                    f"{new['filter']:.1f} s",
                    f"baseline {base['filter']:.1f} s" if base else "",
                    flush=True,
                )
        finally:
            if base_tree:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", base_tree], capture_output=True
                )
    write(rows, args)


def space_sizes() -> list[str]:
    """The formula space before deduplication by input count and depth (``dsl.estimate.estimate_space``, units
    ignored: an upper bound; unit typing and deduplication cut it further, e.g. 4 dimensionless inputs at depth 7:
    399,549 built, 177,213 kept)."""
    from noether.dsl.estimate import estimate_space

    depths = (3, 4, 5, 6, 7, 8)
    out = [
        "## The space by input count and depth",
        "",
        "Formulas built before deduplication, dimensionless inputs, 2 parameters at most (unit-free upper bound "
        "from `noether.dsl.estimate.estimate_space`; deduplication keeps about 40-45% at depth 7, and unit typing "
        "less again). Command: `python benchmarks/bench_filter.py --sizes`.",
        "",
        "| inputs | " + " | ".join(f"depth {d}" for d in depths) + " |",
        "|---:|" + "---:|" * len(depths),
    ]
    for n in (2, 3, 4, 5, 6, 7, 8):
        out.append(f"| {n} | " + " | ".join(f"{estimate_space(n, d).n_formulas:,}" for d in depths) + " |")
    return out


def write(rows: list[dict], args) -> None:
    lines = [
        "# The filter on many inputs",
        "",
        f"Command: `python benchmarks/bench_filter.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}; "
        f"load average at the end {', '.join(f'{v:.1f}' for v in os.getloadavg())}",
        "",
        "Each system's built-in training data (default noise), `space_for(traj, depth)` then `filter_candidates` with "
        "the default FilterConfig, in a fresh process. *exact*: the affine candidates' generalised-eigen fits; "
        "*gradient*: the others' Newton fits (true and random sequences); *rest*: acceptance, drift test, "
        "independence.",
        "",
    ]
    if args.baseline:
        lines += [
            f"Baseline: commit `{args.baseline}`, the same command on the same machine, run just before each "
            "row. *same laws*: the accepted formulas are identical (hash of the sorted list).",
            "",
        ]
    head = (
        "| system | inputs | depth | candidates (non-affine) | enumerate s | exact s | gradient s | rest s | filter s |"
    )
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if args.baseline:
        head += " baseline filter s | speed-up | same laws |"
        sep += "---:|---:|---|"
    lines += [head + " accepted | independent laws |", sep + "---:|---|"]
    for row in rows:
        n, b = row["new"], row["baseline"]
        t = n["timings"]
        rest = t.get("accept", 0) + t.get("drift", 0) + t.get("independence", 0)
        line = (
            f"| {n['system']} | {n['inputs']} | {n['depth']} | {n['candidates']:,} ({n['nonlinear']:,}) | "
            f"{n['enumerate']:.1f} | {t['exact']:.1f} | {t['gradient']:.1f} | {rest:.1f} | **{n['filter']:.1f}** |"
        )
        if b:
            same = "yes" if b["accepted_hash"] == n["accepted_hash"] else f"**no** ({b['accepted']} before)"
            line += f" {b['filter']:.1f} | {b['filter'] / n['filter']:.2f}x | {same} |"
        laws = "; ".join(f"`{e}`" for e in n["independent"]) or "-"
        lines.append(line + f" {n['accepted']} | {laws} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{args.name}.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
