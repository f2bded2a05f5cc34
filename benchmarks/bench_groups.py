"""Group data: each trajectory's rows shuffled and its time column dropped -- sets of states known to share the
invariants -- against the same data in time order, through the filter (the discovery stages).

    python benchmarks/bench_groups.py [--systems pendulum,spring] [--noise 0.1]

Three runs per system: time-ordered; groups with the measurement noise given (``noise_std``: HNN adds noise of
std ``--noise`` to every state); groups without it (the ratio rule alone). Writes benchmarks/results/groups.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import noether
from noether.discovery import FilterConfig, filter_candidates
from noether.dsl import space_for

RESULTS = Path(__file__).parent / "results"


def as_groups(traj, seed: int = 0):
    """Each trajectory's samples in a random order, marked as having no time order."""
    rng = np.random.default_rng(seed)
    perm = np.stack([rng.permutation(traj.n_steps) for _ in range(traj.n_traj)])
    shuffled = np.take_along_axis(traj.states, perm[..., None], axis=1)
    return dataclasses.replace(
        traj, states=shuffled, derivatives=None, clean=None, ordered=False, name=f"{traj.name} (groups)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--systems", default="pendulum,spring")
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--out", default="groups.md", help="Results file under benchmarks/results/.")
    args = ap.parse_args()
    target = RESULTS / args.out
    lines = [
        "# Group data (no time order) against trajectories: the filter's laws",
        "",
        f"Command: `python benchmarks/bench_groups.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, no GPU; "
        f"{time.strftime('%Y-%m-%d')}; other jobs shared the machine.",
        "",
        "Protocol: the built-in system at HNN's noise, depth 7, default filter. 'groups' shuffles every "
        "trajectory's samples and drops time (`ordered=False`), as a file with a group column and no time "
        "column loads. With `noise_std` the noise-aware rule takes its floor from the given measurement noise "
        "propagated through each law's gradient; without it only the ratio rule (>= 100) can accept.",
        "",
        "| system | data | accepted | independent laws | seconds |",
        "|---|---|---:|---|---:|",
    ]
    for name in args.systems.split(","):
        traj = noether.load_system(name, noise=args.noise)
        space = space_for(traj, depth=7)
        groups = as_groups(traj)
        noise = {n: args.noise for n in traj.names}
        found = {}
        for label, data, config in (
            ("time-ordered", traj, FilterConfig()),
            ("groups, noise_std given", groups, FilterConfig(noise_std=noise)),
            ("groups, no noise_std", groups, FilterConfig()),
        ):
            start = time.perf_counter()
            res = filter_candidates(space, data, config)
            laws = [law.display() for law in res.independent]
            found[label] = (list(res.accepted_indices), laws)
            lines.append(
                f"| {name} | {label} | {res.n_accepted} | {'; '.join(f'`{x}`' for x in laws) or 'none'} | "
                f"{time.perf_counter() - start:.0f} |"
            )
            RESULTS.mkdir(exist_ok=True)
            target.write_text("\n".join(lines) + "\n")
        same = found["groups, noise_std given"] == found["time-ordered"]
        lines.append(
            f"| {name} | groups with noise_std vs time-ordered | | "
            f"{'the same accepted candidates and laws' if same else 'DIFFERENT'} | |"
        )
        target.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
