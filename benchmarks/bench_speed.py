"""Speed of the long-term evaluation and of the thread policy, each as a ratio against the old path measured in
the same run (these machines are noisy).

    python benchmarks/bench_speed.py [--seeds 0,1,2] [--pipeline]

1. Evaluation solves (pendulum, every method x seed of the comparison, fitted once): the old path (each model
   solved alone by scipy's solve_ivp, as before the batched solve) against one batched torchode solve, and
   scipy on the same batch; the largest RMSE difference.
2. Where the evaluate stage's time goes (train, meta-tailor, pick, solve) -- what the solve's speed-up can buy.
3. Under load: a training step, a tailored field call and a meta-tailoring epoch, idle and with 2 busy
   processes on the cores, with the old thread setup (torch imported before noether: OpenMP's default wait
   policy) and the new one (OMP_WAIT_POLICY=PASSIVE, set by ``import noether``).
4. ``--pipeline``: ``noether discover --system pendulum`` idle and under the same load.

Writes benchmarks/results/speed.md.
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
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import os, sys, time, json
if sys.argv[1] == "old":
    import torch  # before noether: OpenMP keeps its default wait policy
import noether, torch
from noether.tailoring.mlp import MLP, params_of
from noether.tailoring.evaluate import tailored_field
from noether.tailoring.meta import MetaConfig, meta_tailor
torch.set_num_threads(int(sys.argv[2]))
traj = noether.load_system("pendulum")
m = MLP.seeded(0, 2, 200); x = torch.randn(1125, 2); y = torch.randn(1125, 2)
opt = torch.optim.Adam(m.parameters(), 1e-3, weight_decay=1e-4)
def step():
    opt.zero_grad(); (m(x) - y).square().mean().backward(); opt.step()
law = lambda X: X[..., 1] ** 2 - 3 * torch.cos(X[..., 0])
field = tailored_field(params_of(m), law, 0.5, 0.01)
q = torch.randn(1, 25, 2, dtype=torch.float64)
def timeit(fn, n):
    fn(); t = time.perf_counter()
    for _ in range(n): fn()
    return (time.perf_counter() - t) / n * 1e3
out = {"train step": timeit(step, 40), "field call": timeit(lambda: field(q), 200)}
cfg = MetaConfig(epochs=5, select=False)
t = time.perf_counter(); meta_tailor(params_of(m), traj, law, [0.5] * 8, cfg)
out["meta epoch"] = (time.perf_counter() - t) / 5 * 1e3
print(json.dumps(out))
"""


def machine() -> str:
    import torch

    return (
        f"{platform.platform()}, {os.cpu_count()} CPU cores ({platform.processor() or 'unknown CPU'}), "
        f"torch {torch.__version__}, no GPU"
    )


@contextmanager
def busy(n: int):
    """n processes spinning on the CPU for the duration of the block."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def probe(setup: str, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | {"NOETHER_PROGRESS": "0"}
    run = subprocess.run(
        [sys.executable, "-c", PROBE, setup, str(threads)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def solves(seeds: tuple[int, ...]) -> tuple[list[str], dict]:
    import numpy as np
    import torch

    import noether
    from noether.dsl.law import Law
    from noether.tailoring.checkpoint import Checkpoint
    from noether.tailoring.compare import CompareConfig, _evaluate, compare_methods
    from noether.tailoring.evaluate import long_term, mlp_field, module_field, tailored_field
    from noether.tailoring.integrate import IntegratorConfig

    traj = noether.load_system("pendulum")
    _, test = traj.split()
    laws = {
        "noether": Law.reference("p**2 - 2.99*cos(q)", traj.names).torch,
        "oracle": Law.reference("p**2 + 3*(1 - cos(q))", traj.names).torch,
    }
    with tempfile.TemporaryDirectory() as tmp:
        box = Checkpoint(tmp)
        start = time.perf_counter()
        res = compare_methods(traj, laws, CompareConfig(seeds=seeds), checkpoint=box)
        stage_seconds = time.perf_counter() - start
        fitted = [box.get(f"seed{r.seed}-{r.method}") for r in res.runs]
    table = res.table
    scipy, torch_cfg = IntegratorConfig(backend="scipy"), IntegratorConfig(backend="torch")

    def field_of(f):
        if f.kind == "mlp":
            return mlp_field(f.weights)
        if f.kind == "hnn":
            return module_field(f.weights)
        return tailored_field(f.weights, laws[f.method], f.lr, f.dt, f.setting)

    torch.set_num_threads(torch.get_num_threads())
    start = time.perf_counter()
    old = [float(long_term(field_of(f), test, config=scipy).rmse[0]) for f in fitted]
    t_old = time.perf_counter() - start
    timings, rmses = {}, {}
    for name, cfg in (("batched scipy", scipy), ("batched torch", torch_cfg)):
        start = time.perf_counter()
        runs, _ = _evaluate(fitted, test, laws, cfg)
        timings[name] = time.perf_counter() - start
        rmses[name] = [r.rmse for r in runs]
    worst = max(abs(a - b) / b for a, b in zip(rmses["batched torch"], old))
    lines = [
        "## 1. Evaluation solves (pendulum test set)",
        "",
        f"{len(fitted)} fitted (method, seed) models: {', '.join(res.methods)} x seeds {list(seeds)}.",
        "",
        "| path | seconds | vs old |",
        "|---|---:|---:|",
        f"| old: each model alone, scipy solve_ivp | {t_old:.2f} | 1.00x |",
    ]
    lines += [f"| {k}: all in one solve | {v:.2f} | {t_old / v:.2f}x faster |" for k, v in timings.items()]
    lines += [
        "",
        f"Largest relative RMSE difference, batched torch vs old: {worst:.1e}.",
        "",
        "## 2. Where the evaluate stage's time goes",
        "",
        f"`compare_methods` on the pendulum, seeds {list(seeds)}, default settings: {stage_seconds:.1f} s in all.",
        "",
        "| part | seconds | share |",
        "|---|---:|---:|",
    ]
    baselines = table[table["method"].isin(["mlp", "hnn"])]  # a law's row repeats its MLP's training time
    parts = {
        "train (MLP, HNN)": baselines.get("s_train", 0).sum(),
        "meta-tailor (8 grid settings per law)": table.get("s_meta", 0).sum(),
        "pick the setting (long-term on train)": table.get("s_select", 0).sum(),
        "final solve": table.get("s_evaluate", 0).sum(),
    }
    lines += [f"| {k} | {v:.1f} | {v / stage_seconds:.0%} |" for k, v in parts.items()]
    return lines, {
        "old": t_old,
        **timings,
        "stage": stage_seconds,
        "parts": {k: float(v) for k, v in parts.items()},
        "worst": worst,
        "rmse": dict(zip([f"{r.method}/{r.seed}" for r in res.runs], np.round(old, 8))),
    }


def load_table() -> tuple[list[str], dict]:
    rows, raw = [], {}
    for load in (0, 2):
        for setup in ("old", "new"):
            for threads in (2, 1):
                with busy(load):
                    got = probe(setup, threads)
                raw[f"{load}-{setup}-{threads}"] = got
                rows.append(
                    f"| {load} | {'torch first (OpenMP default)' if setup == 'old' else 'noether (PASSIVE)'} "
                    f"| {threads} | {got['train step']:.1f} | {got['field call']:.2f} | "
                    f"{got['meta epoch']:.0f} |"
                )
    lines = [
        "## 3. Under load: milliseconds per call",
        "",
        "Training step: the MLP (2-200-200-2) on 1,125 points, full batch, Adam. Field call: one tailored "
        "vector field on 25 states (what the ODE solve calls thousands of times). Meta epoch: 8 stacked "
        "candidates, second order through the inner step.",
        "",
        "| busy processes | setup | torch threads | train step | field call | meta epoch |",
        "|---:|---|---:|---:|---:|---:|",
        *rows,
    ]
    return lines, raw


def pipeline() -> tuple[list[str], dict]:
    raw, rows = {}, []
    for load in (0, 2):
        with tempfile.TemporaryDirectory() as tmp, busy(load):
            env = os.environ | {"NOETHER_CACHE": tmp, "NOETHER_PROGRESS": "0"}
            start = time.perf_counter()
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "noether"),
                    "discover",
                    "--system",
                    "pendulum",
                    "--out",
                    f"{tmp}/out",
                ],
                env=env,
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
            took = time.perf_counter() - start
            laws = json.loads(Path(f"{tmp}/out/laws.json").read_text())
        raw[load] = {
            "seconds": took,
            "stages": laws["meta"]["timings_s"],
            "law": laws["laws"][0]["expression"] if laws["laws"] else None,
            "rmse": {law["expression"]: law.get("test_rmse") for law in laws["laws"]},
        }
        rows.append(
            f"| {load} | {took:.0f} | {took / raw[0]['seconds']:.2f}x | "
            f"{', '.join(f'{k} {v:.0f}' for k, v in raw[load]['stages'].items())} |"
        )
    lines = [
        "## 4. `noether discover --system pendulum`, idle and under load",
        "",
        "| busy processes | seconds | vs idle | stages (s) |",
        "|---:|---:|---:|---|",
        *rows,
        "",
        f"Top law idle: `{raw[0]['law']}`; under load: `{raw[2]['law']}`.",
    ]
    return lines, raw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--pipeline", action="store_true")
    args = ap.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    os.environ.setdefault("NOETHER_PROGRESS", "0")
    lines = [
        "# Speed: batched evaluation and the thread policy",
        "",
        f"Command: `python benchmarks/bench_speed.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {machine()}",
        "",
    ]
    raw = {}
    part, raw["solves"] = solves(seeds)
    lines += part + [""]
    part, raw["load"] = load_table()
    lines += part + [""]
    if args.pipeline:
        part, raw["pipeline"] = pipeline()
        lines += part + [""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "speed.json").write_text(json.dumps(raw, indent=1, default=str))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
