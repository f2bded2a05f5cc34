"""The simulated built-in systems against their recorded truth: every law constant along every clean trajectory
and annihilated by the vector field itself, unit-valid, as many independent as recorded; the controls conserve
nothing; sizes, split, seeds and the relative noise."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy

from noether.dsl.law import Law
from noether.errors import UnitError
from noether.systems import SYSTEMS, load_system
from noether.systems.controls import LORENZ, VAN_DER_POL
from noether.systems.mechanics import DOUBLE_PENDULUM, HENON_HEILES, HENON_HEILES_ENERGY, OSCILLATOR_2D, RIGID_BODY
from noether.systems.orbits import KEPLER, KEPLER_LAWS, TWO_BODY, TWO_BODY_LAWS
from noether.systems.population import LOTKA_VOLTERRA
from noether.units import unit_label

CONSERVATIVE = [
    "two-body",
    "kepler",
    "lotka-volterra",
    "henon-heiles",
    "double-pendulum",
    "rigid-body",
    "oscillator-2d",
]
CONTROLS = ["lorenz", "van-der-pol"]
NEW = CONSERVATIVE + CONTROLS
# Integration error: every trajectory within rtol = atol = 1e-10 leaves a law's std along a trajectory at 1e-10 to
# 1e-8 of its spread across trajectories (measured: at most ~5e-9); 1e-6 leaves a 100x margin and is still five
# orders below what any non-conserved quantity shows (the state columns and the controls' candidates: > 1e-2).
TIGHT = 1e-6
LOOSE = 1e-2


SIMULATED = {
    s.name: s
    for s in (
        TWO_BODY,
        KEPLER,
        LOTKA_VOLTERRA,
        HENON_HEILES,
        DOUBLE_PENDULUM,
        RIGID_BODY,
        OSCILLATOR_2D,
        LORENZ,
        VAN_DER_POL,
    )
}


@functools.lru_cache(maxsize=None)
def clean(name: str):
    return load_system(name, noise=0.0)


@functools.lru_cache(maxsize=None)
def compiled(text: str, names: tuple[str, ...]):
    """(g, grad g) as numpy functions of the state columns, from the law's SymPy text (log and sqrt included)."""
    symbols = sympy.symbols(names)
    expr = sympy.sympify(text, locals=dict(zip(names, symbols)))
    assert expr.free_symbols <= set(symbols), f"'{text}' uses a name outside {names}"
    grad = [sympy.diff(expr, s) for s in symbols]
    return sympy.lambdify(symbols, expr, "numpy"), sympy.lambdify(symbols, grad, "numpy")


def values(text: str, names: tuple[str, ...], x: np.ndarray) -> np.ndarray:
    """g at states x [..., d] -> [...]."""
    g, _ = compiled(text, names)
    return np.broadcast_to(g(*np.moveaxis(x, -1, 0)), x.shape[:-1])


def gradients(text: str, names: tuple[str, ...], x: np.ndarray) -> np.ndarray:
    """grad g at states x [..., d] -> [..., d]."""
    _, grad = compiled(text, names)
    return np.stack([np.broadcast_to(c, x.shape[:-1]) for c in grad(*np.moveaxis(x, -1, 0))], axis=-1)


def drift(g: np.ndarray) -> float:
    """g [M, T]: the largest std along one trajectory over the spread of the trajectories' means."""
    return float(g.std(axis=1).max() / g.mean(axis=1).std())


@pytest.mark.parametrize("name", CONSERVATIVE)
def test_every_law_is_constant_along_every_clean_trajectory(name):
    traj = clean(name)
    assert SYSTEMS[name].laws and SYSTEMS[name].independent >= 1
    for law in SYSTEMS[name].laws:
        assert drift(values(law, traj.names, traj.states)) < TIGHT, law
    for j, column in enumerate(traj.names):  # the measure tells: no state column is conserved
        assert drift(traj.states[..., j]) > LOOSE, column


@pytest.mark.parametrize("name", CONSERVATIVE)
def test_the_vector_field_annihilates_every_law(name):
    """dg/dt = grad g . f(x) = 0 exactly (up to rounding), independent of any integration."""
    traj = clean(name)
    f = traj.derivatives
    for law in SYSTEMS[name].laws:
        grad = gradients(law, traj.names, traj.states)
        rate = np.abs((grad * f).sum(-1)) / (np.linalg.norm(grad, axis=-1) * np.linalg.norm(f, axis=-1))
        assert rate.max() < 1e-10, law


@pytest.mark.parametrize(
    "name,candidates",
    [
        ("lorenz", ["x**2 + y**2 + z**2", "x**2 + y**2 + (z - 38)**2", "z - x**2/20", "y**2 + z**2 - 56*z"]),
        ("van-der-pol", ["x**2 + y**2", "x**2/2 + y**2/2 - x**4/12", "x*y"]),
    ],
)
def test_controls_conserve_nothing(name, candidates):
    spec, traj = SYSTEMS[name], clean(name)
    assert spec.laws == () and spec.independent == 0 and spec.true_law is None
    for text in candidates:
        assert drift(values(text, traj.names, traj.states)) > LOOSE, text


@pytest.mark.parametrize("name", NEW)
def test_shapes_split_units_and_exact_derivatives(name):
    sim, traj = SIMULATED[name], clean(name)
    assert traj.states.shape == (50, 100, len(sim.names)) and traj.system == name
    assert traj.names == sim.names
    np.testing.assert_allclose(traj.times, np.broadcast_to(np.linspace(0, sim.t_end, 100), (50, 100)))
    assert traj.train_mask[:25].all() and not traj.train_mask[25:].any()
    assert [unit_label(u) for u in traj.units] == [u or "dimensionless" for u in sim.units]
    np.testing.assert_array_equal(traj.states, traj.clean)
    field = np.stack([sim.vector_field(x) for x in traj.clean.reshape(-1, traj.dim)]).reshape(traj.states.shape)
    np.testing.assert_allclose(traj.derivatives, field, rtol=1e-12, atol=1e-12)  # batched = one state at a time
    assert np.isfinite(traj.states).all()


def test_seed_determines_the_data_and_noise_only_the_observations():
    a, b = load_system("oscillator-2d", seed=3), load_system("oscillator-2d", seed=3)
    np.testing.assert_array_equal(a.states, b.states)
    assert not np.allclose(load_system("oscillator-2d", seed=4).clean, a.clean)
    noisy = load_system("oscillator-2d", noise=0.2, seed=3)
    np.testing.assert_array_equal(noisy.clean, a.clean)
    np.testing.assert_array_equal(noisy.derivatives, a.derivatives)  # exact, at the clean states


def test_noise_is_relative_to_each_columns_spread():
    name = "two-body"  # positions spread ~3x wider than velocities
    traj = load_system(name, noise=0.05)
    scale = traj.clean.reshape(-1, traj.dim).std(axis=0)
    assert scale.max() / scale.min() > 1.5
    ratio = (traj.states - traj.clean).reshape(-1, traj.dim).std(axis=0) / scale
    np.testing.assert_allclose(ratio, 0.05, rtol=0.1)  # 5000 draws per column: ~1% sampling error
    np.testing.assert_allclose(traj.meta["noise_std"], 0.05 * scale)
    assert load_system(name).meta["noise"] == SYSTEMS[name].noise == 0.01
    assert SYSTEMS["spring"].noise == 0.1  # HNN's systems keep their absolute default


@pytest.mark.parametrize("name", CONSERVATIVE)
def test_laws_are_unit_valid_dsl_formulas_equal_to_their_text(name):
    """Law.parse reads every law with the data's units (UnitError otherwise), and the DSL formula evaluates to
    what the SymPy text does."""
    traj = clean(name)
    x = traj.states[:, ::10]
    for text in SYSTEMS[name].laws:
        law = Law.parse(text, traj.names, dict(zip(traj.names, traj.units)))
        np.testing.assert_allclose(law.numpy(x), values(text, traj.names, x), rtol=1e-12, atol=1e-12)


def test_unit_checks_bite_on_the_physical_systems():
    for name, bad in (("double-pendulum", "theta1 + omega1"), ("rigid-body", "omega1 + omega2**2")):
        traj = clean(name)
        with pytest.raises(UnitError):
            Law.parse(bad, traj.names, dict(zip(traj.names, traj.units)))


@pytest.mark.parametrize("name", CONSERVATIVE)
def test_the_oracle_is_the_first_law_and_the_evaluation_can_use_it(name):
    spec = SYSTEMS[name]
    assert spec.true_law == spec.laws[0]
    Law.reference(spec.true_law, clean(name).names)  # as run.py's evaluation reads it


@pytest.mark.parametrize("name", CONSERVATIVE)
def test_independent_is_the_rank_of_the_law_gradients(name):
    """At 25 states of different trajectories the stacked unit gradients have exactly ``independent`` singular
    values well above rounding and the rest at rounding level."""
    spec, traj = SYSTEMS[name], clean(name)
    k = spec.independent
    x = traj.clean[np.arange(0, 50, 2), np.arange(0, 100, 4)]  # [25, d]
    grads = np.stack([gradients(t, traj.names, x) for t in spec.laws], axis=1)  # [25, n_laws, d]
    grads /= np.linalg.norm(grads, axis=-1, keepdims=True)
    s = np.linalg.svd(grads, compute_uv=False)  # [25, min(n_laws, d)]
    assert (s[:, k - 1] > 1e-4).all()
    if s.shape[1] > k:
        assert (s[:, k] < 1e-9).all()


def test_orbits_are_bound_and_in_their_documented_ranges():
    kep = clean("kepler").clean[:, 0]
    energy, ax, ay = (values(t, ("x", "y", "vx", "vy"), kep) for t in (KEPLER_LAWS[0], *KEPLER_LAWS[2:]))
    e = np.hypot(ax, ay)  # |A| / GM is the eccentricity
    assert (energy < 0).all() and e.min() >= 0 and e.max() <= 0.7 and e.max() > 0.5
    two = clean("two-body").clean[:, 0]
    names = clean("two-body").names
    p2 = values(TWO_BODY_LAWS[1], names, two) ** 2 + values(TWO_BODY_LAWS[2], names, two) ** 2
    relative_energy = 2 * values(TWO_BODY_LAWS[0], names, two) - p2 / 2  # E = P^2/4 + E_rel/2
    assert (relative_energy < 0).all()
    h = values(HENON_HEILES_ENERGY, ("x", "y", "px", "py"), clean("henon-heiles").clean[:, 0])
    assert h.min() >= 0.05 and h.max() <= 0.12
    assert np.abs(clean("henon-heiles").clean[..., :2]).max() < 1.0  # inside the well (saddles at distance 1)


def test_every_simulated_system_is_registered_with_its_truth():
    assert set(SIMULATED) == set(NEW) and set(NEW) <= set(SYSTEMS)
    for name, sim in SIMULATED.items():
        spec = SYSTEMS[name]
        assert (spec.laws, spec.independent, spec.noise) == (sim.laws, sim.independent, sim.noise)


def test_existing_specs_keep_their_law():
    assert SYSTEMS["pendulum"].laws == (SYSTEMS["pendulum"].true_law,) and SYSTEMS["pendulum"].independent == 1
    assert SYSTEMS["real-pendulum"].laws == () and SYSTEMS["real-pendulum"].independent is None
