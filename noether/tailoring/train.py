"""Training the baselines the way HNN does: full-batch Adam on (x, dx/dt) pairs of the training split."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
from torch import nn

from ..device import resolve_device
from ..errors import ConfigError
from ..progress import stage
from ..systems.trajectories import Trajectories
from .hnn import HNN
from .mlp import MLP


@dataclass(frozen=True)
class TrainConfig:
    """HNN's recipe (issue 5): Adam(lr) with L2 ``weight_decay``, full batch, ``steps`` steps, MSE on dx/dt.

    weight_decay is 1e-4 on the ideal systems and 1e-5 on the real pendulum (``TrainConfig.for_data``).
    """

    steps: int = 2000
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hidden: int = 200
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ConfigError(f"training steps must be >= 0, got {self.steps}")
        if not self.lr > 0:
            raise ConfigError(f"learning rate must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight decay must be >= 0, got {self.weight_decay}")
        if self.hidden < 1:
            raise ConfigError(f"hidden width must be >= 1, got {self.hidden}")

    @classmethod
    def for_data(cls, traj: Trajectories, **overrides) -> TrainConfig:
        """The paper's defaults for this data set (weight decay 1e-5 on the real pendulum, else 1e-4)."""
        return replace(cls(weight_decay=paper_weight_decay(traj)), **overrides)


def paper_weight_decay(traj: Trajectories) -> float:
    """HNN's L2 weight decay: 1e-5 on the real pendulum, 1e-4 on the ideal systems."""
    return 1e-5 if traj.system == "real-pendulum" else 1e-4


@dataclass(frozen=True)
class TrainResult:
    """A trained vector field with its loss curve. losses: [steps] training MSE; seconds: wall time."""

    model: nn.Module
    losses: np.ndarray
    train_mse: float
    test_mse: float | None
    seconds: float


def points(
    traj: Trajectories, part: str = "train", device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x [N, d], dx/dt [N, d]) of a split as float32 tensors (HNN's training pairs)."""
    x, dx = traj.points(part)
    dev = resolve_device(device)
    return (torch.as_tensor(x, dtype=torch.float32, device=dev), torch.as_tensor(dx, dtype=torch.float32, device=dev))


def fit(
    model: nn.Module,
    x: torch.Tensor,
    dxdt: torch.Tensor,
    config: TrainConfig = TrainConfig(),
    x_test: torch.Tensor | None = None,
    dxdt_test: torch.Tensor | None = None,
    label: str = "train",
) -> TrainResult:
    """Full-batch Adam on MSE(model(x), dx/dt) for ``config.steps`` steps. x, dxdt: [N, d] (model's device);
    label: what the progress display calls it."""
    start = time.perf_counter()
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    losses = np.empty(config.steps)
    with stage(label, config.steps, "epochs") as advance:
        for step in range(config.steps):
            opt.zero_grad(set_to_none=True)
            loss = (model(x) - dxdt).square().mean()
            loss.backward()
            opt.step()
            losses[step] = loss.item()
            advance()
    with torch.enable_grad():  # HNN's field needs autograd even at evaluation
        train_mse = float((model(x) - dxdt).square().mean().detach())
        test_mse = (
            None if x_test is None or len(x_test) == 0 else float((model(x_test) - dxdt_test).square().mean().detach())
        )
    return TrainResult(model, losses, train_mse, test_mse, time.perf_counter() - start)


def train_baseline(
    traj: Trajectories, kind: Literal["mlp", "hnn"] = "mlp", config: TrainConfig | None = None
) -> TrainResult:
    """Train HNN's baseline MLP (``kind='mlp'``, predicts dx/dt) or an HNN on ``traj.points('train')``.

    Deterministic under ``config.seed`` (initial weights; full-batch training has no other randomness).
    """
    config = TrainConfig.for_data(traj) if config is None else config
    device = resolve_device(config.device)
    x, dx = points(traj, "train", device)
    xt, dxt = points(traj, "test", device)
    if kind == "mlp":
        model = MLP.seeded(config.seed, traj.dim, config.hidden)
    elif kind == "hnn":
        model = HNN.seeded(config.seed, traj.dim, config.hidden)
    else:
        raise ConfigError(f"unknown baseline '{kind}' (use 'mlp' or 'hnn')")
    return fit(model.to(device), x, dx, config, xt, dxt, label=f"train {kind} (seed {config.seed})")
