"""Rich progress display shared by every long stage, so each stage looks the same and can be silenced."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

T = TypeVar("T")

console = Console(stderr=True)


def enabled() -> bool:
    """Progress bars show on a terminal unless NOETHER_PROGRESS=0."""
    flag = os.environ.get("NOETHER_PROGRESS")
    return flag != "0" and (flag == "1" or sys.stderr.isatty())


@contextlib.contextmanager
def stage(description: str, total: float | None = None) -> Iterator[callable]:
    """Context manager yielding ``advance(n=1)`` for one stage's progress bar."""
    if not enabled():
        yield lambda n=1: None
        return
    if total is None:  # a stage of unknown length: a spinner and the elapsed time
        columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn()]
    else:
        columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with stage(description, total) as advance:
        for item in items:
            yield item
            advance()
