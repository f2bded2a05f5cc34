"""Gravitational orbits in the plane: HNN's two-body problem and the Kepler problem, bound orbits only.

Units: both are written in natural gravitational units (G = m1 = m2 = 1 for two bodies, GM = 1 for Kepler:
lengths in a reference length r0, times in sqrt(r0^3 / GM)), so every state column is dimensionless and the
laws' numbers are pure numbers.
"""

from __future__ import annotations

import numpy as np

from .simulated import SimulatedSystem

# ---------------------------------------------------------------- two bodies
_R12 = "sqrt((x1 - x2)**2 + (y1 - y2)**2)"
_L12 = "((x1 - x2)*(vy1 - vy2) - (y1 - y2)*(vx1 - vx2))"  # angular momentum of the relative motion
TWO_BODY_LAWS = (
    f"(vx1**2 + vy1**2 + vx2**2 + vy2**2)/2 - 1/{_R12}",  # energy
    "vx1 + vx2",  # momentum, x
    "vy1 + vy2",  # momentum, y
    "x1*vy1 - y1*vx1 + x2*vy2 - y2*vx2",  # angular momentum
    _L12[1:-1],  # relative angular momentum (the centre of mass's own, R x P, is conserved too)
    f"(vy1 - vy2)*{_L12} - 2*(x1 - x2)/{_R12}",  # Runge-Lenz vector of the relative orbit (k = G(m1+m2) = 2), x
    f"-(vx1 - vx2)*{_L12} - 2*(y1 - y2)/{_R12}",  # ... y
)


def _two_body_field(s: np.ndarray) -> np.ndarray:
    """Newtonian gravity between two unit masses (G = 1): s = (x1, y1, x2, y2, vx1, vy1, vx2, vy2)."""
    dx, dy = s[2] - s[0], s[3] - s[1]
    r3 = (dx**2 + dy**2) ** 1.5
    ax, ay = dx / r3, dy / r3  # acceleration of body 1; body 2 feels the opposite
    return np.stack([s[4], s[5], s[6], s[7], ax, ay, -ax, -ay])


def _two_body_initial(rng: np.random.RandomState) -> np.ndarray:
    """HNN's near-circular orbits, widened: each body at r ~ U[0.5, 1.5] from the centre of mass (random angle),
    speed (1 + U[-0.2, 0.2]) x the circular one (eccentricity <= 0.44), random sense of rotation; then the pair's
    centre of mass put at U[-0.5, 0.5]^2 moving with U[-0.1, 0.1]^2 so that momentum and R x P vary."""
    r, angle = rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)
    speed = (1 + rng.uniform(-0.2, 0.2)) / (2 * np.sqrt(r)) * rng.choice([-1.0, 1.0])
    pos = r * np.array([np.cos(angle), np.sin(angle)])
    vel = speed * np.array([-np.sin(angle), np.cos(angle)])
    centre, drift = rng.uniform(-0.5, 0.5, 2), rng.uniform(-0.1, 0.1, 2)
    return np.concatenate([centre + pos, centre - pos, drift + vel, drift - vel])


TWO_BODY = SimulatedSystem(
    name="two-body",
    description="two unit masses under gravity in 2-D, G = 1",
    names=("x1", "y1", "x2", "y2", "vx1", "vy1", "vx2", "vy2"),
    units=("",) * 8,
    vector_field=_two_body_field,
    initial=_two_body_initial,
    t_end=20.0,
    points=100,
    laws=TWO_BODY_LAWS,
    independent=6,
    constants=(("G", 1.0), ("m1", 1.0), ("m2", 1.0)),
)

# ---------------------------------------------------------------- Kepler
_R = "sqrt(x**2 + y**2)"
_L = "(x*vy - y*vx)"
KEPLER_LAWS = (
    f"(vx**2 + vy**2)/2 - 1/{_R}",  # energy (per unit mass)
    _L[1:-1],  # angular momentum
    f"vy*{_L} - x/{_R}",  # Runge-Lenz vector, x
    f"-vx*{_L} - y/{_R}",  # Runge-Lenz vector, y; |A|^2 = 1 + 2 E L^2, so 3 of the 4 are independent
)


def _kepler_field(s: np.ndarray) -> np.ndarray:
    """A body around a fixed centre, GM = 1: s = (x, y, vx, vy)."""
    r3 = (s[0] ** 2 + s[1] ** 2) ** 1.5
    return np.stack([s[2], s[3], -s[0] / r3, -s[1] / r3])


def _kepler_initial(rng: np.random.RandomState) -> np.ndarray:
    """A point of a random bound orbit: semi-major axis a ~ U[0.5, 1.5], eccentricity e ~ U[0, 0.7], periapsis
    direction and true anomaly ~ U[0, 2 pi), random sense of rotation (periods 2 pi a^1.5 in [2.2, 11.5])."""
    a, e = rng.uniform(0.5, 1.5), rng.uniform(0.0, 0.7)
    omega, f = rng.uniform(0, 2 * np.pi, 2)
    p = a * (1 - e**2)
    r = p / (1 + e * np.cos(f))
    pos = r * np.array([np.cos(f), np.sin(f)])
    vel = np.sqrt(1 / p) * np.array([-np.sin(f), e + np.cos(f)])
    turn = np.array([[np.cos(omega), -np.sin(omega)], [np.sin(omega), np.cos(omega)]])
    sense = np.array([1.0, rng.choice([-1.0, 1.0])])  # a mirrored orbit runs the other way round
    return np.concatenate([turn @ pos * sense, turn @ vel * sense])


KEPLER = SimulatedSystem(
    name="kepler",
    description="Kepler orbits, GM = 1, eccentricity in [0, 0.7]",
    names=("x", "y", "vx", "vy"),
    units=("",) * 4,
    vector_field=_kepler_field,
    initial=_kepler_initial,
    t_end=10.0,
    points=100,
    laws=KEPLER_LAWS,
    independent=3,
    constants=(("GM", 1.0),),
)
