"""Tables 1-2 of the paper as the paper ran them, with the uncertainty that matters: the whole `discover` pipeline
on the ideal spring and pendulum under both data protocols, over data seeds AND training seeds.

    python -m benchmarks.bench_tables [run|report|all] [--data-seeds 0,1,2,3,4] [--systems pendulum,spring]

'run' computes the missing cells (start it in several processes to share them out: each claims a cell with a
lock file), 'report' writes benchmarks/results/tables_1_2.md and tables_1_2.png from the cells there are, 'all'
(the default, as `make bench` runs it) does both.

Grid: system in {pendulum, spring} x protocol in {paper, hnn} (``noether.systems.protocol``: 'paper' = noise-free
ODE data as App. C says, 'hnn' = HNN's sigma = 0.1) x data seed 0-4 (the data draw: initial states, and the noise
under 'hnn') x training seed 0-2 (the MLP's and HNN's initialisation and batches, meta-tailoring; the pipeline's
``eval_seeds``). Everything else is `noether discover`'s default (depth 7, pipeline seed 0), so the law each cell
tailors with is the one the pipeline discovers on that data draw. One cell = one (system, protocol, data seed):
one `discover` run whose evaluation covers the three training seeds; its figures are checkpointed to
``benchmarks/results/tables_1_2/cells/<system>_<protocol>_d<seed>.json`` as soon as it finishes (a stopped run
resumes at the first missing cell; the stage cache under runs/bench_tables/cache resumes a cell's stages).

Endpoint, fixed before the runs:
- RMSE: the pipeline's long-term test RMSE (pooled over the 25 test trajectories, against the noise-free states),
  reported as mean ± s.e. over the whole grid (15 runs: each (data seed, training seed)) and over data seeds
  (5 values: each data seed's mean over training seeds); beside it the median over test trajectories of each
  trajectory's own RMSE (pooled RMSE is dominated by the few trajectories nearest the pendulum's separatrix).
- Ratios: Noether/MLP and oracle/MLP, one per data seed = (mean RMSE over training seeds of the law) / (same of
  the MLP). Interval: 95% t interval over the 5 data seeds of the per-data-seed log-ratio, exponentiated (a
  geometric-mean ratio and its interval).
- Verdict per ratio, against the paper's ratio R_paper (Table 1: 0.0423/0.0563 = 0.75 pendulum; Table 2:
  0.0165/0.0174 = 0.95 spring; oracle 0.75 and 0.95): "better than the paper" when the whole interval lies below
  R_paper, "short of the paper" when it lies above, else "as the paper (interval covers it)"; and, separately,
  whether tailoring helps at all: the interval below 1.
"As the paper" means the paper's data protocol (noise-free) with this pipeline's methods; the paper reports one
number per method with no stated number of runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

import noether
from noether.pipeline import TailorConfig
from noether.systems.protocol import PROTOCOLS

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "tables_1_2" / "cells"
CACHE = Path("runs/bench_tables/cache")
SYSTEMS = ("pendulum", "spring")
TRAINING_SEEDS = (0, 1, 2)
BASELINES = TailorConfig.baselines


def cell_name(system: str, protocol: str, data_seed: int) -> str:
    return f"{system}_{protocol}_d{data_seed}"


def run_cell(system: str, protocol: str, data_seed: int, baselines: tuple[str, ...] = BASELINES) -> dict:
    """One `discover` run on one data draw; its evaluation's figures per (method, training seed) as plain data.
    baselines: 'mlp' and, unless left out to save time, 'hnn' (no ratio needs it)."""
    traj = noether.load_system(system, protocol=protocol, seed=data_seed)
    tailor = TailorConfig(eval_seeds=TRAINING_SEEDS, baselines=baselines)
    config = noether.DiscoverConfig(tailor=tailor, cache_dir=str(CACHE))
    load = os.getloadavg()
    start = time.perf_counter()
    result = noether.discover(traj, config)
    seconds = time.perf_counter() - start
    ev = result.evaluation
    runs = []
    for r in ev.runs if ev is not None else []:
        runs.append(
            {
                "method": r.method,
                "seed": r.seed,
                "rmse": r.rmse,
                "traj_rmse": [float(v) for v in r.traj_rmse],
                "diverged": r.diverged,
                "lr": r.lr,
                "dt_scale": r.dt_scale,
            }
        )
    law = result.law
    return {
        "system": system,
        "protocol": protocol,
        "noise": PROTOCOLS[protocol].noise,
        "data_seed": data_seed,
        "training_seeds": list(TRAINING_SEEDS),
        "baselines": list(baselines),
        "law": None if law is None else str(law.display()),
        "n_accepted": None if result.filter is None else result.filter.n_accepted,
        "runs": runs,
        "timings_s": result.timings,
        "cached_stages": list(result.cached),
        "seconds": seconds,
        "loadavg_start": load,
        "loadavg_end": os.getloadavg(),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), no GPU",
    }


def claim(name: str) -> bool:
    """Take cell ``name`` for this worker (an exclusive lock file), False when done or taken by another live
    process (the lock of a stopped one is taken over)."""
    if (CELLS / f"{name}.json").exists():
        return False
    lock = CELLS / f"{name}.lock"
    if lock.exists() and not _alive(int(lock.read_text() or 0)):
        lock.unlink(missing_ok=True)
    try:
        fd = os.open(CELLS / f"{name}.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return pid > 0


def run(systems: tuple[str, ...], data_seeds: tuple[int, ...], baselines: tuple[str, ...] = BASELINES) -> None:
    """Run every missing cell in data-seed order (so a stopped grid is balanced over systems and protocols)."""
    CELLS.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    for seed in data_seeds:
        for system in systems:
            for protocol in ("paper", "hnn"):
                name = cell_name(system, protocol, seed)
                if not claim(name):
                    continue
                try:
                    cell = run_cell(system, protocol, seed, baselines)
                    tmp = CELLS / f"{name}.json.tmp"
                    tmp.write_text(json.dumps(cell, indent=1))
                    tmp.replace(CELLS / f"{name}.json")
                    print(f"{name}: {cell['seconds']:.0f} s, law {cell['law']}", flush=True)
                finally:
                    (CELLS / f"{name}.lock").unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="all", choices=["run", "report", "all"])
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--data-seeds", default="0,1,2,3,4")
    ap.add_argument("--baselines", default=",".join(BASELINES), help="'mlp,hnn', or 'mlp' to save HNN's training")
    args = ap.parse_args()
    systems = tuple(args.systems.split(","))
    seeds = tuple(int(s) for s in args.data_seeds.split(","))
    if args.what in ("run", "all"):
        run(systems, seeds, tuple(args.baselines.split(",")))
    if args.what in ("report", "all"):
        from benchmarks.tables_report import write_tables

        write_tables(CELLS, RESULTS, systems, seeds)


if __name__ == "__main__":
    main()
