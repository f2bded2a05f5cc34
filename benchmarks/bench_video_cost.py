"""What a video preset costs on this machine: seconds per outer step (Algorithm 1 iteration) of each method, and
the preset's projected training time. For the runs a 2-core machine cannot do (the ``paper`` presets), this is the
measured reason.

    python benchmarks/bench_video_cost.py [--preset paper] [--steps 3] [--threads 2] [--device auto]

Each (dataset, method) builds the preset's model, draws batches of the preset's shape (random frames: the cost does
not depend on the pixels) and times ``--steps`` outer steps after one warm-up step, with the preset's inner step
(second order) for Noether methods. Writes ``benchmarks/results/video_cost_<preset>.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

from noether.device import resolve_device
from noether.video.config import preset_config
from noether.video.data.pendulum_controlled import N_COND as C_COND
from noether.video.data.pendulum_controlled import N_PRED as C_ALL
from noether.video.data.pendulum_controlled import N_PRED_TRAIN as C_PRED
from noether.video.data.pendulum_pixels import N_COND as P_COND
from noether.video.data.pendulum_pixels import N_PRED as P_PRED
from noether.video.data.ramp import N_COND as R_COND
from noether.video.data.ramp import N_PRED as R_PRED
from noether.video.noether_net import Query, task_loss
from noether.video.schedule import phases
from noether.video.train import build_net, set_trainable

RESULTS = Path(__file__).parent / "results"
RUNS = [
    ("pendulum-controlled", "svg"),
    ("pendulum-controlled", "noether"),
    ("ramp", "svg"),
    ("ramp", "noether"),
    ("pendulum-pixels", "svg"),
    ("pendulum-pixels", "noether"),
    ("pendulum-pixels", "noether-law"),
]
#: (conditioning frames, frames trained on, frames predicted)
SHAPES = {
    "pendulum-controlled": (C_COND, C_PRED, C_ALL),
    "ramp": (R_COND, R_PRED, R_PRED),
    "pendulum-pixels": (P_COND, P_PRED, P_PRED),
}


def seconds_per_step(dataset: str, method: str, preset: str, steps: int, device) -> tuple[float, dict]:
    """Median seconds of one outer step of the method's last phase (tune/meta for Noether, base for svg)."""
    from noether.video.laws import ORACLE_LAWS, law_from_expression

    cfg = preset_config(dataset, method, preset)
    torch.manual_seed(0)
    law = law_from_expression(ORACLE_LAWS[dataset]) if method == "noether-law" else None
    net = build_net(cfg, 3, 1 if dataset == "pendulum-controlled" else 0, cfg.size, law).to(device)
    set_trainable(net, cfg, True)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-4)
    n_cond, n_train, n_pred = SHAPES[dataset]
    schedule = phases(cfg, n_train, n_pred)
    T = n_cond + schedule[-1].frames
    B = cfg.batch_size
    frames = torch.rand(B, T, 3, cfg.size, cfg.size, device=device)
    actions = torch.rand(B, T, 1, device=device) if net.predictor.action_dim else None
    eps = net.predictor.noise(B, T - 1, device=device) if net.predictor.config.z_dim else None
    q = Query(frames, n_cond, actions=actions, eps=eps, teacher_forcing=not schedule[-1].free)
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        r = net(q) if cfg.uses_embedding else net.rollout(q)
        loss = task_loss(q, r, cfg.beta, cfg.task_reduction)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2], {"batch": B, "frames": T, "schedule": [(p.name, p.steps) for p in schedule]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--note", default="", help="what else ran on the machine (goes into the report)")
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    rows, base = [], {}
    for dataset, method in RUNS:  # svg first: its step prices the base phase of the others
        if args.preset == "confirm" and dataset != "pendulum-controlled":
            continue
        sec, info = seconds_per_step(dataset, method, args.preset, args.steps, device)
        base.setdefault(dataset, sec)
        total = sum(n for _, n in info["schedule"])
        hours = (
            sum(n * (base[dataset] if phase == "base" else sec) for phase, n in info["schedule"] if phase != "readout")
            / 3600
        )
        rows.append(
            f"| {dataset} | {method} | {info['batch']} | {info['frames']} | {sec:.2f} | {total:,} | {hours:.1f} |"
        )
        print(rows[-1], flush=True)
    cmd = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    md = [
        f"# Video training cost, `{args.preset}` preset, on this machine",
        "",
        f"Command: `{cmd}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} "
        f"threads, {'GPU ' + torch.cuda.get_device_name() if device.type == 'cuda' else 'no GPU'}"
        f"{'; ' + args.note if args.note else ''}.  ",
        f"Seconds per outer step: median of {args.steps} steps after a warm-up, at the preset's batch and frame "
        "count (the Noether methods' step includes the second-order inner step). Projected hours: that times "
        "the "
        "preset's steps for the method, base phases (the controlled pendulum's svg start) at svg's cost; the "
        "law's readout fit is left out.",
        "",
        "| dataset | method | batch | frames | s / step | steps | projected h |",
        "|---|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"video_cost_{args.preset}.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
