"""``pendulum-controlled``: action-conditioned video of gymnasium's Pendulum-v1 (paper §4.1, Appendix D).

Each episode starts from a seeded ``env.reset(seed=...)`` (θ ~ U[-π, π], θ̇ ~ U[-1, 1]) and is driven by the
scripted policy a_t = 2 sin(ω t + α), ω ~ U[0.05, 0.15], α ~ U[0, 2π] drawn per episode (t is the step index).
Frames come from ``render_mode="rgb_array"`` (500x500, headless), padded with the white background to 512x512 and
box-averaged to ``size`` x ``size``. ``actions[t]`` is the torque applied after frame t, i.e. it drives frame t+1
(and the renderer draws it as the arrow on frame t+1). A sample is ``n_cond = 4`` history frames and
``n_pred = 26`` predicted ones; ``actions[n_cond-1:][:n_pred]`` are the 26 future actions "starting from the current
timestep". Training uses the first ``n_pred_train = 10`` predictions. ``states`` [T, 2] = (θ, θ̇) per frame.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from ...errors import ConfigError
from ...progress import stage
from .base import VideoDataset, WindowDataset, windows_of

N_COND, N_PRED, N_PRED_TRAIN = 4, 26, 10
DT = 0.05  # Pendulum-v1's time step (s)


@dataclass(frozen=True)
class ControlledConfig:
    """Episode counts and lengths. Train windows: every start (stride 1); test and validation windows:
    non-overlapping. Validation episodes (the ``pilot`` preset's early stopping) come after the test ones."""

    train_episodes: int
    test_episodes: int
    steps: int  # frames per episode
    val_episodes: int = 0
    omega: tuple[float, float] = (0.05, 0.15)
    amplitude: float = 2.0

    def __post_init__(self):
        if self.train_episodes < 1 or self.test_episodes < 1:
            raise ConfigError("pendulum-controlled needs at least one train and one test episode")
        if self.steps < N_COND + N_PRED:
            raise ConfigError(f"episodes need >= {N_COND + N_PRED} steps, got {self.steps}")


PRESETS = {
    # App. D, and 5 validation episodes after the test ones (the law's scale is chosen on them; nothing else)
    "paper": ControlledConfig(train_episodes=5, test_episodes=195, steps=200, val_episodes=5),
    "pilot": ControlledConfig(train_episodes=5, test_episodes=195, steps=200, val_episodes=5),  # App. D + val
    "confirm": ControlledConfig(train_episodes=5, test_episodes=195, steps=200, val_episodes=5),  # as pilot
    "cpu": ControlledConfig(train_episodes=5, test_episodes=40, steps=200),
    "ci": ControlledConfig(train_episodes=2, test_episodes=2, steps=40, val_episodes=1),
}


def policy_actions(omega: float, alpha: float, steps: int, amplitude: float = 2.0) -> np.ndarray:
    """App. D's scripted policy: a_t = amplitude * sin(omega * t + alpha), t = 0..steps-1 -> float32 [steps, 1]."""
    t = np.arange(steps, dtype=np.float64)
    return (amplitude * np.sin(omega * t + alpha)).astype(np.float32)[:, None]


def make_env():
    """A headless Pendulum-v1 that renders RGB arrays."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import gymnasium

    return gymnasium.make("Pendulum-v1", render_mode="rgb_array", max_episode_steps=10**6)


RENDER_PAD = 512  # the 500x500 render is padded to this (a multiple of every frame size) before averaging


def resize(frame: np.ndarray, size: int) -> np.ndarray:
    """A uint8 [500, 500, 3] render -> [size, size, 3] uint8: pad with white to 512, average size-aligned blocks."""
    h, w, c = frame.shape
    if RENDER_PAD % size or h > RENDER_PAD or w > RENDER_PAD:
        raise ValueError(f"cannot box-average a {h}x{w} render to {size}x{size}")
    top, left = (RENDER_PAD - h) // 2, (RENDER_PAD - w) // 2
    padded = np.full((RENDER_PAD, RENDER_PAD, c), 255, np.uint8)
    padded[top : top + h, left : left + w] = frame
    k = RENDER_PAD // size
    rows = padded.reshape(size, k, RENDER_PAD * c).sum(axis=1, dtype=np.uint32)  # contiguous: fast
    sums = rows.reshape(size, size, k, c).sum(axis=2)
    return ((sums + k * k // 2) // (k * k)).astype(np.uint8)


def record_episode(env, reset_seed: int, actions: np.ndarray, size: int):
    """Run one episode: frames uint8 [L, size, size, 3] and states (θ, θ̇) float64 [L, 2], L = len(actions)."""
    env.reset(seed=int(reset_seed))
    frames, states = [], []
    for t in range(len(actions)):
        frames.append(resize(env.render(), size))
        states.append(np.array(env.unwrapped.state, np.float64))
        if t + 1 < len(actions):
            env.step(actions[t])
    return np.stack(frames), np.stack(states)


def generate(config: ControlledConfig, seed: int, size: int):
    """All episodes (train first). Returns (arrays, meta); arrays: frames, actions, states, omega, alpha, reset_seed."""
    rng = np.random.default_rng(seed)
    n = config.train_episodes + config.test_episodes + config.val_episodes
    omega = rng.uniform(*config.omega, size=n)
    alpha = rng.uniform(0.0, 2.0 * np.pi, size=n)
    reset_seed = rng.integers(0, 2**31 - 1, size=n)
    env = make_env()
    frames = np.empty((n, config.steps, size, size, 3), np.uint8)
    states = np.empty((n, config.steps, 2), np.float64)
    actions = np.empty((n, config.steps, 1), np.float32)
    try:
        with stage("rendering Pendulum-v1 episodes", n) as advance:
            for e in range(n):
                actions[e] = policy_actions(omega[e], alpha[e], config.steps, config.amplitude)
                frames[e], states[e] = record_episode(env, reset_seed[e], actions[e], size)
                advance()
    finally:
        env.close()
    arrays = dict(frames=frames, actions=actions, states=states, omega=omega, alpha=alpha, reset_seed=reset_seed)
    meta = dict(
        config=asdict(config),
        env="Pendulum-v1",
        dt=DT,
        states="(theta, theta_dot) of env.unwrapped.state at each frame",
        actions="actions[t] is applied after frame t (drives frame t+1); a_t = 2 sin(omega t + alpha)",
    )
    return arrays, meta


def build(arrays: dict, meta: dict, seed: int) -> VideoDataset:
    cfg = meta["config"]
    length = N_COND + N_PRED
    n_train = cfg["train_episodes"]
    n = n_train + cfg["test_episodes"]
    n_val = cfg.get("val_episodes", 0)
    extras = {"actions": arrays["actions"], "states": arrays["states"]}
    train = WindowDataset(arrays["frames"], windows_of(range(n_train), length, cfg["steps"], 1), length, extras)
    test = WindowDataset(arrays["frames"], windows_of(range(n_train, n), length, cfg["steps"], length), length, extras)
    val = (
        WindowDataset(arrays["frames"], windows_of(range(n, n + n_val), length, cfg["steps"], length), length, extras)
        if n_val
        else None
    )
    return VideoDataset("pendulum-controlled", train, test, N_COND, N_PRED, N_PRED_TRAIN, meta, arrays, val)
