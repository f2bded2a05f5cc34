"""The thread policy: OpenMP told to sleep rather than spin (unless the user chose), tiny calls on one thread."""

import os
import subprocess
import sys

import torch

from noether.threads import single_thread, thread_share, usable_cores

PROBE = "import os, noether, torch; print(os.environ.get('OMP_WAIT_POLICY'))"


def _probe(env: dict) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | env
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_import_noether_makes_openmp_wait_passively_before_torch_loads():
    assert _probe({}) == "PASSIVE"


def test_a_users_own_wait_policy_is_kept():
    assert _probe({"OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"


def test_single_thread_and_thread_share_restore_the_count():
    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    with thread_share(before * 4):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)
