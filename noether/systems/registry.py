"""Built-in systems by name: ``load_system('pendulum', noise=0)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import UnknownSystemError
from .hnn import PENDULUM, SPRING
from .real_pendulum import real_pendulum
from .trajectories import Trajectories


@dataclass(frozen=True)
class SystemSpec:
    """A named dataset factory and what a user should know about it before loading it."""

    name: str
    description: str
    make: Callable[..., Trajectories]
    true_law: str | None  # the paper's conserved quantity (SymPy text), for reports and tests


SYSTEMS: dict[str, SystemSpec] = {
    "spring": SystemSpec("spring", "ideal mass-spring, H = q^2 + p^2 (HNN)",
                         lambda noise=0.1, seed=0: SPRING.generate(noise=noise, seed=seed), SPRING.law),
    "pendulum": SystemSpec("pendulum", "ideal pendulum, H = 3(1 - cos q) + p^2 (HNN)",
                           lambda noise=0.1, seed=0: PENDULUM.generate(noise=noise, seed=seed), PENDULUM.law),
    "real-pendulum": SystemSpec("real-pendulum", "measured pendulum, Schmidt & Lipson 2009 (damped)",
                                lambda noise=None, seed=0: real_pendulum(), None),
}


def system_names() -> list[str]:
    return list(SYSTEMS)


def get_system(name: str) -> SystemSpec:
    if name not in SYSTEMS:
        raise UnknownSystemError(f"unknown system '{name}'; built-in systems are: {', '.join(SYSTEMS)}")
    return SYSTEMS[name]


def load_system(name: str, *, noise: float | None = None, seed: int = 0) -> Trajectories:
    """Generate or load a built-in system. ``noise`` (ideal systems only) defaults to HNN's 0.1."""
    spec = get_system(name)
    if name == "real-pendulum":
        if noise:
            raise ValueError("real-pendulum is measured data; it takes no noise level")
        traj = spec.make(seed=seed)
    else:
        traj = spec.make(noise=0.1 if noise is None else noise, seed=seed)
    return replace(traj, system=name)
