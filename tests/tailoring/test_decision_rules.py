"""The tailoring stage's decisions on each side of their bounds, with answers known by construction: the paired
standard-error verdict of ``Comparison.versus`` and successive halving in ``meta_tailor``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from noether.systems import load_system
from noether.tailoring.compare import Comparison, MethodRun, sem
from noether.tailoring.meta import MetaConfig, meta_tailor
from noether.tailoring.mlp import MLP, params_of
from noether.tailoring.setting import InnerSetting


def comparison(table: dict[str, list[float]]) -> Comparison:
    runs = [
        MethodRun(method, seed, rmse, np.zeros(3), None, False, {})
        for method, values in table.items()
        for seed, rmse in enumerate(values)
    ]
    return Comparison(runs, np.arange(3.0))


def paired(mean: float, spread: float) -> list[float]:
    """RMSEs of a method whose differences from the baseline [1, 1, 1] are mean + (-spread, 0, +spread): their mean
    is ``mean`` and their standard error spread / sqrt(3) (sample standard deviation = spread)."""
    return [1 + mean - spread, 1 + mean, 1 + mean + spread]


def test_standard_error_of_the_mean_is_the_plain_formula():
    assert sem(np.array([1.0, 2.0, 3.0])) == pytest.approx(1 / np.sqrt(3))  # s = 1, n = 3
    assert sem(np.array([4.0])) == 0.0
    assert sem(np.array([1.0, 3.0])) == pytest.approx(1.0)  # two values: s = sqrt(2), / sqrt(2)


@pytest.mark.parametrize(
    "mean, spread, z, verdict",
    [
        # |mean| = 1 against z·se = 2 x 0.8 / sqrt(3) = 0.92: clear; against 2 x 1 / sqrt(3) = 1.15: not
        (-1.0, 0.8, 2.0, "better"),
        (-1.0, 1.0, 2.0, "no clear difference"),
        (1.0, 0.8, 2.0, "worse"),
        (1.0, 1.0, 2.0, "no clear difference"),
        # the same differences judged at z = 1 (se 0.58 < 1) and z = 50 (never clear with any spread)
        (-1.0, 1.0, 1.0, "better"),
        (1.0, 1.0, 1.0, "worse"),
        (-1.0, 0.8, 50.0, "no clear difference"),
        # no spread at all: any difference is clear
        (-1e-3, 0.0, 50.0, "better"),
    ],
)
def test_verdict_is_the_difference_against_z_standard_errors(mean, spread, z, verdict):
    vs = comparison({"mlp": [1.0, 1.0, 1.0], "law": paired(mean, spread)}).versus("mlp", z=z)
    row = vs.iloc[0]
    assert row["verdict"] == verdict
    assert row["difference"] == pytest.approx(mean) and row["se"] == pytest.approx(spread / np.sqrt(3))
    assert row["relative"] == pytest.approx(mean) and row["n"] == 3  # the baseline's mean RMSE is 1


def test_only_seeds_both_methods_ran_are_paired():
    # the law's seed 3 has no baseline run: it is left out (3 pairs), not compared with another seed's baseline
    runs = [MethodRun("mlp", s, 1.0, np.zeros(3), None, False, {}) for s in range(3)]
    runs += [MethodRun("law", s, r, np.zeros(3), None, False, {}) for s, r in enumerate([0.5, 0.5, 0.5, 9.0])]
    row = Comparison(runs, np.arange(3.0)).versus("mlp").iloc[0]
    assert row["n"] == 3 and row["difference"] == pytest.approx(-0.5) and row["verdict"] == "better"


def test_one_seed_says_which_side_without_a_spread():
    assert comparison({"mlp": [1.0], "a": [0.9], "b": [1.1], "c": [1.0]}).versus("mlp").verdict.tolist() == [
        "better (one seed: no spread)",
        "worse (one seed: no spread)",
        "the same (one seed: no spread)",
    ]


# --- successive halving ---------------------------------------------------------------------------------------------


CS = torch.tensor([0.0, 1.0, 3.0, 6.0])


def laws(x):
    """p^2 - c cos q for c in CS: x [4, N, 2] -> [4, N]."""
    return x[..., 1] ** 2 - CS.to(x)[:, None] * torch.cos(x[..., 0])


@pytest.fixture(scope="module")
def tiny():
    """Two training and one test pendulum trajectories and an untrained 16-unit MLP."""
    return load_system("pendulum", seed=0).select([0, 1, 25]), params_of(MLP.seeded(0, 2, 16))


def test_halving_keeps_the_better_half_by_task_loss(tiny):
    """Four candidates: two take no inner step (lr 0: the pretrained MLP itself), two a step of 1000 (the tailored
    prediction is thrown far off, so their task loss is orders of magnitude worse): one halving round keeps the
    two that do not step."""
    traj, mlp = tiny
    cfg = MetaConfig(epochs=2, halving=True, halving_rounds=1, keep_min=1, select=False)
    res = meta_tailor(mlp, traj, laws, [0.0, 1e3, 0.0, 1e3], cfg, inner=InnerSetting.paper())
    first = res.losses[0]
    assert first[[0, 2]].max() * 100 < first[[1, 3]].min()  # the construction: the big steps are far worse
    assert res.active.tolist() == [True, False, True, False]
    assert np.isnan(res.losses[1, [1, 3]]).all() and np.isfinite(res.losses[1, [0, 2]]).all()


@pytest.mark.parametrize("keep_min, kept", [(3, 3), (4, 4)])
def test_halving_never_keeps_fewer_than_keep_min(tiny, keep_min, kept):
    traj, mlp = tiny
    cfg = MetaConfig(epochs=2, halving=True, halving_rounds=1, keep_min=keep_min, select=False)
    res = meta_tailor(mlp, traj, laws, [0.0, 1e3, 0.0, 1e3], cfg, inner=InnerSetting.paper())
    assert res.active.sum() == kept  # half of 4 is 2, below keep_min
    if kept == 3:
        assert res.active[[0, 2]].all()  # the two sane candidates are among the three kept


def test_two_seeds_have_a_spread_and_the_defaults_are_mlp_and_two_standard_errors():
    two = comparison({"mlp": [1.0, 1.0], "law": [0.0, -0.2]}).versus("mlp").iloc[0]  # mean -1.1, se 0.1
    assert two["verdict"] == "better" and two["se"] == pytest.approx(0.1)
    # |mean| 1 against 2 x 0.8 / sqrt(3) = 0.92 (clear) and 3 x 0.8 / sqrt(3) = 1.39 (not): the default z is 2
    assert comparison({"mlp": [1.0, 1.0, 1.0], "law": paired(-1.0, 0.8)}).versus().iloc[0]["verdict"] == "better"
    empty = comparison({"law": [0.1]}).versus()
    assert empty.empty and empty.columns.tolist() == ["method", "difference", "se", "relative", "n", "verdict"]
