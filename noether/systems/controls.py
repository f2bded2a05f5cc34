"""Negative controls: dissipative systems with nothing conserved (the Lorenz attractor and the Van der Pol
oscillator), on which a discovery run should report no law. States and time are dimensionless."""

from __future__ import annotations

import numpy as np

from .simulated import SimulatedSystem

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0  # Lorenz's standard constants
MU = 1.0  # Van der Pol's damping


def _lorenz_field(s: np.ndarray) -> np.ndarray:
    """s = (x, y, z); phase-space volume contracts at the rate sigma + 1 + beta."""
    x, y, z = s
    return np.stack([SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z])


def _lorenz_initial(rng: np.random.RandomState) -> np.ndarray:
    """x, y ~ U[-20, 20], z ~ U[0, 50]: the attractor's box, transients included."""
    return np.concatenate([rng.uniform(-20.0, 20.0, 2), rng.uniform(0.0, 50.0, 1)])


LORENZ = SimulatedSystem(
    name="lorenz",
    description="Lorenz, sigma=10 rho=28 beta=8/3 (control)",
    names=("x", "y", "z"),
    units=("",) * 3,
    vector_field=_lorenz_field,
    initial=_lorenz_initial,
    t_end=5.0,
    points=100,
    laws=(),
    independent=0,
    constants=(("sigma", SIGMA), ("rho", RHO), ("beta", BETA)),
)


def _van_der_pol_field(s: np.ndarray) -> np.ndarray:
    """x'' - mu (1 - x^2) x' + x = 0 as s = (x, y = dx/dt)."""
    x, y = s
    return np.stack([y, MU * (1 - x**2) * y - x])


def _van_der_pol_initial(rng: np.random.RandomState) -> np.ndarray:
    """x, y ~ U[-3, 3]: inside and outside the limit cycle."""
    return rng.uniform(-3.0, 3.0, 2)


VAN_DER_POL = SimulatedSystem(
    name="van-der-pol",
    description="Van der Pol, mu=1 (control)",
    names=("x", "y"),
    units=("", ""),
    vector_field=_van_der_pol_field,
    initial=_van_der_pol_initial,
    t_end=15.0,
    points=100,
    laws=(),
    independent=0,
    constants=(("mu", MU),),
)
