"""Which inner step lets a conservation law help? A diagnostic without meta-training: the same pretrained MLP
(HNN's recipe) evaluated on the test trajectories as is, projected exactly onto the true law's level sets, and
tailored with one inner step -- the paper's SGD step or the Gauss-Newton step, all weights or the last layer,
at several inner-loss steps dt_scale * dt.

    python benchmarks/bench_inner_step.py [--seeds 0,1,2] [--systems pendulum,spring,real-pendulum] [--noise 0.1]

Writes benchmarks/results/inner_step.md (inner_step_noise<σ>.md for another noise level on the ideal systems).
README 'Meta-tailoring' quotes it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import noether
from noether.tailoring.evaluate import long_term, mlp_field, tailored_field
from noether.tailoring.law.setting import InnerSetting
from noether.tailoring.mlp import params_of
from noether.tailoring.train import TrainConfig, train_baseline

RESULTS = Path(__file__).parent / "results"
LAWS = {  # the true (or, for the real pendulum, the hand-coded) conserved quantity
    "pendulum": ("p**2 - 3 cos q", lambda x: x[..., 1] ** 2 - 3.0 * torch.cos(x[..., 0])),
    "spring": ("q**2 + p**2", lambda x: x[..., 0] ** 2 + x[..., 1] ** 2),
    "real-pendulum": ("p**2 - 2.4 cos q", lambda x: x[..., 1] ** 2 - 2.4 * torch.cos(x[..., 0])),
}


def projected_field(base, law):
    """The field minus its component along grad g: exact conservation of g, the MLP's speed along the level set."""

    def field(x):
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(law(x).sum(), x)
        v = base(x.detach())
        return v - (g * v).sum(-1, keepdim=True) * g / (g * g).sum(-1, keepdim=True).clamp_min(1e-300)

    return field


def variants(p, law, dt):
    base = mlp_field(p)
    out = {"MLP (no tailoring)": base, "exact projection onto g's level sets": projected_field(base, law)}
    for lr in (1e-2, 1.0):
        out[f"SGD lr {lr:g}, dt_scale 1 (paper)"] = tailored_field(p, law, lr, dt, InnerSetting(kind="sgd"))
    for scale in (1.0, 0.1, 0.01):
        for alpha in (0.5, 1.0):
            out[f"Newton alpha {alpha:g}, dt_scale {scale:g}"] = tailored_field(
                p, law, alpha, dt * scale, InnerSetting()
            )
    for scale in (0.1, 0.01):
        out[f"Newton alpha 1, dt_scale {scale:g}, last layer"] = tailored_field(
            p, law, 1.0, dt * scale, InnerSetting(adapt="last")
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--systems", default="pendulum,spring,real-pendulum")
    ap.add_argument("--noise", type=float, default=0.1, help="noise of the ideal systems' training data (HNN: 0.1)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    lines = [
        "# One inner step with a known law, no meta-training (diagnostic)",
        "",
        f"Command: `python benchmarks/bench_inner_step.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
        + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU")
        + ".",
        "",
        f"Protocol: HNN's MLP trained per seed on the system's training split (noise {args.noise:g} on the ideal "
        "systems); "
        "every variant is integrated from the test trajectories' initial states (solve_ivp RK45, "
        "rtol = atol = 1e-9) and compared with the noise-free test trajectories; test RMSE mean ± s.e. over "
        f"seeds {seeds}. No variant is meta-trained: this isolates what one inner step does.",
        "",
    ]
    for name in args.systems.split(","):
        text, law = LAWS[name]
        traj = noether.load_system(name, noise=None if name == "real-pendulum" else args.noise)
        _, test = traj.split()
        start = time.perf_counter()
        rmse: dict[str, list[float]] = {}
        for seed in seeds:
            p = params_of(train_baseline(traj, "mlp", TrainConfig.for_data(traj, seed=seed)).model)
            for label, field in variants(p, law, traj.dt).items():
                lt = long_term(field, test)
                rmse.setdefault(label, []).append(np.inf if lt.diverged[0] else float(lt.rmse[0]))
            print(f"{name} seed {seed} done", flush=True)
        base = np.mean(rmse["MLP (no tailoring)"])
        lines += [
            f"## {name} (law `{text}`, data dt = {traj.dt:.4g})",
            "",
            "| variant | test RMSE | ± | vs MLP |",
            "|---|---:|---:|---:|",
        ]
        for label, vals in rmse.items():
            v = np.asarray(vals)
            sem = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0
            lines.append(f"| {label} | {v.mean():.4f} | {sem:.4f} | {v.mean() / base:.2f}× |")
        lines += ["", f"{len(seeds)} seeds in {time.perf_counter() - start:.0f} s.", ""]
    RESULTS.mkdir(exist_ok=True)
    name = "inner_step.md" if args.noise == 0.1 else f"inner_step_noise{args.noise:g}.md"
    (RESULTS / name).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
