"""One long recording of a built-in system: the data a user with one orbit, one run of a rig or one simulation has.

``one_recording('pendulum', noise=0.01)``: one initial state drawn as the system's own protocol draws it (HNN's for
the spring and the pendulum, ``SimulatedSystem.initial`` for the others), integrated over ``span`` times the
system's own trajectory length and sampled at ``points`` equal steps; Gaussian noise of ``noise`` x each state's
spread over the recording; the last ``test_fraction`` of it, in time, is the test split (as a one-trajectory
data file is split, ``files.read_columns``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..units import parse_unit
from .hnn import HamiltonianSystem
from .registry import get_system
from .simulated import SimulatedSystem
from .trajectories import Trajectories

HNN_SPAN = 3.0  # HNN's trajectories last 3 time units


def one_recording(
    name: str, *, noise: float = 0.01, seed: int = 0, points: int = 800, span: float = 8.0, test_fraction: float = 0.2
) -> Trajectories:
    """One recording of built-in system ``name`` (not 'real-pendulum', which is one already), with its true laws in
    ``meta['laws']``."""
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    if not 0 < test_fraction < 1 or points < 10 or span <= 0:
        raise ValueError(
            f"need 0 < test_fraction < 1, points >= 10 and span > 0; got {test_fraction}, {points}, {span}"
        )
    spec = get_system(name)
    system = _system_of(name)
    rng = np.random.RandomState(seed)
    if isinstance(system, HamiltonianSystem):
        longer = replace(system, points=points)
        _, clean, dxdt, times = longer.trajectory(rng, 0.0, t_span=(0.0, span * HNN_SPAN))
        names, units = ("q", "p"), system.units
    else:
        longer = replace(system, t_end=span * system.t_end, points=points)
        clean = longer.solve_all(np.asarray(system.initial(rng), dtype=np.float64)[None])[0]
        dxdt, times = longer.derivatives(clean), longer.times
        names, units = system.names, system.units
    scale = clean.std(axis=0)
    states = clean + rng.randn(*clean.shape) * (noise * scale)
    mask = np.arange(points) < points - round(points * test_fraction)
    return Trajectories(
        states=states[None],
        times=times[None].copy(),
        names=names,
        units=tuple(parse_unit(u, n) for u, n in zip(units, names)),
        derivatives=dxdt[None],
        clean=clean[None],
        train_mask=mask[None],
        name=f"{name} (one recording)",
        meta={
            "noise": noise,
            "noise_kind": "relative",
            "seed": seed,
            "laws": list(spec.laws),
            "source": "one recording (noether.systems.recording)",
        },
    )


def _system_of(name: str) -> HamiltonianSystem | SimulatedSystem:
    from . import controls, hnn, mechanics, orbits, population  # the modules that define the built-in systems

    for module in (hnn, mechanics, orbits, population, controls):
        for value in vars(module).values():
            if isinstance(value, (HamiltonianSystem, SimulatedSystem)) and value.name == name:
                return value
    raise ValueError(f"'{name}' is not a simulated built-in system")
