"""Every test runs with one torch thread per process: under ``pytest -n 2`` on 2 cores, two threads per worker
oversubscribe the machine and small kernels then run many times slower (measured 5-15x)."""

import os

import pytest
import torch
from hypothesis import settings


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
