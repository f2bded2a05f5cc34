"""Score, exact solver, gradient fitter, null and independence on hand-made features (no DSL needed)."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from noether import load_system
from noether.discovery.evaluator import SpaceEvaluator
from noether.discovery.fit_exact import CONSTANT, DIVERGED, OK, solve_pencil
from noether.discovery.fit_gradient import GradientConfig, fit_gradient
from noether.discovery.independence import independent_set, state_gradients
from noether.discovery.null import AcceptanceRule, ratio_of, shuffled_index
from noether.discovery.score import (
    conservation_score,
    scatter_matrices,
    sequence_index,
    sequences,
    white_noise_variance,
    white_scatter,
    within_variance,
)


def pendulum(noise=0.0):
    seq = torch.tensor(sequences(load_system("pendulum", noise=noise)))
    m, length, d = seq.shape
    x = seq.reshape(-1, d)
    return x[:, 0], x[:, 1], sequence_index(m, length)


def slow_score(values, index):
    """S by a plain loop over sequences."""
    out = []
    for row in values.numpy():
        within = sum(((row[s] - row[s].mean()) ** 2).sum() for s in index.numpy())
        out.append(within / ((row - row.mean()) ** 2).sum())
    return np.array(out)


def test_score_matches_loop_and_is_affine_invariant():
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(5, 60, generator=gen, dtype=torch.float64)
    index = shuffled_index(6, 10, seed=3)
    s = conservation_score(values, index)
    np.testing.assert_allclose(s.numpy(), slow_score(values, index), rtol=1e-12)
    np.testing.assert_allclose(conservation_score(-7.5 * values + 3.0, index).numpy(), s.numpy(), rtol=1e-10)
    assert torch.isnan(conservation_score(torch.full((1, 60), 2.5, dtype=torch.float64), index)).all()
    assert torch.isnan(conservation_score(torch.zeros(1, 60, dtype=torch.float64), index)).all()


def test_scatter_matrices_reproduce_the_score():
    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(4, 3, 60, generator=gen, dtype=torch.float64)
    a = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    index = sequence_index(6, 10)
    w, t = scatter_matrices(feats, index)
    g = torch.einsum("nk,nkx->nx", a, feats)
    ratio = torch.einsum("nk,nkj,nj->n", a, w, a) / torch.einsum("nk,nkj,nj->n", a, t, a)
    np.testing.assert_allclose(ratio.numpy(), conservation_score(g, index).numpy(), rtol=1e-10)
    d = white_scatter(feats, index)
    np.testing.assert_allclose(
        torch.einsum("nk,nkj,nj->n", a, d, a).numpy(), white_noise_variance(g, index).numpy(), rtol=1e-10
    )


@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_exact_solver_finds_the_pendulum_energy_and_the_global_minimum(noise):
    q, p, index = pendulum(noise)
    one, zero = torch.ones_like(q), torch.zeros_like(q)
    feats = torch.stack(
        [
            torch.stack([p**2, torch.cos(q), zero]),  # p² + c0 cos q      -> c0 = -3
            torch.stack([torch.cos(q), p**2, one]),  # cos q + c0 p² + c1 -> c0 = -1/3
            torch.stack([zero, p * q, zero]),  # c0 p q: scale-free
            torch.stack([one, one, zero]),  # constant
            torch.stack([q, q, p]),  # q + c0 q + c1 p
        ]
    )
    n_params = torch.tensor([1, 2, 1, 1, 2])
    w, t = scatter_matrices(feats, index)
    fit = solve_pencil(w, t, n_params)
    assert fit.status.tolist() == [OK, OK, OK, CONSTANT, OK]
    tol = 1e-6 if noise == 0 else 0.02
    assert fit.params[0, 0].item() == pytest.approx(-3.0, rel=tol)
    assert fit.params[1, 0].item() == pytest.approx(-1 / 3, rel=tol)
    g = feats[:, 0] + torch.einsum("nk,nkx->nx", fit.params, feats[:, 1:])
    s = conservation_score(g, index)
    ok = fit.status == OK
    np.testing.assert_allclose(fit.score[ok].numpy(), s[ok].numpy(), rtol=1e-7, atol=1e-14)
    if noise == 0:
        assert fit.score[0] < 1e-12
    # no parameter value does better than the eigen-solution (random probes around it)
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        c = fit.params + 0.3 * torch.randn(fit.params.shape, generator=gen, dtype=torch.float64)
        c = c * (torch.arange(2)[None] < n_params[:, None])
        g = feats[:, 0] + torch.einsum("nk,nkx->nx", c, feats[:, 1:])
        s_probe = conservation_score(g, index)
        assert (s_probe[ok] >= fit.score[ok] - 1e-12).all()


def test_exact_solver_flags_parameters_at_infinity():
    q, p, index = pendulum(0.0)
    # q² + c0 (p² - 3 cos q): the conserved direction needs c0 -> infinity
    feats = torch.stack([torch.stack([q**2, p**2 - 3 * torch.cos(q)])])
    fit = solve_pencil(*scatter_matrices(feats, index), torch.tensor([1]))
    assert fit.status.tolist() == [DIVERGED]
    assert torch.isnan(fit.score).all()


def test_gradient_fitter_recovers_nonlinear_parameters_and_agrees_with_exact():
    q, p, index = pendulum(0.0)

    def evaluate(c):
        v = torch.stack(
            [
                p**2 + c[0, 0] * torch.cos(c[0, 1] * q),  # -> (-3, ±1)
                p**2 + c[1, 0] * torch.cos(q),  # affine: compare with the exact solver
                torch.sin(c[2, 0] * q) + p,  # nothing conserved
                1.0 / (q - c[3, 0]),  # poles: must stay finite-masked, not crash
            ]
        )
        return v, torch.isfinite(v).all(1)

    fit = fit_gradient(evaluate, torch.tensor([2, 1, 1, 1]), index, config=GradientConfig(), max_params=2)
    assert fit.params[0, 0].item() == pytest.approx(-3.0, rel=1e-5)
    assert abs(fit.params[0, 1].item()) == pytest.approx(1.0, rel=1e-5)
    assert fit.params[1, 0].item() == pytest.approx(-3.0, rel=1e-6)
    assert fit.params[1, 1].item() == 0.0 and fit.params[2, 1].item() == 0.0
    assert fit.score[0] < 1e-10 and fit.score[1] < 1e-10 and fit.score[2] > 0.5
    assert fit.converged[:2].all()
    feats = torch.stack([torch.stack([p**2, torch.cos(q)])])
    exact = solve_pencil(*scatter_matrices(feats, index), torch.tensor([1]))
    assert fit.score[1].item() <= exact.score[0].item() + 1e-12


def test_random_sequences_are_a_permutation_and_destroy_conservation():
    q, p, index = pendulum(0.0)
    m, length = index.shape
    rand = shuffled_index(m, length, seed=0)
    assert sorted(rand.flatten().tolist()) == list(range(m * length))
    assert torch.equal(rand, shuffled_index(m, length, seed=0))
    h = (p**2 - 3 * torch.cos(q))[None]
    s_true, s_rand = conservation_score(h, index), conservation_score(h, rand)
    assert s_true < 1e-12 and s_rand > 0.9
    assert ratio_of(np.array([0.0, 0.1, np.nan]), np.array([0.9, 0.9, 0.9])).tolist()[:2] == [np.inf, 9.0]


def test_noise_floor_tells_noisy_conservation_from_drift():
    q, p, index = pendulum(0.1)
    h = (p**2 - 3 * torch.cos(q))[None]
    excess = within_variance(h, index) / white_noise_variance(h, index)
    assert 0.8 < excess.item() < 1.25
    drift = (p**2 - 3 * torch.cos(q) + 0.5 * q)[None]  # not conserved: q oscillates along each trajectory
    assert (within_variance(drift, index) / white_noise_variance(drift, index)).item() > 2


def test_acceptance_rules():
    rule = AcceptanceRule()
    s_true = np.array([1e-6, 0.1, 0.1, 0.5, np.nan, 0.1])
    s_rand = np.full(6, 0.95)
    excess = np.array([50.0, 1.0, 3.0, 1.0, 1.0, 1.0])
    acc, why = rule.decide(s_true, s_rand, excess, [None] * 5 + ["parameters diverge"])
    assert acc.tolist() == [True, True, False, False, False, False]
    assert why[5] == "parameters diverge" and why[0] is None and "drifts" in why[2]
    fixed, _ = AcceptanceRule(min_ratio=100).decide(s_true, s_rand, excess, [None] * 6)
    assert fixed.tolist() == [True, False, False, False, False, False]
    with pytest.raises(ValueError):
        AcceptanceRule(min_ratio=0.5)


def test_independence_counts_invariants_of_a_2d_oscillator():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(300, 4, generator=gen, dtype=torch.float64)  # (q1, q2, p1, p2)

    def e1(s):
        return s[:, 0] ** 2 + s[:, 2] ** 2

    def e2(s):
        return s[:, 1] ** 2 + s[:, 3] ** 2

    def ang(s):
        return s[:, 0] * s[:, 3] - s[:, 1] * s[:, 2]

    laws = [
        lambda s: e1(s) + e2(s),
        lambda s: (e1(s) + e2(s)) ** 2,
        e1,
        lambda s: 3 * e1(s) - 1,
        ang,
        e2,
        lambda s: torch.sin(ang(s)),
    ]
    grads = [state_gradients(f, x) for f in laws]
    assert independent_set(grads) == [0, 2, 4]
    assert independent_set(grads, max_rank=4) == [0, 2, 4]  # e2 = H - e1 and sin(L) add nothing
    assert independent_set([]) == []
    # a 1-D pendulum: H and functions of it count once
    x2 = x[:, :2]
    h = [lambda s: s[:, 1] ** 2 - 3 * torch.cos(s[:, 0]), lambda s: (s[:, 1] ** 2 - 3.01 * torch.cos(s[:, 0])) ** 2]
    assert independent_set([state_gradients(f, x2) for f in h]) == [0]


def _pendulum_space_evaluator(restrictable: bool, counter: list):
    """The pendulum's depth-5 non-affine candidates as a fit_gradient evaluator (optionally restrictable), counting
    the candidate-rows it evaluates."""
    from noether.dsl import space_for

    traj = load_system("pendulum", noise=0.1)
    space = space_for(traj, depth=5)
    sub = space.subset(np.flatnonzero(~space.linear & (space.n_params > 0)))
    seq = torch.tensor(sequences(traj))
    m, length, d = seq.shape
    x = seq.reshape(-1, d)

    @dataclass(frozen=True, eq=False)
    class Counting(SpaceEvaluator):  # restricts itself like the filter's evaluator, counting the rows it evaluates
        def __call__(self, c):
            counter[0] += len(self.space)
            return super().__call__(c)

    def plain(c):  # the same evaluations, but nothing to restrict
        counter[0] += len(sub)
        ev = sub.evaluate(x, c)
        return ev.values, ev.finite

    evaluate = Counting(sub, x, 512) if restrictable else plain
    return evaluate, torch.as_tensor(sub.n_params), sequence_index(m, length), int(space.max_params)


def test_newton_sets_converged_candidates_aside_without_changing_the_others():
    plain, rows_plain = [0], [0]
    compact, rows_compact = [0], [0]
    evaluate, n_params, index, k = _pendulum_space_evaluator(False, rows_plain)
    plain[0] = fit_gradient(evaluate, n_params, index, max_params=k)
    evaluate, n_params, index, k = _pendulum_space_evaluator(True, rows_compact)
    compact[0] = fit_gradient(evaluate, n_params, index, max_params=k)
    a, b = plain[0], compact[0]
    both = torch.isfinite(a.score) & torch.isfinite(b.score)
    assert bool((torch.isfinite(a.score) == torch.isfinite(b.score)).all())
    # a converged candidate set aside stops where it converged: S within the convergence tolerance of going on
    rel = (b.score[both] - a.score[both]).abs() / a.score[both].clamp_min(1e-12)
    assert float(torch.quantile(rel, 0.99)) < 1e-3
    assert rows_compact[0] < 0.7 * rows_plain[0]  # and far fewer candidate evaluations


def test_giving_up_stops_hopeless_fits_and_leaves_the_promising_ones():
    rows = [0]
    evaluate, n_params, index, k = _pendulum_space_evaluator(True, rows)
    full = fit_gradient(evaluate, n_params, index, max_params=k)
    rows_full, rows[0] = rows[0], 0
    bound = 0.8  # about the lowest quarter of S here (the filter's bound, 1/3, is below every depth-5 candidate)
    quick = fit_gradient(evaluate, n_params, index, max_params=k, config=GradientConfig(give_up=bound))
    assert rows[0] < rows_full
    promising = torch.isfinite(full.score) & (full.score < bound)
    assert int(promising.sum()) > 0
    # the same fits, up to where a converged one was set aside (within the convergence tolerance, as above)
    assert torch.allclose(quick.score[promising], full.score[promising], rtol=1e-3, atol=1e-12)
    # every candidate the rule could accept is still below the bound, and none above it fell below
    assert bool(((quick.score < bound) == (full.score < bound))[torch.isfinite(full.score)].all())
    with pytest.raises(ValueError, match="give_up"):
        GradientConfig(give_up=-1)
