"""The filter's chunks on a Dask cluster (``FilterConfig.scheduler``, ``cluster.py``): the same table as the local
run, bit for bit; clear errors for an unreachable scheduler, a malformed address and a missing dask."""

import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from noether.cli import cli
from noether.discovery import FilterConfig, filter_candidates
from noether.discovery.cluster import SchedulerError, connect, shared_arguments
from noether.dsl import space_for


@pytest.mark.slow  # ~20 s on 2 cores, most of it starting the worker processes (which check that chunks pickle)
def test_cluster_run_equals_local_run(oscillator):
    distributed = pytest.importorskip("distributed")
    traj = oscillator()
    space = space_for(traj, depth=5)
    config = FilterConfig(memory_mb=16)  # small chunks: ~10 tasks, so both workers get some
    local = filter_candidates(space, traj, config)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = filter_candidates(space, traj, FilterConfig(memory_mb=16, scheduler=cluster.scheduler_address))
        ran = list(cluster.scheduler.task_prefixes)
    assert any("_fit_linear_chunk" in p for p in ran) and any("_fit_gradient_chunk" in p for p in ran), ran
    pd.testing.assert_frame_equal(local.table, remote.table, check_exact=True)
    np.testing.assert_array_equal(local.params, remote.params)
    np.testing.assert_array_equal(local.accepted_indices, remote.accepted_indices)
    assert local.independent_indices == remote.independent_indices and local.n_accepted > 0


def test_unreachable_scheduler_is_a_clear_error_within_the_timeout():
    pytest.importorskip("distributed")
    start = time.perf_counter()
    with pytest.raises(SchedulerError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:1 within 1 s"):
        with connect("tcp://127.0.0.1:1", timeout_s=1):
            pass
    assert time.perf_counter() - start < 15


@pytest.mark.parametrize("bad", ["nonsense", "tcp://host", "10.0.0.5:8786", "http://host:8786", ""])
def test_malformed_scheduler_address_is_refused(bad):
    with pytest.raises(ValueError, match="scheduler must be 'local' or a Dask scheduler address"):
        FilterConfig(scheduler=bad)


@pytest.mark.parametrize(
    "good", [None, "local", "tcp://10.0.0.5:8786", "tls://sched.example.org:8786", "tcp://[::1]:8786"]
)
def test_well_formed_scheduler_is_accepted(good):
    assert FilterConfig(scheduler=good).scheduler == good


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now raises ImportError
    with pytest.raises(SchedulerError, match=r'pip install "noether-networks\[cluster\]"'):
        with connect("tcp://127.0.0.1:8786"):
            pass


def test_no_scheduler_opens_nothing():
    with connect(None) as client:
        assert client is None


def test_shared_arguments_are_the_ones_several_tasks_pass():
    ctx, a, b = object(), np.arange(3), np.arange(4)
    tasks = [(len, (ctx, a, 1), {}), (len, (ctx, b, 1), {"x": a})]
    assert [id(x) for x in shared_arguments(tasks)] == [id(ctx), id(a)]


def test_cli_refuses_a_malformed_scheduler(tmp_path):
    res = CliRunner().invoke(
        cli, ["discover", "--system", "spring", "--scheduler", "nonsense", "--out", str(tmp_path / "run")]
    )
    assert res.exit_code == 2 and "scheduler must be 'local'" in res.output, res.output
