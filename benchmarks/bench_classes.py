"""Functional classes on the built-in systems: the filter stage's accepted forms, its classes, the independent and
approximate laws (with their forms counted), and the time of the filter and of its survivors step (classes +
independence), beside the same run of a baseline tree (one fresh process per run, one after the other).

    python benchmarks/bench_classes.py [--runs pendulum:7,spring:7,oscillator-2d:7] [--baseline-tree PATH]

PATH: a checkout of the baseline commit (e.g. ``git archive REV | tar -x -C PATH``), whose ``noether`` package
the baseline runs import. Writes benchmarks/results/classes.md (+ .json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
DEFAULT_RUNS = "pendulum:7,spring:7,oscillator-2d:7"


def worker(system: str, depth: int) -> dict:
    """One enumerate + filter stage (run in a fresh process); a tree without classes reports none."""
    import noether
    from noether.pipeline import DiscoverConfig, discover
    from noether.systems import load_system

    res = discover(load_system(system), DiscoverConfig(depth=depth, stage="filter", cache_dir=None))
    f = res.filter
    reps = list(getattr(f, "representatives", []))

    def shown(indices) -> list[str]:
        return [
            str(f.space.law(int(i), f.params[i]).display())
            + (f" ({f.forms(int(i))} forms)" if reps and f.forms(int(i)) > 1 else "")
            for i in indices
        ]

    return {
        "tree": str(Path(noether.__file__).parent.parent),
        "system": system,
        "depth": depth,
        "filter": res.timings["filter"],
        "step": f.timings["independence"],
        "accepted": f.n_accepted,
        "conserved": f.n_conserved,
        "classes": len(reps) or None,
        "independent": shown(f.independent_indices),
        "approximate": shown(f.approximate_indices),
        "accepted_forms": sorted(f.table.formula[f.table.accepted]),
        "load": os.getloadavg(),
    }


def run_worker(system: str, depth: int, tree: str | None) -> dict:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, __file__, "--worker", system, str(depth)], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", default=DEFAULT_RUNS, help="system:depth, comma-separated")
    ap.add_argument("--baseline-tree", default=None, help="a checkout of the baseline to run beside this tree")
    ap.add_argument("--worker", nargs=2, metavar=("SYSTEM", "DEPTH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    rows = []
    for run in args.runs.split(","):
        system, depth = run.split(":")[0], int(run.split(":")[1])
        start = time.perf_counter()
        base = run_worker(system, depth, args.baseline_tree) if args.baseline_tree else None
        new = run_worker(system, depth, None)
        rows.append({"new": new, "baseline": base})
        print(system, depth, f"{time.perf_counter() - start:.0f} s", flush=True)
    write(rows)


def write(rows: list[dict]) -> None:
    lines = [
        "# Functional classes of the accepted laws",
        "",
        f"Command: `python benchmarks/bench_classes.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores (shared with other jobs: load average "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())} at the end), no GPU, Python "
        f"{platform.python_version()}",
        "",
        "Each system's built-in training data, `discover(stage='filter')` with the default configuration, in a "
        "fresh process, the baseline tree's first. *step*: the filter's survivors step (before: the "
        "independence of the top 50 forms; after: every accepted form grouped into classes, then the "
        "independence of the top 50 classes); *same accepted*: the accepted formulas are identical.",
        "",
    ]
    for row in rows:
        n, b = row["new"], row["baseline"]
        lines += [f"## {n['system']}, depth {n['depth']}", "", "| | before | after |", "|---|---|---|"]

        def get(key: str, b=b):
            return b[key] if b else "-"

        lines += [
            f"| accepted (conserved) | {get('accepted')} ({get('conserved')}) | {n['accepted']} ({n['conserved']}) |",
            f"| functional classes | {get('classes') or '-'} | {n['classes']} |",
            f"| independent conserved laws | {_laws(get('independent'))} | {_laws(n['independent'])} |",
            f"| approximate laws, one per class | {_laws(get('approximate'))} | {_laws(n['approximate'])} |",
            f"| filter s | {_s(get('filter'))} | {_s(n['filter'])} |",
            f"| survivors step s | {_s(get('step'))} | {_s(n['step'])} |",
        ]
        if b:
            lines.append(f"| same accepted | | {'yes' if b['accepted_forms'] == n['accepted_forms'] else '**no**'} |")
        lines.append("")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "classes.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "classes.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


def _laws(laws) -> str:
    return "; ".join(f"`{e}`" for e in laws) if isinstance(laws, list) and laws else "-" if laws == "-" else "none"


def _s(v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else "-"


if __name__ == "__main__":
    main()
