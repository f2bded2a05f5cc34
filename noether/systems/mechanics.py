"""Conservative mechanical systems beyond one degree of freedom: Henon-Heiles, the double pendulum, the free
rigid body and the isotropic 2-D oscillator, each with its true conserved quantities.

Units: the double pendulum and the rigid body carry rad and rad/s (their constants m, l, g and I are physical;
the laws' numbers carry the units the DSL lets parameters carry). Henon-Heiles and the oscillator are in natural
units (unit mass and frequency), so their columns are dimensionless -- which ``x**2 + px**2`` needs.
"""

from __future__ import annotations

import numpy as np

from .simulated import SimulatedSystem

# ---------------------------------------------------------------- Henon-Heiles
HENON_HEILES_ENERGY = "(px**2 + py**2)/2 + (x**2 + y**2)/2 + x**2*y - y**3/3"


def _henon_heiles_potential(x, y):
    return (x**2 + y**2) / 2 + x**2 * y - y**3 / 3


def _henon_heiles_field(s: np.ndarray) -> np.ndarray:
    """s = (x, y, px, py); H = (px^2 + py^2)/2 + V(x, y)."""
    x, y, px, py = s
    return np.stack([px, py, -x - 2 * x * y, -y - x**2 + y**2])


def _henon_heiles_initial(rng: np.random.RandomState) -> np.ndarray:
    """Energy E ~ U[0.05, 0.12] (below the escape energy 1/6, so the orbit stays in the well); position uniform
    in [-0.5, 0.5]^2 where V < E (the well's part of that box), momentum of the remaining energy in a random
    direction."""
    energy = rng.uniform(0.05, 0.12)
    while True:
        x, y = rng.uniform(-0.5, 0.5, 2)
        v = _henon_heiles_potential(x, y)
        if v < energy:
            break
    p, angle = np.sqrt(2 * (energy - v)), rng.uniform(0, 2 * np.pi)
    return np.array([x, y, p * np.cos(angle), p * np.sin(angle)])


HENON_HEILES = SimulatedSystem(
    name="henon-heiles",
    description="Henon-Heiles, energy in [0.05, 0.12] (< 1/6)",
    names=("x", "y", "px", "py"),
    units=("",) * 4,
    vector_field=_henon_heiles_field,
    initial=_henon_heiles_initial,
    t_end=30.0,
    points=100,
    laws=(HENON_HEILES_ENERGY,),
    independent=1,
)

# ---------------------------------------------------------------- double pendulum
G = 9.81  # m/s^2; both bobs 1 kg on massless rods of 1 m
DOUBLE_PENDULUM_ENERGY = (
    f"omega1**2 + omega2**2/2 + omega1*omega2*cos(theta1 - theta2) "
    f"- {2 * G:g}*cos(theta1) - {G:g}*cos(theta2)"
)  # E / (m l^2), in 1/s^2


def _double_pendulum_field(s: np.ndarray) -> np.ndarray:
    """Equal masses m and lengths l (g/l = 9.81 /s^2), angles from the downward vertical:
    s = (theta1, theta2, omega1, omega2)."""
    t1, t2, w1, w2 = s
    d = t1 - t2
    den = 3 - np.cos(2 * d)  # (2 m1 + m2 - m2 cos 2d) / m
    a1 = (-3 * G * np.sin(t1) - G * np.sin(t1 - 2 * t2) - 2 * np.sin(d) * (w2**2 + w1**2 * np.cos(d))) / den
    a2 = 2 * np.sin(d) * (2 * w1**2 + 2 * G * np.cos(t1) + w2**2 * np.cos(d)) / den
    return np.stack([w1, w2, a1, a2])


def _double_pendulum_initial(rng: np.random.RandomState) -> np.ndarray:
    """Angles ~ U[-pi/2, pi/2] rad, angular velocities ~ U[-3, 3] rad/s: from near-regular swings to chaos."""
    return np.concatenate([rng.uniform(-np.pi / 2, np.pi / 2, 2), rng.uniform(-3.0, 3.0, 2)])


DOUBLE_PENDULUM = SimulatedSystem(
    name="double-pendulum",
    description="double pendulum, 1 kg, 1 m, g = 9.81 m/s^2",
    names=("theta1", "theta2", "omega1", "omega2"),
    units=("rad", "rad", "rad/s", "rad/s"),
    vector_field=_double_pendulum_field,
    initial=_double_pendulum_initial,
    t_end=10.0,
    points=100,
    laws=(DOUBLE_PENDULUM_ENERGY,),
    independent=1,
    constants=(("m", 1.0), ("l", 1.0), ("g", G)),
)

# ---------------------------------------------------------------- free rigid body
INERTIA = (1.0, 2.0, 3.0)  # principal moments I1 < I2 < I3, kg m^2
RIGID_BODY_LAWS = (
    "omega1**2/2 + omega2**2 + 3*omega3**2/2",  # kinetic energy (I1 w1^2 + I2 w2^2 + I3 w3^2) / 2, J
    "omega1**2 + 4*omega2**2 + 9*omega3**2",  # |L|^2 = sum (I_k w_k)^2, kg^2 m^4 / s^2
)


def _rigid_body_field(s: np.ndarray) -> np.ndarray:
    """Torque-free Euler equations I1 w1' = (I2 - I3) w2 w3 (and cyclic): s = (omega1, omega2, omega3)."""
    i1, i2, i3 = INERTIA
    w1, w2, w3 = s
    return np.stack([(i2 - i3) / i1 * w2 * w3, (i3 - i1) / i2 * w3 * w1, (i1 - i2) / i3 * w1 * w2])


def _rigid_body_initial(rng: np.random.RandomState) -> np.ndarray:
    """Direction uniform on the sphere (rotations about the first and the third axis, and near the unstable
    second), |omega| ~ U[0.5, 1.5] rad/s."""
    direction = rng.randn(3)
    return direction / np.linalg.norm(direction) * rng.uniform(0.5, 1.5)


RIGID_BODY = SimulatedSystem(
    name="rigid-body",
    description="free rigid body (Euler), I = 1, 2, 3 kg m^2",
    names=("omega1", "omega2", "omega3"),
    units=("rad/s",) * 3,
    vector_field=_rigid_body_field,
    initial=_rigid_body_initial,
    t_end=20.0,
    points=100,
    laws=RIGID_BODY_LAWS,
    independent=2,
    constants=(("I1", INERTIA[0]), ("I2", INERTIA[1]), ("I3", INERTIA[2])),
)

# ---------------------------------------------------------------- isotropic oscillator
OSCILLATOR_LAWS = (
    "x*py - y*px",  # angular momentum
    "x**2 + px**2",  # twice the energy of the x motion
    "y**2 + py**2",  # ... of the y motion
    "x*y + px*py",  # Fradkin tensor, off-diagonal: L^2 + K^2 = (x^2 + px^2)(y^2 + py^2), so 3 are independent
)


def _oscillator_field(s: np.ndarray) -> np.ndarray:
    """H = (px^2 + py^2 + x^2 + y^2) / 2 (unit mass and frequency): s = (x, y, px, py)."""
    x, y, px, py = s
    return np.stack([px, py, -x, -y])


def _oscillator_initial(rng: np.random.RandomState) -> np.ndarray:
    """Every coordinate ~ U[-1, 1]."""
    return rng.uniform(-1.0, 1.0, 4)


OSCILLATOR_2D = SimulatedSystem(
    name="oscillator-2d",
    description="isotropic 2-D oscillator, unit mass and frequency",
    names=("x", "y", "px", "py"),
    units=("",) * 4,
    vector_field=_oscillator_field,
    initial=_oscillator_initial,
    t_end=10.0,
    points=100,
    laws=OSCILLATOR_LAWS,
    independent=3,
)
