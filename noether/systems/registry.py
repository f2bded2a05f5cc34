"""Built-in systems by name: ``load_system('pendulum', noise=0)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from ..errors import ConfigError, UnknownSystemError
from .controls import LORENZ, VAN_DER_POL
from .hnn import PENDULUM, SPRING
from .mechanics import DOUBLE_PENDULUM, HENON_HEILES, OSCILLATOR_2D, RIGID_BODY
from .orbits import KEPLER, TWO_BODY
from .population import LOTKA_VOLTERRA
from .protocol import DEFAULT_PROTOCOL, PROTOCOLS, get_protocol, protocol_of
from .real_pendulum import real_pendulum
from .simulated import SimulatedSystem
from .trajectories import Trajectories


@dataclass(frozen=True)
class SystemSpec:
    """A named dataset factory and what a user should know about it before loading it."""

    name: str
    description: str
    make: Callable[..., Trajectories]
    true_law: str | None  # the paper's conserved quantity, else the first of ``laws`` (SymPy text): the oracle
    laws: tuple[str, ...] = ()  # every true conserved quantity (SymPy text over the state names), for tests
    independent: int | None = None  # how many of ``laws`` are functionally independent (None: unknown)
    noise: float | None = 0.1  # load_system's default noise: absolute for HNN's systems, relative for simulated


def _simulated(system: SimulatedSystem) -> SystemSpec:
    """The spec of a ``SimulatedSystem``: its first law is the oracle; its noise is relative (std = noise x each
    column's clean std)."""
    oracle = system.laws[0] if system.laws else None
    return SystemSpec(
        system.name, system.description, system.generate, oracle, system.laws, system.independent, system.noise
    )


SYSTEMS: dict[str, SystemSpec] = {
    "spring": SystemSpec(
        "spring",
        "ideal mass-spring, H = q^2 + p^2 (HNN)",
        lambda noise=0.1, seed=0: SPRING.generate(noise=noise, seed=seed),
        SPRING.law,
        (SPRING.law,),
        1,
        PROTOCOLS[DEFAULT_PROTOCOL].noise,
    ),
    "pendulum": SystemSpec(
        "pendulum",
        "ideal pendulum, H = 3(1 - cos q) + p^2 (HNN)",
        lambda noise=0.1, seed=0: PENDULUM.generate(noise=noise, seed=seed),
        PENDULUM.law,
        (PENDULUM.law,),
        1,
        PROTOCOLS[DEFAULT_PROTOCOL].noise,
    ),
    "real-pendulum": SystemSpec(
        "real-pendulum",
        "measured pendulum, Schmidt & Lipson 2009 (damped)",
        lambda noise=None, seed=0: real_pendulum(),
        None,
        noise=None,
    ),
    **{
        s.name: _simulated(s)
        for s in (
            TWO_BODY,
            KEPLER,
            LOTKA_VOLTERRA,
            HENON_HEILES,
            DOUBLE_PENDULUM,
            RIGID_BODY,
            OSCILLATOR_2D,
            LORENZ,
            VAN_DER_POL,
        )
    },
}


def system_names() -> list[str]:
    return list(SYSTEMS)


def get_system(name: str) -> SystemSpec:
    if name not in SYSTEMS:
        raise UnknownSystemError(f"unknown system '{name}'; built-in systems are: {', '.join(SYSTEMS)}")
    return SYSTEMS[name]


def load_system(name: str, *, noise: float | None = None, seed: int = 0, protocol: str | None = None) -> Trajectories:
    """Generate or load a built-in system. ``noise`` (simulated systems only) defaults to the system's own:
    HNN's absolute std 0.1 for spring and pendulum, a relative 0.01 (of each column's clean std) for the others.
    ``protocol`` (spring and pendulum; ``protocol.PROTOCOLS``): 'hnn' (noise 0.1, the default) or 'paper'
    (noise-free, as the paper ran them), instead of ``noise``; the data's meta names it."""
    spec = get_system(name)
    if protocol is not None:
        if noise is not None:
            raise ConfigError(f"give a protocol ('{protocol}') or a noise level ({noise}), not both")
        noise = get_protocol(protocol, name).noise
    if name == "real-pendulum":
        if noise:
            raise ConfigError("real-pendulum is measured data; it takes no noise level")
        traj = _made(name, None, seed)
    else:
        traj = _made(name, spec.noise if noise is None else float(noise), seed)
        named = protocol_of(name, traj.meta["noise"])
        if named is not None:
            traj = replace(traj, meta={**traj.meta, "protocol": named})
    return replace(traj, system=name)


@lru_cache(maxsize=32)
def _generated(name: str, noise: float | None, seed: int) -> Trajectories:
    """One generation of a system per (noise, seed) in a process: simulating HNN's 50 trajectories takes ~2 s, and a
    notebook or a test suite loads the same system many times. Deterministic, so memoising changes no value."""
    spec = get_system(name)
    return spec.make(seed=seed) if noise is None else spec.make(noise=noise, seed=seed)


def _made(name: str, noise: float | None, seed: int) -> Trajectories:
    """The memoised data with arrays of its own, so that a caller writing into them cannot change a later load."""
    traj = _generated(name, noise, seed)
    own = {f: getattr(traj, f).copy() for f in _ARRAYS if getattr(traj, f) is not None}
    return replace(traj, **own, meta=dict(traj.meta))


_ARRAYS = ("states", "times", "derivatives", "clean", "train_mask", "lengths")
