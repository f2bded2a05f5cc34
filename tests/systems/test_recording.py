"""One long recording of a built-in system (``systems.recording``)."""

import numpy as np
import pytest

from noether.dsl import Law
from noether.systems.recording import one_recording


def test_one_recording_is_split_in_time_with_relative_noise_and_is_deterministic():
    traj = one_recording("spring", noise=0.01, seed=3, points=500)
    assert traj.states.shape == (1, 500, 2)
    assert traj.train_mask[0, :400].all() and not traj.train_mask[0, 400:].any()
    noise = (traj.states - traj.clean)[0]
    ratio = noise.std(0) / traj.clean[0].std(0)
    assert np.all((ratio > 0.008) & (ratio < 0.012))
    np.testing.assert_array_equal(traj.states, one_recording("spring", noise=0.01, seed=3, points=500).states)
    energy = Law.reference("q**2 + p**2", traj.names).numpy(traj.clean[0])
    assert energy.std() < 1e-7 * energy.mean()


def test_one_recording_of_a_simulated_system_conserves_its_laws():
    traj = one_recording("rigid-body", noise=0.0, points=300)
    assert traj.times[0, -1] == pytest.approx(8 * 20.0)
    for law in traj.meta["laws"]:
        values = Law.reference(law, traj.names).numpy(traj.clean[0])
        assert values.std() < 1e-6 * abs(values).mean()


def test_one_recording_refuses_bad_settings():
    with pytest.raises(ValueError):
        one_recording("spring", noise=-1)
    with pytest.raises(ValueError):
        one_recording("real-pendulum")
