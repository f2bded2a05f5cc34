"""Seconds per outer step of every phase of the controlled pendulum's protocol, and per test window evaluated:
what sizes the ``confirm`` preset (``benchmarks/video_protocol.md``) and the GPU script (``gpu_fig3.sh``).

    python benchmarks/bench_video_phases.py [--preset pilot] [--steps 24] [--threads 1] [--device auto]

Each phase of each arm's schedule (base, free, more, readout, the Noether tune phases) runs ``--steps`` steps
after two warm-up steps on random frames and actions of the preset's batch and frame counts (the cost does not
depend on the pixels), exactly as ``train._train_step`` does (free-running rollouts, the free phase's teacher-forced
term, the second-order inner step). Prints a markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from noether.device import resolve_device
from noether.video.config import preset_config
from noether.video.data.pendulum_controlled import N_COND, N_PRED, N_PRED_TRAIN
from noether.video.laws import ORACLE_LAWS, law_from_expression
from noether.video.noether_net import Query, task_loss
from noether.video.schedule import phases
from noether.video.train import build_net, inner_at_test, readout_loss, set_trainable

DATASET = "pendulum-controlled"


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def phase_seconds(
    method: str, preset: str, steps: int, device, count_ops: bool = False, **overrides
) -> list[tuple[str, int, int, float]]:
    """(phase, frames, steps in the preset, median seconds per step) for every phase of ``method``; with
    ``count_ops`` the last number is the operators dispatched per step instead (torch.profiler), which do not
    depend on the widths: on a GPU too small models run one kernel launch per operator."""
    cfg = preset_config(DATASET, method, preset, **overrides)
    torch.manual_seed(0)
    law = law_from_expression(ORACLE_LAWS[DATASET]) if method == "noether-law" else None
    net = build_net(cfg, 3, 1, cfg.size, law).to(device)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-4)
    rows = []
    for phase in phases(cfg, N_PRED_TRAIN, N_PRED):
        if phase.steps == 0 or (method != "svg" and phase.name in ("base", "free")):
            continue  # the svg run's phases are timed once, on svg
        B, T = cfg.batch_size, N_COND + phase.frames
        frames = torch.rand(B, T, 3, cfg.size, cfg.size, device=device)
        actions = torch.rand(B, T, 1, device=device) * 4 - 2
        q = Query(frames, N_COND, actions=actions, teacher_forcing=not phase.free)
        times = []
        for i in range(steps + 2):
            start = time.perf_counter()
            prof = (
                torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
                if count_ops and i == 2
                else None
            )
            if prof:
                prof.__enter__()
            if phase.readout:
                loss = readout_loss(net.embedding.readout, frames, torch.rand(B, T, 2, device=device))
            else:
                set_trainable(net, cfg, phase.theta)
                loss = task_loss(q, net(q) if phase.tailored else net.rollout(q), cfg.beta, cfg.task_reduction)
                if phase.name == "free" and cfg.free_tf_weight:
                    n = N_COND + N_PRED_TRAIN
                    qf = Query(frames[:, :n], N_COND, actions=actions[:, :n])
                    loss = loss + task_loss(qf, net.rollout(qf), cfg.beta, cfg.task_reduction)
            opt.zero_grad()
            loss.backward()
            opt.step()
            _sync(device)
            if prof:
                prof.__exit__(None, None, None)
                times.append(sum(e.count for e in prof.key_averages() if e.key.startswith("aten::")))
                break
            if i >= 2:
                times.append(time.perf_counter() - start)
        rows.append((phase.name, phase.frames, phase.steps, statistics.median(times)))
    return rows


@torch.no_grad()
def eval_seconds(method: str, preset: str, device, windows: int = 32) -> float:
    """Seconds per test window of the evaluation (26 frames, free running, tailored for Noether methods)."""
    cfg = preset_config(DATASET, method, preset)
    law = law_from_expression(ORACLE_LAWS[DATASET]) if method == "noether-law" else None
    net = build_net(cfg, 3, 1, cfg.size, law).to(device).requires_grad_(False)
    T = N_COND + N_PRED
    q = Query(
        torch.rand(cfg.eval_batch, T, 3, cfg.size, cfg.size, device=device),
        N_COND,
        actions=torch.rand(cfg.eval_batch, T, 1, device=device),
        teacher_forcing=False,
    )
    start = time.perf_counter()
    for _ in range(windows // cfg.eval_batch):
        with torch.enable_grad():
            net(q, inner_at_test(cfg.inner))
    _sync(device)
    return (time.perf_counter() - start) / windows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="pilot")
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--count-ops", action="store_true", help="aten operators per step instead of seconds")
    ap.add_argument("--free-steps", type=int, default=None, help="override the preset's free-running phase")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} thread(s), "
        f"device {device}, load average {load:.1f} at the start; preset {args.preset}, median of {args.steps} "
        "steps after 2 warm-up steps\n"
    )
    unit = "aten ops / step" if args.count_ops else "s / step"
    print(f"| method | phase | frames | steps in preset | {unit} |\n|---|---|---:|---:|---:|")
    for method in ("svg", "svg-more", "noether", "noether-law"):
        extra = {} if args.free_steps is None else {"free_steps": args.free_steps}
        for name, frames, n, sec in phase_seconds(method, args.preset, args.steps, device, args.count_ops, **extra):
            print(f"| {method} | {name} | {frames} | {n} | {sec:.3f} |", flush=True)
    if args.count_ops:
        return
    print("\n| method | s / test window (26 frames) |\n|---|---:|")
    for method in ("svg", "noether", "noether-law"):
        print(f"| {method} | {eval_seconds(method, args.preset, device):.4f} |", flush=True)


if __name__ == "__main__":
    main()
