"""Relative coordinates: a translation-invariant term family that reaches the two-body Runge-Lenz vector, and
clear errors for coordinates that are not differences of like states."""

import numpy as np
import pytest
import sympy

from noether.discovery.composite import CompositeConfig, composite_laws
from noether.discovery.composite.inputs import named_inputs
from noether.discovery.composite.relative import relative_inputs
from noether.dsl import Law
from noether.systems import Trajectories, load_system
from noether.systems.registry import SYSTEMS
from noether.units import parse_unit

RELATIVE = {"rx": "x1 - x2", "ry": "y1 - y2", "rvx": "vx1 - vx2", "rvy": "vy1 - vy2"}
R = "sqrt((x1 - x2)**2 + (y1 - y2)**2)"


def _toy(units=("m", "m", "s")) -> Trajectories:
    states = np.random.default_rng(0).normal(size=(3, 10, 3))
    return Trajectories(
        states=states,
        times=np.tile(np.arange(10) * 0.1, (3, 1)),
        names=("a", "b", "c"),
        units=tuple(parse_unit(u) for u in units),
    )


def _derived(traj, texts: dict[str, str]):
    x = traj.states.reshape(-1, traj.dim)
    return x, named_inputs(traj, x, tuple(texts.items()))


def test_the_family_holds_the_differences_and_only_the_derived_inputs_that_ignore_a_shift():
    traj = _toy()
    x, derived = _derived(traj, {"d2": "(a - b)**2", "s": "a + b", "cc": "c"})
    names, units, values, back = relative_inputs(traj, x, (("dab", "a - b"),), derived)
    assert names == ["dab", "d2", "cc"]  # a + b moves when a and b shift together; c is not in any pair
    np.testing.assert_allclose(values[:, 0], x[:, 0] - x[:, 1])
    np.testing.assert_allclose(values[:, 1], (x[:, 0] - x[:, 1]) ** 2)
    assert str(back[sympy.Symbol("dab")]) == "a - b"


@pytest.mark.parametrize(
    "text, message",
    [("a + b", "difference of two states"), ("2*a - b", "difference"), ("a - c", "unit"), ("a -", "cannot read")],
)
def test_a_coordinate_that_is_not_a_difference_of_like_states_is_refused(text, message):
    traj = _toy()
    x, derived = _derived(traj, {"cc": "c"})
    with pytest.raises(Exception, match=message):
        relative_inputs(traj, x, (("d", text),), derived)


def test_a_coordinate_may_not_take_a_state_name():
    traj = _toy()
    x, derived = _derived(traj, {"cc": "c"})
    with pytest.raises(ValueError, match="name of a state"):
        relative_inputs(traj, x, (("a", "a - b"),), derived)


def test_the_relative_family_reaches_the_two_body_runge_lenz_vector():
    traj = load_system("two-body", noise=0.0).select(list(range(10)) + list(range(40, 50)))
    config = CompositeConfig(
        derived={"r": R},
        relative=RELATIVE,
        relative_products=3,
        term_depth=2,
        max_terms=3,
        beam=8,
        paths=2,
        ops=("mul", "div", "square"),
    )
    res = composite_laws(traj, config)
    conserved = [law.law for law in res.laws if law.verdict == "conserved"]
    x = traj.split()[1].states.reshape(-1, traj.dim)  # fresh states
    for truth in SYSTEMS["two-body"].laws[5:]:  # the Runge-Lenz vector's two components
        ref = Law.reference(truth, traj.names).numpy(x)
        assert max(abs(np.corrcoef(law.numpy(x), ref)[0, 1]) for law in conserved) > 0.999, truth
    assert all(set(law.law.names) == set(traj.names) for law in res.laws)  # rx, r, ... substituted back
