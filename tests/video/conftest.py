"""Shared fixtures of the video tests: one thread per worker (the suite runs with -n 2 on 2 cores), tiny models."""

from __future__ import annotations

import pytest
import torch

from noether.video.catalog import missing_video_packages
from noether.video.config import preset_config
from noether.video.noether_net import Query
from noether.video.train import build_net

MISSING = missing_video_packages()


class _NeedsVideoExtra(pytest.Module):
    """A test file of the video path without the [video] extra: reported as skipped, with the reason, instead of
    failing to import (or vanishing from the count)."""

    def collect(self):
        pytest.skip(f"needs the [video] extra: pip install -e '.[video]' (missing: {', '.join(MISSING)})")


def pytest_pycollect_makemodule(module_path, parent):
    if MISSING and module_path.name.startswith("test_"):
        return _NeedsVideoExtra.from_parent(parent, path=module_path)
    return None


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("NOETHER_PROGRESS", "0")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _ramp_net(method: str = "noether", seed: int = 0, **overrides):
    """The ci-preset ramp model (VGG + CN layers, SVG-LP latent) with a frame-pair embedding."""
    torch.manual_seed(seed)
    return build_net(preset_config("ramp", method, "ci", **overrides), channels=3, action_dim=0)


def _ramp_query(net, B: int = 2, T: int = 6, seed: int = 0, teacher_forcing: bool = True) -> Query:
    g = torch.Generator().manual_seed(seed)
    frames = torch.rand(B, T, 3, 64, 64, generator=g)
    return Query(frames, 2, eps=net.predictor.noise(B, T - 1, g), teacher_forcing=teacher_forcing)


@pytest.fixture
def ramp_net():
    """Factory: ``ramp_net(method="noether", seed=0, **config overrides)``."""
    return _ramp_net


@pytest.fixture
def ramp_query():
    """Factory: ``ramp_query(net, B=2, T=6, seed=0, teacher_forcing=True)`` -> Query of random frames."""
    return _ramp_query
