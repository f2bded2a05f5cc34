"""The scores that need no variety of levels (``discovery.contrast``): against closed-form truths and a slow,
obvious per-point version."""

import numpy as np
import torch

from noether.discovery.contrast import STEP, DerivativeContrast, ShuffleContrast, coordinate_shuffled
from noether.discovery.score import sequence_index

M, L = 4, 50


def _pendulum(noise: float = 0.0, seed: int = 0):
    """Clean pendulum states (q, p) of H = p^2 - 3 cos q on M windows, with their exact dx/dt = (2p, -3 sin q)."""
    t = np.linspace(0, 12, M * L)
    q0 = 1.2
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda _, y: [2 * y[1], -3 * np.sin(y[0])], (0, 12), [q0, 0.0], t_eval=t, rtol=1e-12, atol=1e-12)
    x = sol.y.T + noise * np.random.default_rng(seed).standard_normal((M * L, 2))
    dx = np.stack([2 * sol.y[1], -3 * np.sin(sol.y[0])], 1)
    return torch.as_tensor(x), torch.as_tensor(dx)


def _energy(x):
    return x[..., 1] ** 2 - 3 * torch.cos(x[..., 0])


def test_shuffle_keeps_each_coordinates_values_per_sequence_and_scores_one_coordinate_functions_a_half():
    x, _ = _pendulum()
    lengths = np.full(M, L)
    shuffled = coordinate_shuffled(x, lengths, seed=3)
    for s in range(M):
        block = slice(s * L, (s + 1) * L)
        for j in range(2):
            assert torch.equal(torch.sort(shuffled[block, j]).values, torch.sort(x[block, j]).values)
    assert not torch.equal(shuffled, x)
    contrast = ShuffleContrast(x, lengths, sequence_index(M, L), seed=0)
    for g in (lambda z: torch.sin(3 * z[..., 0]), lambda z: z[..., 1] ** 3):
        torch.testing.assert_close(
            contrast.score(g(contrast.true_points)[None]), torch.tensor([0.5], dtype=torch.float64)
        )
    assert float(contrast.score(_energy(contrast.true_points)[None])) < 1e-12


def test_derivative_score_is_the_mean_squared_cosine_of_a_plain_per_point_loop():
    x, dx = _pendulum(noise=0.01)
    contrast = DerivativeContrast(x, np.full(M, L), sequence_index(M, L), seed=0, dxdt=dx)

    def g(z):
        return torch.sin(z[..., 0]) * z[..., 1] + z[..., 1] ** 2  # any smooth non-conserved law

    fast = float(contrast.score(g(contrast.true_points)[None]))
    spread = x.std(0)
    cos2 = []
    for xi, vi in zip(x, dx):  # the analytic gradient in coordinates scaled by each state's spread
        grad = torch.stack([torch.cos(xi[0]) * xi[1], torch.sin(xi[0]) + 2 * xi[1]]) * spread
        v = vi / spread
        cos2.append(float((grad @ v) ** 2 / (grad @ grad) / (v @ v)))
    assert abs(fast - np.mean(cos2)) < 1e-5
    assert 0.05 < fast < 1


def test_derivative_score_of_the_conserved_law_is_zero_on_clean_data_and_not_on_its_null():
    x, dx = _pendulum()
    contrast = DerivativeContrast(x, np.full(M, L), sequence_index(M, L), seed=0, dxdt=dx)
    assert float(contrast.score(_energy(contrast.true_points)[None])) < 1e-12
    assert float(contrast.score(_energy(contrast.null_points)[None])) > 0.1
    # exactness is read from the spread: variance along the data over the squared gradient, at round-off here
    assert float(contrast.spread(_energy(contrast.true_points)[None])) < 1e-14


def test_reweighted_forms_give_the_score():
    """With w_i = 1 / |grad g|_i^2 the forms' quotient a^T A a / a^T B a is the score (what ``contrast_fit._solve``
    iterates to)."""
    x, dx = _pendulum(noise=0.01)
    contrast = DerivativeContrast(x, np.full(M, L), sequence_index(M, L), seed=0, dxdt=dx)
    pts = contrast.true_points
    feats = torch.stack([pts[:, 1] ** 2, torch.cos(pts[:, 0]), pts[:, 0] * pts[:, 1]])[None]  # [1, 3, P]
    a = torch.tensor([1.0, -2.0, 0.3], dtype=torch.float64)
    values = (a[:, None] * feats[0]).sum(0)[None]
    weights = 1 / contrast.gradient_norms(values)
    big_a, big_b = contrast.forms(feats, weights)
    quotient = (a @ big_a[0] @ a) / (a @ big_b[0] @ a)
    assert abs(float(quotient) - float(contrast.score(values))) < 1e-9
    assert STEP < 1e-3
