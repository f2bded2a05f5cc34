"""Tables 1-2 and Figure 2 of the paper with our protocol: the whole `discover` pipeline on pendulum, spring and
real-pendulum, with the paper's numbers beside ours and the time of every stage.

    python benchmarks/bench_pipeline.py [--systems pendulum,spring,real-pendulum] [--inner-step newton]
        [--dt-scales 0.01,0.1] [--seeds 0,1,2]

Writes benchmarks/results/pipeline.md and pipeline_<system>_mse_horizon.png (+ each run's files under
runs/bench_pipeline/<system>/).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

import noether
from noether.pipeline import TailorConfig
from noether.systems import paper_facts
from noether.tailoring import InnerSetting

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--systems", default="pendulum,spring,real-pendulum")
    ap.add_argument("--inner-step", default="newton", choices=["newton", "sgd"])
    ap.add_argument("--dt-scales", default="0.01,0.1")
    ap.add_argument("--seeds", default="0,1,2")
    args = ap.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    scales = tuple(float(s) for s in args.dt_scales.split(","))
    lines = [
        "# The discover pipeline on the paper's systems (Tables 1-2, Figure 2)",
        "",
        f"Command: `python benchmarks/bench_pipeline.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), no GPU."
        if not torch.cuda.is_available()
        else f"Machine: {platform.platform()}, GPU {torch.cuda.get_device_name()}",
        "",
        f"Protocol: depth 7, default filter; inner step '{args.inner_step}' on all weights (the paper: 'sgd'); "
        f"screen of every survivor x the inner-rate grid x inner-loss steps dt_scale in {list(scales)} x the "
        f"data's dt (the paper: 1); top 20 meta-tailored for 100 epochs; in the comparison every law's "
        f"(rate, dt_scale) is picked per seed by meta-tailoring the whole grid and keeping the best long-term "
        f"fit on the TRAINING trajectories; test RMSE mean ± s.e. over seeds {list(seeds)}.",
        "",
    ]
    summary = [
        "| system | discovered law | paper's law | MLP | Noether | oracle | hand-coded | HNN | total s |",
        "|---|---|---|---|---|---|---|---|---:|",
    ]
    details = []
    for name in args.systems.split(","):
        traj = noether.load_system(name)
        config = noether.DiscoverConfig(
            tailor=TailorConfig(eval_seeds=seeds, inner=InnerSetting(kind=args.inner_step, dt_scales=scales))
        )
        start = time.perf_counter()
        result = noether.discover(traj, config)
        total = time.perf_counter() - start
        out = Path("runs/bench_pipeline") / name
        result.write(out, command=f"bench_pipeline {name}")
        if (out / "mse_horizon.png").exists():
            shutil.copy(out / "mse_horizon.png", RESULTS / f"pipeline_{name}_mse_horizon.png")
        rmse = {}
        if result.evaluation is not None:
            for _, row in result.evaluation.summary.iterrows():
                rmse[row["method"]] = f"{row['rmse_mean']:.4f} ± {row['rmse_sem']:.4f}"
        paper = paper_facts(name).rmse

        def cell(method):
            ours = rmse.get(method, "")
            return ours + (f" (paper {paper[method]:.4f})" if method in paper else "")

        law = result.law
        summary.append(
            f"| {name} | `{law.expression if law else 'none'}` | `{paper_facts(name).law or ''}` | "
            f"{cell('mlp')} | {cell('noether')} | {cell('oracle')} | {rmse.get('hand-coded', '')} | "
            f"{rmse.get('hnn', '')} | {total:.0f} |"
        )
        timing = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
        details += [
            f"### {name}",
            "",
            f"Stages: {timing}; accepted by the filter: {result.filter.n_accepted if result.filter else 0}.",
            "",
            *(
                f"{r.rank}. `{r.law.expression}` (S_random/S_true {r.scores.get('ratio', float('nan')):.3g}, "
                f"inner lr {r.scores.get('screen_inner_lr', float('nan')):.3g}, train error "
                f"{r.scores.get('train_error', float('nan')):.4g})"
                for r in result.laws()[:5]
            ),
            "",
            "Inner setting each law got per seed (chosen on the training trajectories) and its test RMSE:",
            "",
            "| method | seed | inner rate | dt_scale | test RMSE |",
            "|---|---|---|---|---|",
            *(
                f"| {r.method} | {r.seed} | {r.lr:.3g} | {r.dt_scale:g} | {r.rmse:.4f} |"
                for r in (result.evaluation.runs if result.evaluation is not None else [])
                if r.lr is not None
            ),
            "",
            f"![{name}](pipeline_{name}_mse_horizon.png)",
            "",
        ]
        print(f"{name}: done in {total:.0f} s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    text = "\n".join(lines + summary + ["", "## Per system", ""] + details) + "\n"
    (RESULTS / "pipeline.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
