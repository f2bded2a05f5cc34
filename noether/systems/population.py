"""The Lotka-Volterra predator-prey model with its conserved quantity V (populations and time dimensionless)."""

from __future__ import annotations

import numpy as np

from .simulated import SimulatedSystem

ALPHA, BETA, GAMMA, DELTA = 1.0, 0.5, 1.5, 0.75  # prey growth, predation, predator death, predator growth
# V = delta x - gamma log x + beta y - alpha log y
LOTKA_VOLTERRA_LAW = f"{DELTA:g}*x - {GAMMA:g}*log(x) + {BETA:g}*y - {ALPHA:g}*log(y)"


def _lotka_volterra_field(s: np.ndarray) -> np.ndarray:
    """dx/dt = alpha x - beta x y (prey), dy/dt = delta x y - gamma y (predators): s = (x, y)."""
    x, y = s
    return np.stack([ALPHA * x - BETA * x * y, DELTA * x * y - GAMMA * y])


def _lotka_volterra_initial(rng: np.random.RandomState) -> np.ndarray:
    """Both populations ~ U[0.5, 4] around the equilibrium (gamma/delta, alpha/beta) = (2, 2)."""
    return rng.uniform(0.5, 4.0, 2)


LOTKA_VOLTERRA = SimulatedSystem(
    name="lotka-volterra",
    description=f"predator-prey, alpha={ALPHA:g} beta={BETA:g} gamma={GAMMA:g} delta={DELTA:g}",
    names=("x", "y"),
    units=("", ""),
    vector_field=_lotka_volterra_field,
    initial=_lotka_volterra_initial,
    t_end=15.0,
    points=100,
    laws=(LOTKA_VOLTERRA_LAW,),
    independent=1,
    constants=(("alpha", ALPHA), ("beta", BETA), ("gamma", GAMMA), ("delta", DELTA)),
)
