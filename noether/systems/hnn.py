"""The ideal spring and pendulum, generated exactly as the Hamiltonian Neural Networks code does (Greydanus et
al. 2019, ``experiment-spring/data.py`` and ``experiment-pend/data.py``): same RNG calls in the same order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from ..errors import ConfigError
from ..units import parse_unit
from .trajectories import Trajectories


@dataclass(frozen=True)
class HamiltonianSystem:
    """A 1-D Hamiltonian system in (q, p) with HNN's sampling protocol."""

    name: str
    hamiltonian: Callable[[np.ndarray, np.ndarray], np.ndarray]
    vector_field: Callable[[np.ndarray], np.ndarray]  # state [..., 2] -> d/dt state
    points: int  # samples per trajectory on t in [0, 3]
    radius: tuple[float, float]  # initial energy-shell radius ~ U[lo, hi]
    units: tuple[str, str]
    law: str  # the paper's simplest conserved quantity, as SymPy text
    # HNN passes rtol=1e-10 but leaves scipy's atol=1e-6, which lets the energy drift ~3e-6 (relative) along a
    # clean trajectory. We tighten atol so the noise-free reference conserves H to 1e-8; the random draws
    # (initial states, noise) are identical to HNN's, and states differ from HNN's by < 1e-5.
    atol: float = 1e-10

    def trajectory(self, rng: np.random.RandomState, noise: float, t_span=(0.0, 3.0)):
        """One trajectory: (noisy states [T, 2], clean states [T, 2], exact dx/dt [T, 2], times [T])."""
        t_eval = np.linspace(t_span[0], t_span[1], self.points)
        y0 = rng.rand(2) * 2.0 - 1.0
        lo, hi = self.radius
        radius = rng.rand() * (hi - lo) + lo
        y0 = y0 / np.sqrt((y0**2).sum()) * radius
        sol = solve_ivp(lambda t, y: self.vector_field(y), t_span, y0, t_eval=t_eval, rtol=1e-10, atol=self.atol)
        clean = sol.y.T.copy()
        dxdt = self.vector_field(clean.T).T
        q = clean[:, 0] + rng.randn(self.points) * noise
        p = clean[:, 1] + rng.randn(self.points) * noise
        return np.stack([q, p], axis=-1), clean, dxdt, t_eval

    def generate(
        self, *, samples: int = 50, noise: float = 0.1, seed: int = 0, test_split: float = 0.5
    ) -> Trajectories:
        """HNN's get_dataset: ``samples`` trajectories; the first ``test_split`` fraction of points train."""
        if noise < 0:
            raise ConfigError(f"noise must be >= 0, got {noise}")
        rng = np.random.RandomState(seed)
        parts = [self.trajectory(rng, noise) for _ in range(samples)]
        states, clean, dxdt, times = (np.stack(x) for x in zip(*parts))
        n_train = int(samples * self.points * test_split) // self.points
        mask = np.zeros(states.shape[:2], bool)
        mask[:n_train] = True
        return Trajectories(
            states=states,
            times=times,
            names=("q", "p"),
            units=tuple(parse_unit(u) for u in self.units),
            derivatives=dxdt,
            clean=clean,
            train_mask=mask,
            name=self.name,
            meta={"noise": noise, "seed": seed, "hamiltonian": self.law, "source": "HNN protocol"},
        )


def _spring_field(y: np.ndarray) -> np.ndarray:
    q, p = y[0], y[1]
    return np.stack([2.0 * p, -2.0 * q])


def _pendulum_field(y: np.ndarray) -> np.ndarray:
    q, p = y[0], y[1]
    return np.stack([2.0 * p, -3.0 * np.sin(q)])


SPRING = HamiltonianSystem(
    name="spring",
    hamiltonian=lambda q, p: q**2 + p**2,
    vector_field=_spring_field,
    points=30,
    radius=(0.1, 1.0),
    units=("m", "kg*m/s"),
    law="q**2 + p**2",
)
PENDULUM = HamiltonianSystem(
    name="pendulum",
    hamiltonian=lambda q, p: 3.0 * (1.0 - np.cos(q)) + p**2,
    vector_field=_pendulum_field,
    points=45,
    radius=(1.3, 2.3),
    units=("rad", "kg*m**2/s"),
    law="p**2 - 3*cos(q)",
)
