"""Video datasets against their physics: the scripted actions and Pendulum-v1's dynamics, the ramp simulation's
slide and collision, and energy conservation of the pixel pendulum; frames checked against the true states."""

from __future__ import annotations

import numpy as np
import pytest

from noether.video.data import load_video_dataset
from noether.video.data import ramp as ramp_mod
from noether.video.data.pendulum_controlled import resize


@pytest.fixture(scope="module")
def controlled():
    return load_video_dataset("pendulum-controlled", preset="ci", seed=0, cache=False)


@pytest.fixture(scope="module")
def ramp():
    return load_video_dataset("ramp", preset="ci", seed=0, cache=False)


@pytest.fixture(scope="module")
def pixels():
    return load_video_dataset("pendulum-pixels", preset="ci", seed=0, cache=False)


def test_actions_follow_the_scripted_policy(controlled):
    a = controlled.arrays
    omega, alpha = a["omega"], a["alpha"]
    assert ((0.05 <= omega) & (omega <= 0.15)).all() and ((0 <= alpha) & (alpha <= 2 * np.pi)).all()
    assert len(set(omega.round(8))) == len(omega)  # drawn per episode
    t = np.arange(a["actions"].shape[1])
    expected = 2.0 * np.sin(omega[:, None] * t + alpha[:, None])
    np.testing.assert_allclose(a["actions"][..., 0], expected, atol=1e-6)
    episode, start = controlled.test.windows[1]
    sample = controlled.test[1]["actions"].numpy()[:, 0]
    window_t = start + np.arange(controlled.n_cond + controlled.n_pred)
    np.testing.assert_allclose(sample, 2.0 * np.sin(omega[episode] * window_t + alpha[episode]), atol=1e-6)


def test_action_t_drives_frame_t_plus_1(controlled):
    """States follow Pendulum-v1's semi-implicit Euler step (g = 10, m = l = 1, dt = 0.05) under actions[t]."""
    states, actions = controlled.arrays["states"], controlled.arrays["actions"][..., 0].astype(np.float64)
    th, thdot, u = states[:, :-1, 0], states[:, :-1, 1], np.clip(actions[:, :-1], -2, 2)
    new_thdot = np.clip(thdot + (3 * 10 / 2 * np.sin(th) + 3.0 * u) * 0.05, -8, 8)
    np.testing.assert_allclose(states[:, 1:, 1], new_thdot, atol=1e-5)
    np.testing.assert_allclose(states[:, 1:, 0], th + new_thdot * 0.05, atol=1e-5)
    # and the torque matters: without it the step would be wrong
    free = np.clip(thdot + 15 * np.sin(th) * 0.05, -8, 8)
    assert np.abs(states[:, 1:, 1] - free).max() > 0.05


def test_frames_show_the_pendulum_at_its_angle(controlled):
    frames = controlled.arrays["frames"][0].astype(np.float64)  # [L, 64, 64, 3]
    theta = controlled.arrays["states"][0, :, 0]
    red = (frames[..., 0] > 150) & (frames[..., 1] < 140) & (frames[..., 2] < 140)
    rows, cols = np.mgrid[0:64, 0:64] + 0.5
    for f in range(len(frames)):
        w = red[f]
        assert w.sum() > 10
        dx, dy = (cols * w).sum() / w.sum() - 32, (rows * w).sum() / w.sum() - 32
        # gymnasium draws the rod from the centre towards (-sin θ, -cos θ) in image coordinates (y down)
        err = np.angle(np.exp(1j * (np.arctan2(-dx, -dy) - theta[f])))
        assert abs(err) < 0.1, (f, err)


def test_resize_averages_blocks():
    frame = np.zeros((500, 500, 3), np.uint8)
    out = resize(frame, 64)
    assert out.shape == (64, 64, 3)
    # 6 white rows and columns pad each side: 60 of the 64 corner pixels and 48 of 64 along an edge are white
    assert out[32, 32].tolist() == [0, 0, 0] and out[0, 0].tolist() == [239] * 3 and out[0, 32].tolist() == [191] * 3
    with pytest.raises(ValueError):
        resize(frame, 48)


def test_pendulum_pixels_states_conserve_energy(pixels):
    states = pixels.arrays["states"]  # [N, 45, 2]
    q, p = states[..., 0], states[..., 1]
    energy = 3 * (1 - np.cos(q)) + p**2
    spread = np.ptp(energy, axis=1) / energy.mean(axis=1)
    assert spread.max() < 1e-6
    assert np.ptp(q, axis=1).min() > 1.0  # the pendulum really swings
    s = pixels.test[0]["states"].numpy()
    np.testing.assert_allclose(np.ptp(3 * (1 - np.cos(s[:, 0])) + s[:, 1] ** 2), 0.0, atol=1e-6)


def test_pendulum_pixels_bob_is_where_q_says(pixels):
    frames = pixels.arrays["frames"][:, ::4].astype(np.float64)  # [N, T, 64, 64, 3]
    q = pixels.arrays["states"][:, ::4, 0]
    blue = (frames[..., 2] > 150) & (frames[..., 0] < 120)
    rows, cols = np.mgrid[0:64, 0:64] + 0.5
    w = blue.sum(axis=(-1, -2))
    x, y = (cols * blue).sum(axis=(-1, -2)) / w, (rows * blue).sum(axis=(-1, -2)) / w
    length = 0.36 * 64
    np.testing.assert_allclose(x, 32 + length * np.sin(q), atol=0.6)
    np.testing.assert_allclose(y, 32 + length * np.cos(q), atol=0.6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_ramp_simulation_slides_down_and_collides(seed):
    scene, trace, first, attempts = ramp_mod.make_sequence(np.random.default_rng(seed), ramp_mod.RampConfig(2))
    assert attempts <= 5  # most drawn scenes are usable
    assert trace.contact_time is not None, "the slider never reached the second object"
    before = int(np.floor(trace.contact_time * ramp_mod.FPS))
    top = np.array([ramp_mod.RAMP_TOP_X, ramp_mod.RAMP_TOP_Y])
    slider = trace.positions[: before + 1, 0]
    along = (slider - top) @ ramp_mod.DOWN_SLOPE
    assert np.all(np.diff(along[1:]) > 0), "the slider must move down the incline until it hits the target"
    assert slider[0, 1] - slider[-1, 1] > 0.05  # it came down
    on_ramp = slider[:, 0] < ramp_mod.RAMP_FOOT_X - scene.slider.radius
    normal = (slider[on_ramp] - top) @ ramp_mod.SLOPE_NORMAL
    assert on_ramp.sum() >= 2
    np.testing.assert_allclose(normal, ramp_mod._height(scene.slider), atol=0.01)  # on the surface, not flying
    target = trace.positions[:, 1]
    target_speed = np.linalg.norm(trace.velocities[:, 1], axis=-1)
    assert target_speed[: before + 1].max() < 0.02  # resting until hit
    assert target_speed[before + 1 : before + 4].max() > 0.05  # then knocked
    assert abs(target[-1, 0] - target[0, 0]) > 0.005


def test_ramp_dataset_windows_hold_the_slide_and_the_collision(ramp):
    a = ramp.arrays
    contact = a["contact_time"] * ramp_mod.FPS - a["first_frame"]  # contact, in frames of the window
    assert ((contact > ramp.n_cond) & (contact < ramp.n_cond + ramp.n_pred)).all()
    for i, c in enumerate(np.floor(contact).astype(int)):
        slider_y = a["positions"][i, : c + 1, 0, 1]
        assert slider_y[0] - slider_y[-1] > 0.02
        speed = np.linalg.norm(a["velocities"][i, :, 1], axis=-1)
        assert speed[: c + 1].max() < 0.02 and speed[c + 1 :].max() > 0.05


def test_ramp_frames_show_the_slider_where_the_simulator_put_it(ramp):
    base = ramp_mod.background(64)
    checked = 0
    for i in ramp.arrays["test_index"].tolist() + ramp.arrays["train_index"].tolist():
        x, y = ramp.arrays["positions"][i, 0, 0]
        r = ramp.arrays["radius"][i, 0]
        if x - r < ramp_mod.VIEW[0] + 0.01:
            continue  # partly outside the view: its pixel centroid is biased
        frame = ramp.arrays["frames"][i, 0].astype(np.float64) / 255
        changed = np.abs(frame - base).max(-1) > 0.1
        foot = ramp_mod._to_px(np.array([ramp_mod.RAMP_FOOT_X, 0.0]), 64)[0]
        changed[:, int(foot) :] = False  # the target sits right of the ramp's foot
        rows, cols = np.nonzero(changed)
        expected = ramp_mod._to_px(np.array([x, y]), 64)
        np.testing.assert_allclose([cols.mean() + 0.5, rows.mean() + 0.5], expected, atol=1.0)
        checked += 1
    assert checked >= 3
