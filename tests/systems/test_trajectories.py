"""The Trajectories type: validation, derivatives, split, fingerprint."""

import numpy as np
import pytest

from noether.errors import DataError
from noether.systems import Trajectories, load_system
from noether.units import parse_unit


def _make(states, times=None, **kw):
    states = np.asarray(states, float)
    times = np.tile(np.arange(states.shape[1], dtype=float), (states.shape[0], 1)) if times is None else times
    return Trajectories(states=states, times=times, names=("x",), units=(parse_unit("m"),), **kw)


def test_finite_difference_recovers_a_smooth_derivative():
    t = np.linspace(0, 1, 200)
    traj = Trajectories(states=np.sin(t)[None, :, None], times=t[None], names=("x",), units=(parse_unit("m"),))
    fd = traj.finite_difference("central")[0, :, 0]
    np.testing.assert_allclose(fd[1:-1], np.cos(t)[1:-1], atol=1e-4)
    fwd = traj.finite_difference("forward")[0, :, 0]
    np.testing.assert_allclose(fwd[:-1], np.diff(np.sin(t)) / np.diff(t))
    # without derivatives, dx/dt is the default estimate: a smoothing spline, which on smooth data agrees
    assert traj.dxdt() is traj.dxdt()  # computed once
    np.testing.assert_allclose(traj.dxdt()[0, 20:-20, 0], np.cos(t)[20:-20], atol=1e-3)


@pytest.mark.parametrize(
    "bad,msg",
    [
        (np.array([[[0.0], [np.nan], [1.0]]]), "non-finite"),
        (np.array([[[0.0], [np.inf], [1.0]]]), "non-finite"),
        (np.zeros((1, 2, 1)), "at least 3"),
    ],
)
def test_invalid_states_are_rejected(bad, msg):
    with pytest.raises(DataError, match=msg):
        _make(bad)


def test_non_increasing_time_is_rejected():
    with pytest.raises(DataError, match="not increasing"):
        _make(np.zeros((1, 3, 1)), times=np.array([[0.0, 1.0, 1.0]]))


def test_split_and_select_keep_shapes_and_fingerprint_changes():
    traj = load_system("pendulum")
    train, test = traj.split()
    assert train.train_mask.all() and not test.train_mask.any()
    sub = traj.select([0, 1])
    assert sub.n_traj == 2 and sub.clean.shape == (2, 45, 2)
    assert sub.fingerprint() != traj.fingerprint()
    assert traj.fingerprint() == load_system("pendulum").fingerprint()
    assert "pendulum" in traj.describe() and "rad" in traj.describe()
