"""Progress for every long piece of work, the same everywhere: a rich bar on a terminal, plain timestamped lines
otherwise (a log file, a CI job, a notebook), nothing with ``NOETHER_PROGRESS=0``.

Stages nest (the evaluate stage -> one method on one seed -> its training epochs): on a terminal each nested
stage is a row of the one live display, removed when it ends; in plain mode a line names the whole path, e.g.
``evaluate > runs: 40% (6/15) | 2m 10s elapsed | ETA 3m 15s``. Where the amount of work is known (fits, epochs,
seeds) a stage shows a percentage and an ETA; otherwise its elapsed time. Plain lines are throttled: one when a
outermost stage has run for a second ("started"; a run that bad input stops at once prints only its error), when
a stage passes another 10% (at most one per ``MIN_GAP_S`` seconds), at least one per ``HEARTBEAT_S`` seconds of
a running stage even when it does not advance, and one when an outermost stage ends.

``NOETHER_PROGRESS``: ``0``/``off`` none, ``plain`` lines, ``rich`` bars, unset: bars on a terminal, else lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

MIN_GAP_S = 5.0  # plain mode: at least this long between two percentage lines of one stage
HEARTBEAT_S = 60.0  # plain mode: a line at least this often while a stage runs
START_DELAY_S = 1.0  # plain mode: an outermost stage is announced once it has run this long
WATCH_S = 0.5  # plain mode: how often the watcher thread looks
WATCHING = True  # tests switch the watcher off to drive ``_plain.heartbeat`` by hand
Advance = Callable[..., None]


def mode() -> str:
    """'off', 'plain' or 'rich' from ``NOETHER_PROGRESS`` and whether stderr is a terminal."""
    flag = os.environ.get("NOETHER_PROGRESS", "").strip().lower()
    if flag in ("0", "off", "false", "no"):
        return "off"
    if flag in ("plain", "rich"):
        return flag
    if flag in ("1", "on", "true", "yes"):
        return "rich" if sys.stderr.isatty() else "plain"
    return "rich" if sys.stderr.isatty() else "plain"


def enabled() -> bool:
    """Whether any progress is shown."""
    return mode() != "off"


def duration(seconds: float) -> str:
    """A short human duration: '8.2 s', '2m 10s', '1h 05m'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@dataclass(eq=False)
class _Stage:
    """One open stage: what it is, how far it is, when it last printed (plain mode)."""

    path: str
    total: float | None
    unit: str
    depth: int
    start: float = field(default_factory=lambda: time.monotonic())
    done: float = 0.0
    last_line: float = field(default_factory=lambda: time.monotonic())
    last_decile: int = 0
    announced: bool = False

    def line(self, now: float) -> str:
        elapsed = now - self.start
        if not self.total:
            count = f"{self.done:g} {self.unit} | ".lstrip() if self.done else ""
            return f"{self.path}: {count}{duration(elapsed)} elapsed"
        frac = min(self.done / self.total, 1.0)
        text = (
            f"{self.path}: {100 * frac:.0f}% ({self.done:g}/{self.total:g} {self.unit}) | {duration(elapsed)} elapsed"
        )
        if 0 < frac < 1:
            text += f" | ETA {duration(elapsed * (1 - frac) / frac)}"
        return text


class _Plain:
    """Plain, throttled lines on stderr. A watcher thread announces an outermost stage once it has run for
    ``START_DELAY_S`` (a run stopped at once by bad input prints only its error) and prints the innermost open
    stage's line whenever nothing was printed for ``HEARTBEAT_S`` (a long step that does not advance is never
    silent)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.open: list[_Stage] = []
        self.watcher: threading.Thread | None = None
        self.last_emit = time.monotonic()

    def emit(self, text: str) -> None:
        with self.lock:
            self.last_emit = time.monotonic()
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def announce(self, now: float, force: bool = False) -> None:
        """The 'started' line of every outermost open stage that has run ``START_DELAY_S`` (or ``force``)."""
        with self.lock:
            for st in self.open:
                if st.depth == 0 and not st.announced and (force or now - st.start >= START_DELAY_S):
                    st.announced = True
                    self.emit(f"{st.path}: started" + (f" ({st.total:g} {st.unit})" if st.total else ""))

    def heartbeat(self) -> None:
        """What the watcher does every ``WATCH_S``: announce, and print a line when the log has been quiet."""
        with self.lock:
            now = time.monotonic()
            self.announce(now)
            # quiet since the last line or since the stage opened, whichever is later, and never before the run
            # was announced (a stale last line would make a just-opened stage print at once)
            if self.open and self.open[0].announced and now - max(self.last_emit, self.open[-1].start) >= HEARTBEAT_S:
                st = self.open[-1]
                st.last_line = now
                self.emit(st.line(now))

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_S)
            if WATCHING:
                self.heartbeat()

    def opened(self, st: _Stage) -> None:
        with self.lock:
            self.open.append(st)
            if self.watcher is None:
                self.watcher = threading.Thread(target=self._watch, name="noether-progress", daemon=True)
                self.watcher.start()

    def advanced(self, st: _Stage) -> None:
        now = time.monotonic()
        decile = int(10 * st.done / st.total) if st.total else 0
        due = now - st.last_line >= HEARTBEAT_S
        if st.total and decile > st.last_decile and now - st.last_line >= MIN_GAP_S and st.done < st.total:
            due = True
        if due:
            with self.lock:
                self.announce(now, force=True)
                st.last_decile, st.last_line = decile, now
                self.emit(st.line(now))

    def closed(self, st: _Stage, failed: bool) -> None:
        with self.lock:
            if st in self.open:
                self.open.remove(st)
        if st.depth == 0 and (st.announced or not failed):
            word = "stopped" if failed else "done"
            self.emit(f"{st.path}: {word} in {duration(time.monotonic() - st.start)}")


class _Rich:
    """One rich live display shared by all open stages; nested rows vanish when their stage ends."""

    def __init__(self) -> None:
        self.bar = None
        self.open = 0

    def _ensure(self) -> None:
        if self.bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.bar.start()

    def opened(self, st: _Stage) -> None:
        self._ensure()
        self.open += 1
        st.task = self.bar.add_task("  " * st.depth + st.path.rsplit(" > ", 1)[-1], total=st.total)

    def advanced(self, st: _Stage) -> None:
        self.bar.update(st.task, completed=st.done)

    def closed(self, st: _Stage, failed: bool) -> None:
        if st.depth > 0:
            self.bar.remove_task(st.task)
        self.open -= 1
        if self.open == 0:
            self.bar.stop()
            self.bar = None


_local = threading.local()
_plain = _Plain()
_rich = _Rich()


def _stack() -> list[_Stage]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


@contextlib.contextmanager
def stage(description: str, total: float | None = None, unit: str = "") -> Iterator[Advance]:
    """Context manager yielding ``advance(n=1)`` for one piece of work of ``total`` units (None: unknown)."""
    kind = mode()
    if kind == "off":
        yield lambda n=1: None
        return
    shown = _rich if kind == "rich" else _plain
    stack = _stack()
    path = " > ".join([*(s.path.rsplit(" > ", 1)[-1] for s in stack[:1]), description]) if stack else description
    st = _Stage(path, float(total) if total else None, unit, len(stack))
    stack.append(st)
    shown.opened(st)
    lock = threading.Lock()

    def advance(n: float = 1) -> None:
        with lock:
            st.done += n
            shown.advanced(st)

    failed = True
    try:
        yield advance
        failed = False
    finally:
        stack.remove(st)
        shown.closed(st, failed)


def track(items: Iterable[T], description: str, total: int | None = None, unit: str = "") -> Iterator[T]:
    """Iterate with progress."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with stage(description, total, unit) as advance:
        for item in items:
            yield item
            advance()
