"""Derived inputs chosen from the data and its units alone: the composite library's default extra inputs.

A user with new data does not know that Kepler's energy needs a radius or the double pendulum's an angle
difference; the units and the data say which such inputs can make sense at all:

- *difference*: ``a - b`` of two like states -- one unit and one role (both positions, both velocities, both
  neither; two angles are always like);
- *distance*: ``sqrt(a**2 + b**2)`` of two position-like states of one unit that are not angles, and
  ``sqrt((a - b)**2 + (c - d)**2)`` of two disjoint differences of them (a Euclidean norm needs Cartesian
  coordinates; a periodic angle is none);
- *log*: ``log(a)`` of a dimensionless, non-angle state that stays positive on the data (a population);
- *angle*: ``cos`` and ``sin`` of each difference of two angle-typed states (radian units).

A state is position-like when its time derivative is, to |corr| >= ``role_corr``, proportional to another state
whose own derivative is not proportional to it (dq/dt = p/m, while dp/dt is a force; a harmonic rotation, where
each derivative is the other state, says nothing): a fact of the data, not of a named system. States without
units carry a dimension of their own, share it with no other state and are not dimensionless, so they get none
of these inputs (today's conservative treatment). Each family holds at most ``per_family`` inputs, in state
order, and can be switched off.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ...errors import ConfigError, NoetherError
from ...systems import Trajectories

FAMILIES = ("difference", "distance", "log", "angle")


@dataclass(frozen=True)
class AutoInputs:
    """families: which derived-input families to build (``FAMILIES``; *difference* is off by default: a polynomial
    in a - b lies in the span of the polynomials in a and b, so as a plain input it adds no law, only terms such as
    (a - b)**2 that displace a·b -- differences reach the library inside the distances and the angles);
    per_family: at most this many inputs in each; role_corr: |corr| of a state's derivative with another state
    above which the state is position-like."""

    families: tuple[str, ...] = ("distance", "log", "angle")
    per_family: int = 8
    role_corr: float = 0.99

    def __post_init__(self):
        unknown = sorted(set(self.families) - set(FAMILIES))
        if unknown:
            raise ConfigError(f"unknown derived-input families {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
        if self.per_family < 0 or not 0 < self.role_corr <= 1:
            raise ConfigError(
                f"per_family must be >= 0 and 0 < role_corr <= 1, got {self.per_family}, {self.role_corr}"
            )


def positions(traj: Trajectories, role_corr: float) -> set[str]:
    """The position-like states: each whose derivative is proportional to another state on the training points
    (none for data without time, whose derivatives are unknown)."""
    try:
        x, dx = traj.points("train")
    except (NoetherError, ValueError):
        return set()
    x, dx = x.reshape(-1, traj.dim), dx.reshape(-1, traj.dim)
    ok = np.isfinite(x).all(1) & np.isfinite(dx).all(1)
    x, dx = x[ok], dx[ok]
    if len(x) < 3:
        return set()
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.abs(np.corrcoef(dx.T, x.T)[: traj.dim, traj.dim :])  # [i, j]: dx_i/dt against x_j
    moves = np.nan_to_num(corr) >= role_corr
    np.fill_diagonal(moves, False)
    # dx_i/dt ~ x_j and dx_j/dt ~ x_i (a harmonic rotation: q, p of a spring) leaves the roles undecided
    return {traj.names[i] for i in range(traj.dim) if (moves[i] & ~moves[:, i]).any()}


def auto_derived(traj: Trajectories, x: np.ndarray, config: AutoInputs = AutoInputs()) -> tuple[tuple[str, str], ...]:
    """The derived inputs (name, formula over the states) the data and units allow, family by family; ``x``: the
    states [N, d] they are checked on (positivity for ``log``)."""
    names, units = traj.names, [str(u) for u in traj.units]
    pos = positions(traj, config.role_corr) if {"difference", "distance"} & set(config.families) else set()
    angle = [units[i] == "radian" for i in range(traj.dim)]
    dimensionless = [units[i] == "dimensionless" for i in range(traj.dim)]

    def role(i: int) -> str:
        return "angle" if angle[i] else ("position" if names[i] in pos else "other")

    like = [(a, b) for a, b in combinations(range(traj.dim), 2) if units[a] == units[b] and role(a) == role(b)]
    out: list[tuple[str, str]] = []
    taken = set(names)

    def add(family: str, items: list[tuple[str, str]]) -> None:
        if family not in config.families:
            return
        fresh = [(n, f) for n, f in items if n not in taken][: config.per_family]
        taken.update(n for n, _ in fresh)
        out.extend(fresh)

    add("difference", [(f"d_{names[a]}_{names[b]}", f"{names[a]} - {names[b]}") for a, b in like])
    cart = [i for i in range(traj.dim) if role(i) == "position"]
    pairs = [(a, b) for a, b in combinations(cart, 2) if units[a] == units[b]]
    norms = [(f"r_{names[a]}_{names[b]}", f"sqrt({names[a]}**2 + {names[b]}**2)") for a, b in pairs]
    norms += [
        (
            f"r_{names[a]}{names[b]}_{names[c]}{names[e]}",
            f"sqrt(({names[a]} - {names[b]})**2 + ({names[c]} - {names[e]})**2)",
        )
        for (a, b), (c, e) in combinations(pairs, 2)
        if len({a, b, c, e}) == 4 and units[a] == units[c] and a < c
    ]
    add("distance", norms)
    positive = [i for i in range(traj.dim) if dimensionless[i] and np.all(x[:, i] > 0)]
    add("log", [(f"log_{names[i]}", f"log({names[i]})") for i in positive])
    turns = [(a, b) for a, b in like if angle[a] and angle[b]]
    add(
        "angle",
        [(f"{fn}_{names[a]}_{names[b]}", f"{fn}({names[a]} - {names[b]})") for a, b in turns for fn in ("cos", "sin")],
    )
    return tuple(out)
