"""Run the filter's chunk tasks on a Dask distributed cluster, through joblib's dask backend.

When a search outgrows one machine, ``FilterConfig(scheduler="tcp://HOST:8786")`` sends each chunk (a joblib
``delayed`` task: a module-level function, the pickled ``_Context`` and the candidate indices) to the cluster's
workers; ``scheduler="local"`` starts a ``LocalCluster`` on this machine for the run. Dask is imported only
here and only when a scheduler is given, so the core imports and runs without it
(``pip install "noether-networks[cluster]"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from ..errors import ConfigError, NoetherError

LOCAL = "local"  # start a LocalCluster on this machine for the run
CONNECT_TIMEOUT_S = 30.0  # how long to wait for the scheduler, and then for its first worker
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://[^\s/]+:\d+/?$|^inproc://\S+$")
INSTALL_HINT = 'pip install "noether-networks[cluster]"'


class SchedulerError(NoetherError):
    """A Dask scheduler that cannot be reached, has no workers, or Dask not installed."""


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a scheduler that is neither None, 'local', nor an address like tcp://10.0.0.5:8786."""
    if scheduler is None or scheduler == LOCAL or (isinstance(scheduler, str) and _ADDRESS.match(scheduler)):
        return
    raise ConfigError(
        f"scheduler must be '{LOCAL}' or a Dask scheduler address like tcp://10.0.0.5:8786, got {scheduler!r}"
    )


@contextmanager
def connect(scheduler: str | None, timeout_s: float = CONNECT_TIMEOUT_S) -> Iterator[object | None]:
    """A ``distributed.Client`` of the cluster at ``scheduler`` ('local': a new LocalCluster) with at least one
    worker, closed (with the LocalCluster) on exit; None, importing nothing, when ``scheduler`` is None."""
    if scheduler is None:
        yield None
        return
    with ExitStack() as stack:
        yield _connect(scheduler, timeout_s, stack)


def run_on_cluster(client, tasks: list, timeout_s: float = CONNECT_TIMEOUT_S) -> Iterator:
    """Run joblib ``delayed`` tasks on ``client``'s workers, yielding their results in task order. Arguments
    shared by several tasks (the filter's context: data and space) go to each worker once, under fresh keys:
    joblib's own ``scatter=`` hashes them, and the fit's second batch of tasks (same context) then lost its data
    when the first batch's copy was released."""
    import joblib

    shared = shared_arguments(tasks)
    futures = dict(zip(map(id, shared), client.scatter(shared, broadcast=True, hash=False))) if shared else {}
    tasks = [
        (fn, tuple(futures.get(id(a), a) for a in args), {k: futures.get(id(v), v) for k, v in kw.items()})
        for fn, args, kw in tasks
    ]
    with joblib.parallel_config(backend="dask", client=client, wait_for_workers_timeout=timeout_s):
        yield from joblib.Parallel(n_jobs=-1, return_as="generator")(tasks)


def shared_arguments(tasks: list) -> list:
    """The positional and keyword arguments (by identity) that more than one ``(fn, args, kwargs)`` task passes:
    they are scattered to the workers once instead of pickled into every batch of tasks."""
    seen: dict[int, object] = {}
    shared: dict[int, object] = {}
    for _, args, kwargs in tasks:
        for arg in {id(a): a for a in (*args, *kwargs.values())}.values():
            if isinstance(arg, (str, bytes, int, float, bool, type(None))):
                continue
            (shared if id(arg) in seen else seen)[id(arg)] = arg
    return list(shared.values())


def _connect(scheduler: str, timeout_s: float, stack: ExitStack):
    """A ``distributed.Client`` of ``scheduler`` with at least one worker, registered on ``stack`` to be closed."""
    distributed = _import_distributed()
    if scheduler == LOCAL:
        cluster = stack.enter_context(
            distributed.LocalCluster(threads_per_worker=1, processes=True, dashboard_address=None)
        )
        address = cluster.scheduler_address
    else:
        address = scheduler
    try:
        client = stack.enter_context(distributed.Client(address, timeout=timeout_s, set_as_default=False))
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address} within {timeout_s:g} s ({exc}); "
            "is `dask scheduler` running there and the port open?"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except TimeoutError:
        raise SchedulerError(
            f"the Dask scheduler at {address} has no workers after {timeout_s:g} s; start some "
            f"with `dask worker {address}`"
        ) from None
    return client


def _import_distributed():
    """The ``distributed`` module, or a SchedulerError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise SchedulerError(
            f"a Dask scheduler was given but dask.distributed is not installed: {INSTALL_HINT}"
        ) from None
    return distributed
