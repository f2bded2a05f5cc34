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
import scipy.spatial

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
    return set(partners(traj, role_corr))


def partners(traj: Trajectories, role_corr: float) -> dict[str, str]:
    """Each position-like state -> the state its derivative is most proportional to (its velocity)."""
    points = _points(traj)
    if points is None:
        return {}
    x, dx = points
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.nan_to_num(np.abs(np.corrcoef(dx.T, x.T)[: traj.dim, traj.dim :]))  # [i, j]: dx_i/dt against x_j
    moves = corr >= role_corr
    np.fill_diagonal(moves, False)
    # dx_i/dt ~ x_j and dx_j/dt ~ x_i (a harmonic rotation: q, p of a spring) leaves the roles undecided
    one_way = moves & ~moves.T
    best = np.argmax(np.where(one_way, corr, -1), axis=1)
    return {traj.names[i]: traj.names[int(best[i])] for i in range(traj.dim) if one_way[i].any()}


def _points(traj: Trajectories) -> tuple[np.ndarray, np.ndarray] | None:
    """The finite training states and derivatives [N, d], or None (no time, or under 3 points)."""
    try:
        x, dx = traj.points("train")
    except (NoetherError, ValueError):
        return None
    x, dx = x.reshape(-1, traj.dim), dx.reshape(-1, traj.dim)
    ok = np.isfinite(x).all(1) & np.isfinite(dx).all(1)
    return (x[ok], dx[ok]) if ok.sum() >= 3 else None


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


def auto_relative(traj: Trajectories, config: AutoInputs = AutoInputs()) -> tuple[tuple[tuple[str, str], ...], str]:
    """Relative coordinates of two bodies, from the data: ((name, 'a - b'), ...) and the distance between them
    (``sqrt((a - b)**2 + (c - e)**2)``), or ((), '') when there is no such pair.

    Candidates: two disjoint pairs (a, b), (c, e) of Cartesian positions of one unit (a - b, c - e the components
    of one separation), with their velocities' differences (``partners``). A system invariant under translating
    both bodies together moves its relative coordinates by a law of their own: their derivatives are a function
    of them. The candidate whose derivatives its nearest neighbours predict best (``closure``) is chosen; a
    pairing that mixes the axes (x1 - y1) is not closed. None when ``distance`` is switched off."""
    if "distance" not in config.families:
        return (), ""
    points = _points(traj)
    velocity = partners(traj, config.role_corr)
    if points is None:
        return (), ""
    units = dict(zip(traj.names, (str(u) for u in traj.units)))
    cart = [n for n in traj.names if n in velocity and units[n] != "radian"]
    pairs = [(a, b) for a, b in combinations(cart, 2) if units[a] == units[b]]
    pairs = [(a, b) for a, b in pairs if units[velocity[a]] == units[velocity[b]]]
    options = [(p, q) for p, q in combinations(pairs, 2) if len({*p, *q}) == 4 and units[p[0]] == units[q[0]]]
    if not options:
        return (), ""
    column = {n: i for i, n in enumerate(traj.names)}

    def coords(option) -> list[tuple[str, str]]:
        return [*option, *((velocity[a], velocity[b]) for a, b in option)]

    scores = [closure(*points, [(column[a], column[b]) for a, b in coords(option)]) for option in options]
    (a, b), (c, e) = best = options[int(np.argmin(scores))]
    relative = tuple((f"d_{p}_{q}", f"{p} - {q}") for p, q in coords(best))
    return relative, f"sqrt(({a} - {b})**2 + ({c} - {e})**2)"


def closure(x: np.ndarray, dx: np.ndarray, differences: list[tuple[int, int]], k: int = 8) -> float:
    """How far the differences x_a - x_b of the states [N, d] fail to move by a law of their own: the variance
    of their derivatives left after averaging their k nearest neighbours' (in the standardised differences),
    over the derivatives' variance, averaged over the differences (0: closed; about 1: not at all)."""
    pick = slice(None, None, max(1, len(x) // 2000))
    a, b = (np.array(i) for i in zip(*differences))
    r, dr = (x[pick, a] - x[pick, b]), (dx[pick, a] - dx[pick, b])
    r = r / np.maximum(r.std(0), 1e-300)
    _, near = scipy.spatial.cKDTree(r).query(r, k=k + 1)
    left = dr - dr[near[:, 1:]].mean(1)
    return float(np.mean(left.var(0) / np.maximum(dr.var(0), 1e-300)))
