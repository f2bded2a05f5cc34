"""Conserved vs approximate (``discovery/drift.py``): a slowly drifting quantity that passes the ratio rule is
labelled approximate, never conserved; conserved laws are conserved on fresh trajectories."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch
from scipy.integrate import solve_ivp

from noether.discovery import DriftRule, FilterConfig, filter_candidates, measure_drift
from noether.discovery.drift import null_excess, trend_pvalue
from noether.dsl import space_for
from noether.systems import Trajectories
from noether.units import parse_unit


def kepler(n: int = 40, seed: int = 0, eccentric: float = 0.02) -> Trajectories:
    """A body around a unit mass (GM = 1) on near-circular orbits: speed = circular speed x (1 + U(-e, e)),
    radius U(0.5, 1.5), 30 steps on t in [0, 3], no noise. r^2 = x^2 + y^2 changes by a few per cent along each
    orbit and by a factor 9 between orbits."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 3, 30)

    def rhs(_, s):
        x, y, vx, vy = s
        r3 = (x * x + y * y) ** 1.5
        return [vx, vy, -x / r3, -y / r3]

    states = []
    for _ in range(n):
        r, phase = rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)
        speed = np.sqrt(1 / r) * (1 + rng.uniform(-eccentric, eccentric))
        s0 = [r * np.cos(phase), r * np.sin(phase), -speed * np.sin(phase), speed * np.cos(phase)]
        states.append(solve_ivp(rhs, (0, 3), s0, t_eval=t, rtol=1e-11, atol=1e-11).y.T)
    units = tuple(parse_unit(u) for u in ("m", "m", "m/s", "m/s"))
    return Trajectories(
        states=np.stack(states), times=np.tile(t, (n, 1)), names=("x", "y", "vx", "vy"), units=units, name="kepler"
    )


def relative_drift(law, traj: Trajectories) -> float:
    """The largest change of a law along any trajectory, relative to its spread over all states."""
    values = law.numpy(traj.states.reshape(-1, traj.dim)).reshape(traj.states.shape[:2])
    return float((values.max(1) - values.min(1)).max() / values.std())


@pytest.fixture(scope="module")
def orbits():
    traj = kepler()
    space = space_for(traj, depth=7, max_params=0)
    return traj, filter_candidates(space, traj, FilterConfig())


def _row(res, expr: str):
    x, y, vx, vy = sympy.symbols("x y vx vy")
    target = sympy.sympify(expr, locals=dict(x=x, y=y, vx=vx, vy=vy))
    for i in res.accepted_indices:
        law = res.space.law(int(i), res.params[i])
        if sympy.simplify(law.sympy() / target).is_number or sympy.simplify(law.sympy() + target) == 0:
            return int(i)
    return None


@pytest.mark.slow
def test_radius_on_near_circular_orbits_passes_the_ratio_rule_but_is_approximate(orbits):
    _, res = orbits
    i = _row(res, "x**2 + y**2")
    assert i is not None, "r^2 should pass the ratio rule here (that is the failure mode)"
    assert res.table.ratio.iloc[i] >= 100
    assert res.verdict(i) == "approximate"
    assert not any("x**2 + y**2" == str(law.expression).replace(" ", "") for law in res.independent)


@pytest.mark.slow
def test_angular_momentum_is_conserved_and_every_conserved_law_holds_on_fresh_orbits(orbits):
    _, res = orbits
    i = _row(res, "x*vy - y*vx")
    assert i is not None and res.verdict(i) == "conserved"
    fresh = kepler(seed=1)
    conserved = [j for j in res.accepted_indices if res.verdict(j) == "conserved"]
    assert conserved and len(conserved) < res.n_accepted
    for j in conserved:
        law = res.space.law(int(j), res.params[j])
        assert relative_drift(law, fresh) <= 1e-6, law.expression
    for j in res.accepted_indices:
        if res.verdict(j) == "approximate":
            assert relative_drift(res.space.law(int(j), res.params[j]), fresh) > 1e-6


@pytest.mark.slow
def test_accept_conserved_rejects_the_approximate_laws_with_a_reason():
    traj = kepler()
    space = space_for(traj, depth=5, max_params=0)
    both = filter_candidates(space, traj, FilterConfig())
    strict = filter_candidates(space, traj, FilterConfig(accept="conserved"))
    approximate = [i for i in both.accepted_indices if both.verdict(i) == "approximate"]
    assert approximate
    assert set(strict.accepted_indices) == set(both.accepted_indices) - set(approximate)
    for i in approximate:
        assert "approximate, not conserved" in strict.table.reason.iloc[i]


def test_white_noise_is_conserved_a_trend_and_excess_variance_are_not():
    gen = torch.Generator().manual_seed(0)
    m, length = 25, 45
    noise = torch.randn(3, m * length, generator=gen, dtype=torch.float64)
    t = torch.arange(length, dtype=torch.float64).repeat(m)
    trend = noise[1] + 0.02 * t  # a slow drift, 0.9 noise sd over a sequence
    wobble = noise[2] + 0.6 * torch.sin(2 * torch.pi * t / length)  # smooth extra variation, no net slope
    values = torch.stack([noise[0], trend, wobble])
    drift = measure_drift(values, length, np.full(3, 0.5))
    assert drift.verdicts == ["conserved", "approximate", "approximate"]
    assert drift.trend_p[1] < 1e-3 and drift.excess[2] > null_excess(m, length, 1e-3)
    assert 0.001 < float(trend_pvalue(values[:1], length)[0])


def test_null_quantile_tightens_with_more_points_and_exact_laws_pass_without_noise():
    assert null_excess(25, 45, 1e-3) < null_excess(5, 45, 1e-3)
    assert 1.0 < null_excess(25, 45, 1e-3) < 1.3
    flat = torch.full((1, 90), 2.0, dtype=torch.float64) + 1e-12 * torch.arange(90, dtype=torch.float64)
    assert measure_drift(flat, 45, np.array([1e-20])).verdicts == ["conserved"]
    with pytest.raises(ValueError, match="alpha"):
        DriftRule(alpha=0)


def test_excess_of_candidates_without_parameters_is_measured():
    """Regression: the filter's within / white-noise variance of a parameter-free affine candidate was 0 (an
    empty coefficient vector), so the noise-aware rule accepted any of them with ratio >= 3."""
    from noether.discovery.score import white_noise_variance, within_variance

    traj = kepler(n=12)
    space = space_for(traj, depth=3, max_params=0)
    res = filter_candidates(space, traj, FilterConfig())
    x = torch.as_tensor(traj.states.reshape(-1, traj.dim))
    values = space.evaluate(x, np.zeros((len(space), 0))).values
    expected = (within_variance(values, 30) / white_noise_variance(values, 30)).numpy()
    fine = np.isfinite(res.table.s_true.to_numpy())
    assert fine.any()
    np.testing.assert_allclose(res.table.excess.to_numpy()[fine], expected[fine], rtol=1e-6)


def test_uneven_white_noise_is_spiky_until_read_in_units_of_its_own_scale():
    from noether.discovery.drift import spikiness
    from noether.discovery.score import Segments

    gen = torch.Generator().manual_seed(1)
    m, length = 25, 45
    scale = torch.exp(2.5 * torch.sin(torch.linspace(0, 40, m * length, dtype=torch.float64)))[None]  # 1/12..12
    values = scale * torch.randn(1, m * length, generator=gen, dtype=torch.float64)
    assert float(spikiness(values, length)[0]) > 4  # a few loud stretches carry the variation
    assert 0.8 < float(spikiness(values, length, scale=scale)[0]) < 1.3  # white, once each point's scale is known
    ragged = Segments.contiguous(np.full(m, length))  # the segment path gives the same
    assert float(spikiness(values, ragged, scale=scale)[0]) == pytest.approx(
        float(spikiness(values, length, scale=scale)[0]), rel=1e-9
    )
    drift = measure_drift(values, length, np.array([0.5]), scale=scale)
    plain = measure_drift(values, length, np.array([0.5]))
    assert plain.only_spiky[0] and drift.verdicts == ["conserved"]
