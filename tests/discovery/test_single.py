"""Conserved quantities from one recording (``discovery.single``): the filter picks a score that needs no
variety of levels by itself, finds the energy, lists no law where there is none, and says when the data cannot
identify any."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from noether.discovery import FilterConfig, filter_candidates
from noether.discovery.independence import state_gradients
from noether.discovery.null import AcceptanceRule
from noether.discovery.single import (
    COORDINATE_SHUFFLE,
    DERIVATIVE,
    RANDOM_SEQUENCE,
    choose_score,
    contrast_rule,
    training_runs,
)
from noether.discovery.singular import singular_reason
from noether.dsl import Law, space_for
from noether.systems import Trajectories, load_system
from noether.systems.recording import one_recording
from noether.units import parse_unit


def _recording(name: str, noise: float = 0.01) -> Trajectories:
    """One recording as a user has it: no dx/dt (the filter estimates them)."""
    return replace(one_recording(name, noise=noise), derivatives=None)


def _space(traj: Trajectories, keep: tuple[str, ...] = (), n: int = 600, depth: int = 7):
    """A random sample of ``n`` candidates of the depth-``depth`` space, plus the formulas ``keep``: the filter's
    logic on every kind of formula, in seconds."""
    space = space_for(traj, depth=depth)
    rng = np.random.default_rng(0)
    picked = set(rng.choice(len(space), size=min(n, len(space)), replace=False).tolist())
    picked |= {space.index(text) for text in keep}
    return space.subset(np.array(sorted(picked)))


def _best_corr(laws, truth: str, system: str) -> float:
    """Best |corr| of the laws with the truth on the built-in system's many noise-free orbits (on the recording
    itself every true law is constant)."""
    fresh = load_system(system, noise=0).clean
    x = fresh.reshape(-1, fresh.shape[-1])
    y = Law.reference(truth, load_system(system).names).numpy(x)
    return max((abs(np.corrcoef(law.numpy(x), y)[0, 1]) for law in laws), default=0.0)


def test_the_score_is_chosen_by_the_number_of_recordings():
    assert choose_score("auto", 1)[::2] == (RANDOM_SEQUENCE, DERIVATIVE)  # the paper's, then the fallback
    assert choose_score("auto", 7)[::2] == (RANDOM_SEQUENCE, DERIVATIVE)
    assert choose_score("auto", 8)[::2] == (RANDOM_SEQUENCE, None)
    assert choose_score(COORDINATE_SHUFFLE, 50) == (COORDINATE_SHUFFLE, "as asked", None)
    assert training_runs(load_system("pendulum")) == 25
    assert training_runs(one_recording("spring")) == 1
    with pytest.raises(ValueError, match="score must be"):
        FilterConfig(score="best")
    assert contrast_rule(AcceptanceRule()).min_ratio == 100
    assert contrast_rule(AcceptanceRule(min_ratio=30)).min_ratio == 30


@pytest.fixture(scope="module")
def pendulum_filter():
    traj = _recording("pendulum")
    space = _space(traj, keep=("cos(q) + c0 * p**2", "cos(q) / (c0 + p**2)"))
    return traj, filter_candidates(space, traj, FilterConfig())


def test_one_noisy_pendulum_recording_gives_its_energy_labelled_conserved(pendulum_filter):
    _, res = pendulum_filter
    assert res.score == DERIVATIVE and "1 recording" in res.score_line and "no law reached ratio" in res.score_line
    assert res.unidentifiable is None
    assert _best_corr(res.independent, "p**2 - 3*cos(q)", "pendulum") >= 0.999
    best = res.table.iloc[res.independent_indices[0]]
    assert best["verdict"] == "conserved" and best["ratio"] >= 100
    assert res.rule.min_ratio == 100  # the contrast's rule, said in the result


def test_multi_trajectory_data_keep_the_papers_score():
    traj = load_system("spring")
    res = filter_candidates(_space(traj, n=200, depth=5), traj, FilterConfig())
    assert res.score == RANDOM_SEQUENCE and res.rule == AcceptanceRule()


@pytest.mark.parametrize("system", ["van-der-pol", "lorenz"])
def test_dissipative_recordings_give_no_law(system):
    traj = _recording(system)
    res = filter_candidates(_space(traj, n=500), traj, FilterConfig())
    assert res.n_accepted == 0
    assert "the derivative score accepted no law either" in res.score_line


def test_a_recording_that_does_not_move_cannot_identify_a_law():
    rng = np.random.default_rng(0)
    states = np.array([1.0, -0.5]) + 0.01 * rng.standard_normal((1, 400, 2))
    traj = replace(one_recording("spring", points=400), states=states, clean=None, derivatives=None)
    res = filter_candidates(_space(traj, n=200, depth=5), traj, FilterConfig())
    assert res.unidentifiable.startswith("too little motion")
    assert res.n_accepted == 0 and (res.table["reason"] == res.unidentifiable).all()


def test_too_few_samples_cannot_identify_a_law():
    traj = replace(one_recording("spring", points=60), derivatives=None)
    res = filter_candidates(_space(traj, n=100, depth=5), traj, FilterConfig())
    assert res.unidentifiable.startswith("too few samples: 45 training states")  # 9 windows of 5 steps
    assert res.n_accepted == 0


def _shared_level(noise: float = 0.0) -> Trajectories:
    """Six recordings q = cos(t + phi), p = -sin(t + phi) (q, p in m), all on the level q^2 + p^2 = 1; the last
    one is the test split (issue #29's case)."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 20, 200)
    clean = np.stack([np.stack([np.cos(t + f), -np.sin(t + f)], -1) for f in rng.uniform(0, 2 * np.pi, 6)])
    mask = np.ones(clean.shape[:2], bool)
    mask[-1] = False
    return Trajectories(
        states=clean + noise * rng.standard_normal(clean.shape),
        times=np.broadcast_to(t, clean.shape[:2]).copy(),
        names=("q", "p"),
        units=(parse_unit("m"),) * 2,
        train_mask=mask,
    )


def test_recordings_on_one_level_set_say_so_and_list_no_junk():
    traj = _shared_level()
    space = _space(traj, keep=("q**2 + p**2", "(c0 + q**2) / p**2", "q**2 + c0 * p**2"), n=400)
    res = filter_candidates(space, traj, FilterConfig())
    assert res.score == DERIVATIVE
    assert "all 5 recordings lie on one level set" in res.score_line
    # the 0/0 form (q^2 - 1)/p^2, constant on this circle only, is rejected for it
    junk = res.table.iloc[space.index("(c0 + q**2) / p**2")]
    assert not junk["accepted"] and junk["reason"] == singular_reason()
    # every accepted law is a function of q^2 + p^2 off the level too: its gradient parallel to (q, p)
    x = np.random.default_rng(1).uniform(-1.5, 1.5, (500, 2))
    assert res.n_accepted >= 1
    for law in res.laws():
        g = state_gradients(law.torch, torch.as_tensor(x)).numpy()
        sin = np.abs(g[:, 0] * x[:, 1] - g[:, 1] * x[:, 0]) / (np.linalg.norm(g, axis=1) * np.linalg.norm(x, axis=1))
        assert np.median(sin) < 1e-3, str(law.display())
