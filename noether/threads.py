"""The thread policy: how noether's torch work shares the CPU with itself and with other processes.

Two measured facts drive it (``benchmarks/bench_speed.py`` -> ``benchmarks/results/speed.md``, and below):
- OpenMP's default wait policy spins idle worker threads; when other processes hold the cores, a spinning team
  waits for a descheduled member and a training step got 3-30x slower. ``OMP_WAIT_POLICY=PASSIVE`` makes idle
  threads sleep instead, at no measurable cost on an idle machine. It must be in the environment before torch
  loads OpenMP, so ``import noether`` sets it (unless the user set it, or torch was imported first).
- Small calls (a vector field on a few dozen states, thousands of times per ODE solve; the composite search's
  solves of a few hundred unknowns) gain nothing from a second thread and lose most under load:
  ``single_thread()`` runs torch and numpy's BLAS (through threadpoolctl) on one. Measured on the composite
  search of the Kepler problem, on a shared 2-core machine: 4.6 s with numpy's default threads, 0.75 s on one.

``--jobs`` workers (the filter's chunks; -1: one per core this process may use) each get an equal share of
torch's threads (``thread_share``), so they never oversubscribe.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

WAIT_POLICY = "OMP_WAIT_POLICY"


def set_wait_policy() -> None:
    """Ask OpenMP to sleep rather than spin when idle, if it is not loaded yet and the user chose nothing."""
    if WAIT_POLICY not in os.environ and "torch" not in sys.modules:
        os.environ[WAIT_POLICY] = "PASSIVE"


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a container's or a batch job's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch and numpy's BLAS on one thread inside the block (for many small calls: an ODE solve's field
    evaluations, the composite search's small solves), restoring the counts after."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def thread_share(jobs: int) -> Iterator[None]:
    """Inside the block, give each of ``jobs`` concurrent workers an equal share of torch's threads."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, before // max(1, jobs)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
