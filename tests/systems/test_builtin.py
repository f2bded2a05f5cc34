"""Built-in systems against physics and against HNN's protocol (sizes, split, real-pendulum indices)."""

import numpy as np
import pytest

from noether.errors import UnknownSystemError
from noether.systems import PENDULUM, SPRING, load_system, real_pendulum
from noether.systems.real_pendulum import load_raw


@pytest.mark.parametrize("system", [SPRING, PENDULUM])
def test_hamiltonian_constant_along_noise_free_trajectories(system):
    traj = load_system(system.name, noise=0.0)
    h = system.hamiltonian(traj.states[..., 0], traj.states[..., 1])
    assert np.max(np.abs(h - h[:, :1]) / np.abs(h[:, :1])) < 1e-8


@pytest.mark.parametrize("system", [SPRING, PENDULUM])
def test_exact_derivatives_follow_hamilton(system):
    traj = load_system(system.name, noise=0.1)
    q, p = traj.clean[..., 0], traj.clean[..., 1]
    eps = 1e-6
    dh_dp = (system.hamiltonian(q, p + eps) - system.hamiltonian(q, p - eps)) / (2 * eps)
    dh_dq = (system.hamiltonian(q + eps, p) - system.hamiltonian(q - eps, p)) / (2 * eps)
    np.testing.assert_allclose(traj.derivatives[..., 0], dh_dp, atol=1e-6)
    np.testing.assert_allclose(traj.derivatives[..., 1], -dh_dq, atol=1e-6)


@pytest.mark.parametrize("name,steps,lo,hi", [("spring", 30, 0.1, 1.0), ("pendulum", 45, 1.3, 2.3)])
def test_hnn_sizes_split_and_radius(name, steps, lo, hi):
    traj = load_system(name)
    assert traj.states.shape == (50, steps, 2)
    np.testing.assert_allclose(traj.times[0], np.linspace(0, 3, steps))
    assert traj.train_mask[:25].all() and not traj.train_mask[25:].any()
    train, test = traj.split()
    assert train.n_traj == test.n_traj == 25
    radius = np.linalg.norm(traj.clean[:, 0], axis=-1)
    assert (radius >= lo).all() and (radius <= hi).all()


def test_noise_level_and_seed():
    clean = load_system("spring", noise=0.0)
    noisy = load_system("spring", noise=0.1)
    np.testing.assert_allclose(noisy.clean, clean.states)
    resid = noisy.states - noisy.clean
    assert 0.09 < resid.std() < 0.11
    again = load_system("spring", noise=0.1, seed=0)
    other = load_system("spring", noise=0.1, seed=1)
    np.testing.assert_array_equal(again.states, noisy.states)
    assert not np.allclose(other.states, noisy.states)


def test_real_pendulum_split_matches_hnn():
    raw = load_raw()
    assert raw.shape == (556, 4)
    traj = real_pendulum()
    assert traj.states.shape == (1, 555, 2)
    x_train, dx_train = traj.points("train")
    x_test, _ = traj.points("test")
    assert len(x_train) == 445 and len(x_test) == 110
    np.testing.assert_array_equal(x_test, raw[444:554, 2:4])
    np.testing.assert_array_equal(x_train[-1], raw[554, 2:4])  # HNN's last training point
    t = raw[:, 1]
    np.testing.assert_allclose(dx_train[0], (raw[1, 2:4] - raw[0, 2:4]) / (t[1] - t[0]))
    gap = np.argmax(np.diff(t))  # a gap: the derivative uses the real, longer step
    np.testing.assert_allclose(traj.derivatives[0, gap], (raw[gap + 1, 2:4] - raw[gap, 2:4]) / (t[gap + 1] - t[gap]))
    train, test = traj.split()
    assert train.n_steps == 444 and test.n_steps == 110
    assert str(traj.unit_of("q")) == "radian"


def test_unknown_system_names_the_choices():
    with pytest.raises(UnknownSystemError, match="pendulum"):
        load_system("pendulm")


def test_vendored_real_pendulum_file_is_byte_identical():
    import hashlib
    from importlib import resources

    data = resources.files("noether.systems").joinpath("data", "real_pend_h_1.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "45d92988198b89a5933f5a53e67aa819d06937516f71a462ac09e1307d8b3411"


def test_a_second_load_is_the_same_data_and_a_callers_writes_do_not_reach_it():
    """load_system memoises a generation per (system, noise, seed) in the process: a second load equals the first,
    yet owns its arrays, so writing into one load's data changes no later load."""
    first = load_system("spring", noise=0.05, seed=3)
    before = first.fingerprint()
    first.states[0, 0, 0] += 1.0
    first.meta["noise"] = -1
    second = load_system("spring", noise=0.05, seed=3)
    assert second.fingerprint() == before and second.meta["noise"] == 0.05
    assert second.states is not first.states and not np.shares_memory(second.states, first.states)
    assert load_system("spring", noise=0.05, seed=4).fingerprint() != before  # another seed, another draw
