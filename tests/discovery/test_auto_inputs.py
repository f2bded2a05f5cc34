"""Derived inputs chosen from the data and its units: positions from the derivatives, a distance only of
Cartesian positions of one unit, log only of positive dimensionless states, nothing for unit-less states."""

import dataclasses

import numpy as np
import pytest

from noether.discovery.composite import composite_search
from noether.discovery.composite.auto import AutoInputs, auto_derived, auto_relative, positions
from noether.discovery.composite.portfolio import default_libraries
from noether.dsl import Law
from noether.errors import ConfigError
from noether.systems import Trajectories
from noether.units import parse_unit, resolve_units


def _planar(units: tuple[str | None, ...] = ("m", "m", "m/s", "m/s")) -> Trajectories:
    """A particle on a circle-ish orbit under a non-linear force (not a built-in system): x, y positions, vx, vy
    their velocities; exact derivatives."""
    t = np.linspace(0, 6, 120)
    rng = np.random.default_rng(1)
    states, derivs = [], []
    for _ in range(6):
        a, w, ph = rng.uniform(0.5, 2), rng.uniform(0.7, 1.5), rng.uniform(0, 6)
        x, y = a * np.cos(w * t + ph) + 0.3, 0.6 * a * np.sin(w * t + ph)
        vx, vy = -a * w * np.sin(w * t + ph), 0.6 * a * w * np.cos(w * t + ph)
        ax, ay = -a * w**2 * np.cos(w * t + ph), -0.6 * a * w**2 * np.sin(w * t + ph)
        states.append(np.stack([x, y, vx, vy], -1))
        derivs.append(np.stack([vx, vy, ax**3, ay + np.sin(3 * x)], -1))  # forces unlike any state
    return Trajectories(
        states=np.array(states),
        times=np.tile(t, (6, 1)),
        names=("x", "y", "vx", "vy"),
        units=resolve_units(("x", "y", "vx", "vy"), dict(zip(("x", "y", "vx", "vy"), units))),
        derivatives=np.array(derivs),
    )


def test_positions_are_the_states_whose_derivative_is_another_state():
    assert positions(_planar(), 0.99) == {"x", "y"}


def test_a_harmonic_rotation_leaves_the_roles_undecided():
    traj = _planar()
    rot = Trajectories(  # dq/dt = p and dp/dt = -q: either could be the position
        states=traj.states[..., [0, 2]],
        times=traj.times,
        names=("q", "p"),
        units=(parse_unit("m"), parse_unit("m")),
        derivatives=np.stack([traj.states[..., 2], -traj.states[..., 0]], -1),
    )
    assert positions(rot, 0.99) == set()


def test_the_distance_is_of_positions_of_one_unit_and_differences_are_off_by_default():
    traj = _planar()
    x = traj.states.reshape(-1, 4)
    assert auto_derived(traj, x) == (("r_x_y", "sqrt(x**2 + y**2)"),)
    with_diff = auto_derived(traj, x, AutoInputs(families=("difference",)))
    assert with_diff == (("d_x_y", "x - y"), ("d_vx_vy", "vx - vy"))  # like: one unit and one role
    assert auto_derived(traj, x, AutoInputs(families=())) == ()


def test_states_without_units_or_of_different_units_get_nothing():
    for units in ((None, None, None, None), ("m", "s", "m/s", "kg")):
        traj = _planar(units)
        assert auto_derived(traj, traj.states.reshape(-1, 4), AutoInputs(families=("difference", "distance"))) == ()


def test_log_only_of_positive_dimensionless_states_and_trig_of_angle_differences():
    traj = _planar(("dimensionless", "rad", "rad", "dimensionless"))
    x = traj.states.reshape(-1, 4).copy()
    x[:, 0] = np.abs(x[:, 0]) + 0.1  # x stays positive; vy changes sign; y is an angle
    assert auto_derived(traj, x, AutoInputs(families=("log",))) == (("log_x", "log(x)"),)
    assert auto_derived(traj, x, AutoInputs(families=("angle",))) == (
        ("cos_y_vx", "cos(y - vx)"),
        ("sin_y_vx", "sin(y - vx)"),
    )


def test_each_family_is_bounded_and_an_unknown_family_is_refused():
    traj = _planar(("dimensionless",) * 4)
    got = auto_derived(traj, traj.states.reshape(-1, 4), AutoInputs(families=("difference",), per_family=2))
    assert len(got) == 2
    with pytest.raises(ConfigError, match="unknown derived-input families radius"):
        AutoInputs(families=("radius",))


def _two_bodies(k: float = 1.7) -> Trajectories:
    """Two bodies in a plane joined by a non-linear spring (force -k·s·|s|, s the separation; not a built-in
    system), states in a shuffled order: body a at (qa, pa) with velocity (ua, wa), body b at (qb, pb)."""
    names = ("qb", "qa", "ub", "ua", "pb", "pa", "wb", "wa")
    import scipy.integrate

    def field(_, z):
        x1, y1, x2, y2, *v = z
        sx, sy = x1 - x2, y1 - y2
        f = -k * np.hypot(sx, sy)
        return [*v, f * sx, f * sy, -f * sx, -f * sy]

    t = np.linspace(0, 5, 80)
    rng = np.random.default_rng(2)
    z = np.stack(
        [
            scipy.integrate.solve_ivp(field, (0, 5), rng.normal(size=8), t_eval=t, rtol=1e-12, atol=1e-12).y.T
            for _ in range(6)
        ]
    )
    dz = np.stack([[field(0, s) for s in run] for run in z])
    order = [2, 0, 6, 4, 3, 1, 7, 5]  # of x1, y1, x2, y2, vx1, vy1, vx2, vy2: the columns the names read
    units = {n: "m/s" if n[0] in "uw" else "m" for n in names}
    return Trajectories(
        states=z[..., order],
        times=np.tile(t, (6, 1)),
        names=names,
        units=resolve_units(names, units),
        derivatives=dz[..., order],
    )


def test_the_relative_coordinates_are_the_pairing_whose_motion_is_closed():
    relative, distance = auto_relative(_two_bodies())
    assert relative == (("d_qb_qa", "qb - qa"), ("d_pb_pa", "pb - pa"), ("d_ub_ua", "ub - ua"), ("d_wb_wa", "wb - wa"))
    assert distance == "sqrt((qb - qa)**2 + (pb - pa)**2)"  # not (qb - pb, qa - pa): that mixes the axes
    assert auto_relative(_planar()) == ((), "")  # one body: no pair of separations
    assert auto_relative(_two_bodies(), AutoInputs(families=("log",))) == ((), "")


def test_two_bodies_get_a_relative_library_that_reaches_their_relative_angular_momentum():
    traj = _two_bodies()
    libraries = dict(default_libraries(traj))
    assert list(libraries) == ["forms", "sums", "relative"]
    relative = libraries["relative"]
    assert relative.derived == (("r_qb_qa_pb_pa", "sqrt((qb - qa)**2 + (pb - pa)**2)"),)
    res = composite_search(traj, dataclasses.replace(relative, max_terms=2))
    conserved = [law for law in res.laws if law.verdict == "conserved"]
    truth = Law.reference("(qb - qa)*(wb - wa) - (pb - pa)*(ub - ua)", traj.names)
    x = traj.states.reshape(-1, traj.dim)
    assert max(abs(np.corrcoef(law.law.numpy(x), truth.numpy(x))[0, 1]) for law in conserved) > 1 - 1e-9
    assert all(len(law.terms) <= 2 for law in res.laws)
