"""An ODE system sampled with HNN's protocol, plus its true conservation laws: the type behind the built-in
benchmark systems beyond HNN's spring and pendulum (``orbits``, ``mechanics``, ``population``, ``controls``).

Protocol: ``samples`` initial states from ``np.random.RandomState(seed)``, integrated by ``solve_ivp`` (DOP853) and
sampled at ``points`` equally spaced times on [0, t_end]; derivatives are exact (the vector field at the clean
states); the first half of the trajectories train. Every trajectory meets rtol = atol = 1e-10 (HNN's rtol
and the tighter atol of ``hnn.py``; see ``SimulatedSystem.solve_all``). Noise is *relative*: coordinate j
gets Gaussian noise of std ``noise * std_j``, std_j the standard deviation of column j over the whole clean data
set, so one level means the same for every system whatever its scales. All initial states are drawn before any
noise, so the clean data of a seed is the same at every noise level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from ..errors import ConfigError
from ..units import parse_unit
from .trajectories import Trajectories

RTOL = ATOL = 1e-10


@dataclass(frozen=True)
class SimulatedSystem:
    """A named ODE dx/dt = f(x) with its sampling protocol and ground truth.

    vector_field: state [d, ...] -> dx/dt [d, ...] (one state as solve_ivp passes it, or a batch);
    initial: one random initial state [d] from the generator; units: pint text per state ("" dimensionless);
    laws: every true conserved quantity as SymPy text over ``names`` (empty for a non-conservative control);
    independent: how many of them are functionally independent (the generic rank of their gradients); the first
    law (the energy, where the list has it) is the oracle the pipeline's evaluation uses (``SystemSpec.true_law``);
    constants: the model's parameters as (name, value) pairs, for the data's metadata and the docs.
    """

    name: str
    description: str
    names: tuple[str, ...]
    units: tuple[str, ...]
    vector_field: Callable[[np.ndarray], np.ndarray]
    initial: Callable[[np.random.RandomState], np.ndarray]
    t_end: float
    points: int
    laws: tuple[str, ...]
    independent: int
    constants: tuple[tuple[str, float], ...] = ()
    samples: int = 50
    noise: float = 0.01  # the default relative noise level

    def __post_init__(self) -> None:
        if len(self.names) != len(self.units):
            raise ValueError(f"{self.name}: {len(self.names)} names but {len(self.units)} units")
        if not 0 <= self.independent <= len(self.laws):
            raise ValueError(f"{self.name}: {self.independent} independent laws out of {len(self.laws)}")

    @property
    def times(self) -> np.ndarray:
        """The sample times [points] on [0, t_end]."""
        return np.linspace(0.0, self.t_end, self.points)

    def solve_all(self, starts: np.ndarray) -> np.ndarray:
        """Clean trajectories [M, points, d] from ``starts`` [M, d], integrated as one ODE (tens of times faster than
        one call per trajectory). scipy's step control bounds the RMS error norm over the whole batch; with the
        tolerances divided by sqrt(M) that bound implies every trajectory's own norm meets rtol = atol = 1e-10."""
        m, d = starts.shape
        shrink = np.sqrt(m)
        sol = solve_ivp(
            lambda t, y: self.vector_field(y.reshape(d, m)).reshape(-1),
            (0.0, self.t_end),
            starts.T.reshape(-1),
            method="DOP853",
            t_eval=self.times,
            rtol=RTOL / shrink,
            atol=ATOL / shrink,
        )
        if not sol.success:
            raise RuntimeError(f"{self.name}: integration failed: {sol.message}")
        return sol.y.reshape(d, m, -1).transpose(1, 2, 0)

    def derivatives(self, states: np.ndarray) -> np.ndarray:
        """Exact dx/dt at ``states`` [..., d] -> [..., d]."""
        return np.moveaxis(self.vector_field(np.moveaxis(states, -1, 0)), 0, -1)

    def generate(self, *, noise: float | None = None, seed: int = 0) -> Trajectories:
        """The data set: ``samples`` trajectories x ``points`` steps, relative noise ``noise`` (default
        ``self.noise``) on the observed states only; the first half of the trajectories train."""
        noise = self.noise if noise is None else noise
        if noise < 0:
            raise ConfigError(f"noise must be >= 0, got {noise}")
        rng = np.random.RandomState(seed)
        starts = np.stack([np.asarray(self.initial(rng), dtype=np.float64) for _ in range(self.samples)])
        clean = self.solve_all(starts)
        scale = clean.reshape(-1, len(self.names)).std(axis=0)
        states = clean + rng.randn(*clean.shape) * (noise * scale)
        mask = np.zeros(clean.shape[:2], bool)
        mask[: self.samples // 2] = True
        return Trajectories(
            states=states,
            times=np.broadcast_to(self.times, clean.shape[:2]).copy(),
            names=self.names,
            units=tuple(parse_unit(u, n) for u, n in zip(self.units, self.names)),
            derivatives=self.derivatives(clean),
            clean=clean,
            train_mask=mask,
            name=self.name,
            meta={
                "noise": noise,
                "noise_kind": "relative",
                "noise_std": (noise * scale).tolist(),
                "seed": seed,
                "constants": dict(self.constants),
                "laws": list(self.laws),
                "independent": self.independent,
                "source": "simulated (noether.systems.simulated)",
            },
        )
