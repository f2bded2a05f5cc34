"""The tailoring stage's decisions on each side of their bounds, with answers known by construction: the paired
standard-error verdict of ``Comparison.versus``, successive halving, Adam's step and the choice of law in ``meta``."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from noether.errors import ConfigError
from noether.systems import load_system
from noether.tailoring.compare import Comparison, MethodRun, sem
from noether.tailoring.law.setting import InnerSetting
from noether.tailoring.meta import (
    MetaConfig,
    adam_step,
    halve,
    halving_epochs,
    kept_rows,
    meta_tailor,
    pick_best,
    subset_laws,
)
from noether.tailoring.mlp import MLP, params_of


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


# --- meta-tailoring's decisions as pure functions: the halving schedule and cut, Adam's step, the chosen law -------


@pytest.mark.parametrize("epochs, rounds", [(100, 2), (100, 1), (10, 3), (7, 6), (5, 1)])
def test_halving_epochs_are_evenly_spaced_inside_the_run(epochs, rounds):
    # cut i of `rounds` after epoch floor(i * epochs / (rounds + 1)): e.g. 100 epochs, 2 rounds -> after 33 and 66
    expected = {i * epochs // (rounds + 1) for i in range(1, rounds + 1)}
    assert halving_epochs(epochs, rounds) == expected
    assert halving_epochs(100, 2) == {33, 66}


ROWS = torch.tensor([0, 2, 5, 7, 9])
TASK = torch.tensor([3.0, float("nan"), 1.0, float("inf"), 2.0])  # ranking: rows 5, 9, 0, then 2 and 7 (non-finite)


@pytest.mark.parametrize(
    "keep_min, kept",
    [
        (1, [0, 5, 9]),  # half of 5, rounded up: the three finite losses
        (2, [0, 5, 9]),
        (3, [0, 5, 9]),
        (4, [0, 2, 5, 9]),  # keep_min above half: the first non-finite one by position (row 2) makes the fourth
        (5, [0, 2, 5, 7, 9]),  # no more than keep_min: all kept
        (6, [0, 2, 5, 7, 9]),
    ],
)
def test_halve_keeps_the_better_half_never_fewer_than_keep_min(keep_min, kept):
    assert halve(ROWS, TASK, keep_min).tolist() == kept


def test_halve_breaks_ties_by_position_and_returns_index_order():
    # many equal losses (an unstable sort reorders ties from about a thousand elements on): the first half is kept
    assert halve(torch.arange(1000), torch.zeros(1000), 1).tolist() == list(range(500))
    assert halve(torch.tensor([0, 1, 3, 4]), torch.ones(4), 1).tolist() == [0, 1]  # all equal: the first two
    assert halve(torch.tensor([1, 3, 6, 8]), torch.tensor([5.0, 1.0, 5.0, 0.5]), 1).tolist() == [3, 8]


def _linear_loss(w: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """A loss whose gradient in w is exactly g (NaN entries included)."""
    return (w * g).sum()


def test_adam_step_moves_each_candidate_as_its_own_adam_would():
    """Three steps of two stacked candidates against torch.optim.Adam run on each candidate alone with the same
    gradients (weight decay as L2): the rows do not share moments."""
    gen = torch.Generator().manual_seed(0)
    p0 = torch.randn(2, 3, 4, generator=gen, dtype=torch.float64)
    grads = [torch.randn(2, 3, 4, generator=gen, dtype=torch.float64) * s for s in (1.0, 0.1, 3.0)]
    lr, decay = 0.05, 0.3
    w = p0.clone().requires_grad_()
    opt = torch.optim.Adam([w], lr=lr, weight_decay=decay)
    for g in grads:
        adam_step(opt, {"w": w}, _linear_loss(w, g), torch.tensor([True, True]))
    for i in range(2):
        alone = p0[i].clone().requires_grad_()
        ref = torch.optim.Adam([alone], lr=lr, weight_decay=decay)
        for g in grads:
            alone.grad = g[i].clone()
            ref.step()
        torch.testing.assert_close(w[i].detach(), alone.detach(), rtol=1e-12, atol=1e-12)


def test_adam_step_holds_a_candidate_with_a_non_finite_loss_and_zeroes_non_finite_gradients():
    p = torch.tensor([[1.0, -2.0], [3.0, 4.0]], dtype=torch.float64)
    g = torch.tensor([[float("nan"), 0.5], [1.0, float("inf")]], dtype=torch.float64)
    w = p.clone().requires_grad_()
    opt = torch.optim.Adam([w], lr=0.1)
    adam_step(opt, {"w": w}, _linear_loss(w, g), torch.tensor([True, False]))
    assert torch.equal(w[1].detach(), p[1])  # its loss was not finite: not moved
    # candidate 0: the NaN entry counts as 0 (no move); at step 1 Adam moves every other entry by lr * sign(g)
    torch.testing.assert_close(w[0].detach(), torch.tensor([1.0, -2.1], dtype=torch.float64), rtol=0, atol=1e-8)
    state = opt.state[w]
    torch.testing.assert_close(state["exp_avg"][0], torch.tensor([0.0, 0.05], dtype=torch.float64))
    torch.testing.assert_close(state["exp_avg_sq"][0], torch.tensor([0.0, 0.00025], dtype=torch.float64))


def test_adam_step_holds_a_tensor_the_loss_does_not_reach():
    """A tensor the task loss does not depend on (e.g. the laws' shifts when no law has a parameter) gets a zero
    gradient: no error, and without weight decay it does not move."""
    w = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    unused = torch.full((2, 4), 5.0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w, unused], lr=0.1)
    adam_step(opt, {"w": w, "unused": unused}, _linear_loss(w, torch.ones(2, 3)), torch.ones(2, dtype=torch.bool))
    assert torch.equal(unused.detach(), torch.full((2, 4), 5.0, dtype=torch.float64))
    torch.testing.assert_close(w.detach(), torch.full((2, 3), 0.9, dtype=torch.float64))


def test_a_halving_cut_keeps_each_kept_candidates_moments():
    """Two steps of three candidates, a cut to candidates 0 and 2, one more step: the same weights as Adam run on
    candidates 0 and 2 alone for the three steps (a cut that restarted the moments or mixed rows would differ)."""
    gen = torch.Generator().manual_seed(1)
    p0 = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    grads = [torch.randn(3, 5, generator=gen, dtype=torch.float64) for _ in range(3)]
    lr, decay = {"w": 0.05}, {"w": 0.01}
    trained = {"w": p0.clone().requires_grad_()}
    opt = torch.optim.Adam([trained["w"]], lr=0.05, weight_decay=0.01)
    for g in grads[:2]:
        adam_step(opt, trained, _linear_loss(trained["w"], g), torch.ones(3, dtype=torch.bool))
    kept = torch.tensor([0, 2])
    trained, opt = kept_rows(opt, trained, kept, lr, decay)
    adam_step(opt, trained, _linear_loss(trained["w"], grads[2][kept]), torch.ones(2, dtype=torch.bool))
    alone = p0[kept].clone().requires_grad_()
    ref = torch.optim.Adam([alone], lr=0.05, weight_decay=0.01)
    for g in grads:
        alone.grad = g[kept].clone()
        ref.step()
    torch.testing.assert_close(trained["w"].detach(), alone.detach(), rtol=1e-12, atol=1e-12)


def test_pick_best_is_the_lowest_finite_training_rmse():
    assert pick_best(np.array([np.inf, 2.0, 1.0, 1.0, 3.0])) == 2  # ties: the first
    assert pick_best(np.array([0.5])) == 0
    assert pick_best(np.array([np.inf, np.inf])) is None


def test_subset_laws_evaluates_each_kept_candidate_on_its_own_points():
    """Candidate i's law is i * sum(x): rows [1, 3] of 4 must give 1 * sum(X[0]) and 3 * sum(X[1])."""

    def batched(x):
        assert x.shape[0] == 4  # the batched law always sees every candidate
        return torch.arange(4.0)[:, None] * x.sum(-1)

    x = torch.arange(12.0).reshape(2, 3, 2)
    out = subset_laws(batched, torch.tensor([1, 3]), 4)(x)
    torch.testing.assert_close(out, torch.stack([1 * x[0].sum(-1), 3 * x[1].sum(-1)]))
    one = subset_laws(batched, torch.tensor([2]), 4)(x[1:])
    torch.testing.assert_close(one, 2 * x[1:].sum(-1))
    assert subset_laws(batched, torch.arange(4), 4) is batched  # all candidates: the law itself


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"epochs": -1}, "bad meta-tailoring config: epochs=-1, lr=0.001, weight_decay=0.0001"),
        ({"lr": 0.0}, "bad meta-tailoring config: epochs=100, lr=0.0"),
        ({"lr": float("nan")}, "lr=nan"),
        ({"weight_decay": -1e-9}, "weight_decay=-1e-09"),
        ({"keep_min": 0}, "keep_min and halving_rounds must be >= 1, got 0, 2"),
        ({"halving_rounds": 0}, "keep_min and halving_rounds must be >= 1, got 3, 0"),
    ],
)
def test_meta_config_refuses_out_of_range_settings(bad, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        MetaConfig(**bad)


def test_meta_config_edges_are_allowed_and_for_data_takes_the_baselines_weight_decay(tiny):
    MetaConfig(epochs=0, weight_decay=0.0, keep_min=1, halving_rounds=1)  # the smallest allowed values
    traj, _ = tiny
    cfg = MetaConfig.for_data(traj, epochs=3)
    assert cfg.weight_decay == 1e-4 and cfg.epochs == 3  # HNN's decay on a simulated system, the override kept
    assert cfg == MetaConfig(epochs=3, weight_decay=1e-4)
    real = replace(traj, system="real-pendulum")
    assert MetaConfig.for_data(real).weight_decay == 1e-5


def test_no_difference_at_all_is_no_clear_difference():
    """Identical RMSEs on three seeds: mean 0 and standard error 0, so mean ± z se touches 0 from neither side
    (the rule is strict: 'better' needs mean + z se < 0, 'worse' mean - z se > 0)."""
    row = comparison({"mlp": [1.0, 2.0, 3.0], "law": [1.0, 2.0, 3.0]}).versus("mlp").iloc[0]
    assert row["difference"] == 0.0 and row["se"] == 0.0 and row["verdict"] == "no clear difference"
