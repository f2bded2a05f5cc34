"""Every test runs with one torch thread per process: under ``pytest -n 2`` on 2 cores, two threads per worker
oversubscribe the machine and small kernels then run many times slower (measured 5-15x)."""

import os

import numpy as np
import pytest
import torch
from hypothesis import settings

from noether.systems import Trajectories
from noether.units import resolve_units


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Every cache the tests touch (stages, video datasets) lives in a temporary folder, never ~/.cache/noether."""
    before = os.environ.get("NOETHER_CACHE")
    os.environ["NOETHER_CACHE"] = str(tmp_path_factory.mktemp("noether-cache"))
    yield
    if before is None:
        os.environ.pop("NOETHER_CACHE", None)
    else:
        os.environ["NOETHER_CACHE"] = before


@pytest.fixture(autouse=True)
def _quiet_progress(monkeypatch):
    """No progress lines in the tests' output; the progress tests set NOETHER_PROGRESS themselves."""
    monkeypatch.setenv("NOETHER_PROGRESS", "0")


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# CI runs the property tests on a fixed sequence of examples (reproducible verdicts); locally hypothesis explores.
if os.environ.get("CI"):
    settings.register_profile("ci", derandomize=True)
    settings.load_profile("ci")


@pytest.fixture
def oscillator():
    """A maker of small harmonic-oscillator data sets (see ``_oscillator``)."""
    return _oscillator


def _oscillator(n_traj=30, steps=40, noise=0.0, seed=0) -> Trajectories:
    """q'' = -q (dimensionless): q**2 + p**2 is conserved; size 5 in the DSL."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 6, steps)
    r, phase = rng.uniform(0.5, 1.5, (n_traj, 1)), rng.uniform(0, 2 * np.pi, (n_traj, 1))
    clean = np.stack([r * np.cos(t + phase), -r * np.sin(t + phase)], -1)
    train = np.arange(n_traj)[:, None] < max(1, int(0.8 * n_traj)) * np.ones((1, steps), bool)  # last 20%: test
    return Trajectories(
        clean + noise * rng.standard_normal(clean.shape),
        np.broadcast_to(t, (n_traj, steps)),
        ("q", "p"),
        resolve_units(("q", "p"), {"q": "dimensionless", "p": "dimensionless"}),
        clean=clean,
        train_mask=train,
        name="oscillator",
    )
