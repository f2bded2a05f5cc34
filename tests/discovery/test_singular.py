"""Forms constant on the data's level set only (``discovery.singular``): a 0/0 on the data is caught, a smooth law
is not, whatever its units."""

import numpy as np
import torch

from noether.discovery.contrast import DerivativeContrast
from noether.discovery.score import sequence_index
from noether.discovery.singular import gradient_range, singular
from noether.dsl import space_for
from noether.systems import Trajectories
from noether.units import parse_unit

M, L = 4, 100


def _circle(scale: float = 1.0) -> tuple[Trajectories, torch.Tensor, torch.Tensor]:
    """One orbit on q^2 + p^2 = scale^2 (q = scale cos t, p = -scale sin t) with its exact dx/dt = (p, -q)."""
    t = np.linspace(0, 25, M * L)
    x = scale * np.stack([np.cos(t), -np.sin(t)], 1)
    traj = Trajectories(states=x[None], times=t[None], names=("q", "p"), units=(parse_unit("m"),) * 2)
    return traj, torch.as_tensor(x), torch.as_tensor(np.stack([x[:, 1], -x[:, 0]], 1))


def test_gradient_range_is_max_over_median_of_a_plain_loop():
    norms2 = torch.tensor([[1.0, 4.0, 9.0, 16.0, 400.0]], dtype=torch.float64)
    expected = max(np.sqrt([1, 4, 9, 16, 400])) / np.median(np.sqrt([1, 4, 9, 16, 400]))
    assert abs(float(gradient_range(norms2)) - expected) < 1e-12


def test_a_zero_over_zero_form_is_singular_and_the_level_law_is_not():
    for scale in (1.0, 30.0):  # the yardstick is relative: the same verdicts in other units
        traj, x, dx = _circle(scale)
        contrast = DerivativeContrast(x, np.full(M, L), sequence_index(M, L), seed=0, dxdt=dx)
        assert abs(contrast.speed_range - 1) < 1e-2  # uniform motion (the spread differs a little per state)
        space = space_for(traj, depth=7)
        texts = ("q**2 + p**2", "(c0 + q**2) / p**2", "q**2 + c0 * p**2", "q**2 * (c0 + p**2)")
        idx = np.array([space.index(t) for t in texts])
        params = np.zeros((len(idx), int(space.max_params)))
        params[1, 0], params[2, 0], params[3, 0] = -(scale**2), 1.0, scale**2
        flags = singular(space.subset(idx), params, contrast, memory_mb=64)
        # (q^2 - r^2)/p^2 = -1 on the circle, a 0/0 where p crosses 0; the others are smooth on it (the last is
        # not conserved, and is not this test's business)
        assert flags.tolist() == [False, True, False, False]


def test_the_speed_range_is_that_of_the_scaled_derivatives():
    _, x, dx = _circle()
    fast = dx * torch.linspace(1, 5, M * L, dtype=torch.float64)[:, None]  # the same orbit, speeding up
    contrast = DerivativeContrast(x, np.full(M, L), sequence_index(M, L), seed=0, dxdt=fast)
    speed = (fast / x.std(0)).norm(dim=-1)
    assert abs(contrast.speed_range - float(speed.max() / speed.median())) < 1e-9
    assert 1.5 < contrast.speed_range < 2  # 5 over the median 3
