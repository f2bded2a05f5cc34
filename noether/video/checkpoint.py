"""The typed checkpoint record of a training run (``checkpoint.pt``): weights, optimiser states, step, loss history
and early-stopping state, replaced atomically so that a stopped run resumes where it was."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from ..io import atomic_path

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class Checkpoint:
    """What ``checkpoint.pt`` holds. ``history``: (step, phase, loss) rows; ``early_stop``: the running phase's
    :meth:`EarlyStop.state`; ``meta``: config, seed, data sizes, law; ``seconds``: training time so far."""

    net: dict
    opt_theta: dict
    step: int
    history: list
    seconds: float
    meta: dict
    opt_phi: dict | None = None
    opt_read: dict | None = None
    early_stop: dict | None = None

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp:
            torch.save({f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, tmp)

    @classmethod
    def load(cls, path: str | Path, device="cpu") -> Checkpoint:
        state = torch.load(path, map_location=device, weights_only=False)
        return cls(**{f.name: state.get(f.name) for f in dataclasses.fields(cls)})
