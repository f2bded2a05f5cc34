"""CLI start-up: wall time and peak RSS of ``python -m noether --help`` and ``--version``, before (every command
module imported eagerly, torch & co. with them) and after (commands imported when they run).

    .venv/bin/python benchmarks/cli_startup.py [--repeats 5] [--load-repeats 3] [--before 6d15e8a]

BEFORE is the commit ``--before``, checked out for the run in a temporary ``git worktree`` (removed afterwards);
AFTER is this working tree. Both run with this interpreter, ``PYTHONPATH`` set to the tree's root (checked: the
``noether`` imported is that tree's). One warm-up run per tree and command (it writes the bytecode) is not counted.
Then the same again with every core kept busy by a spinning process, the figure a user on a loaded machine sees.
Not in ``make bench`` (it needs git). Writes benchmarks/results/cli_startup.md. Target: ``--help`` < 1 s.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Iterator, NamedTuple

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("--help", "--version")


class Run(NamedTuple):
    seconds: float
    rss_mb: float


def env_for(tree: Path) -> dict[str, str]:
    """The environment that makes ``python -m noether`` import the package of ``tree``."""
    return {**os.environ, "PYTHONPATH": str(tree), "NOETHER_PROGRESS": "0"}


def run_once(tree: Path, arg: str) -> Run:
    """One ``python -m noether ARG``: its wall time and its own peak RSS (os.wait4 reports it per child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "noether", arg],
        env=env_for(tree),
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    if proc.returncode != 0:
        raise RuntimeError(f"python -m noether {arg} in {tree} exited {proc.returncode}")
    return Run(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def check_tree(tree: Path) -> None:
    """Fail unless ``tree``'s own package is the one imported and its ``--help`` lists the commands."""
    where = subprocess.run(
        [sys.executable, "-c", "import noether; print(noether.__file__)"],
        env=env_for(tree),
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if Path(where).resolve() != (tree / "noether" / "__init__.py").resolve():
        raise RuntimeError(f"PYTHONPATH={tree} imports noether from {where}")
    shown = subprocess.run(
        [sys.executable, "-m", "noether", "--help"],
        env=env_for(tree),
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "discover" not in shown or "Commands:" not in shown:
        raise RuntimeError(f"unexpected --help output in {tree}:\n{shown}")


def measure(trees: dict[str, Path], repeats: int) -> dict[tuple[str, str], list[Run]]:
    """(tree label, command) -> ``repeats`` runs, after one uncounted warm-up; trees interleaved run by run."""
    runs: dict[tuple[str, str], list[Run]] = {(label, arg): [] for label in trees for arg in COMMANDS}
    for label, tree in trees.items():
        for arg in COMMANDS:
            run_once(tree, arg)
    for _ in range(repeats):
        for label, tree in trees.items():
            for arg in COMMANDS:
                runs[label, arg].append(run_once(tree, arg))
    return runs


def spin(stop: multiprocessing.synchronize.Event) -> None:
    """Keep one core busy until ``stop`` is set."""
    while not stop.is_set():
        for _ in range(100_000):
            pass


@contextmanager
def cpu_load(procs: int) -> Iterator[None]:
    """``procs`` busy-looping processes for the duration of the block."""
    stop = multiprocessing.Event()
    workers = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(procs)]
    for w in workers:
        w.start()
    try:
        time.sleep(0.5)  # let them get going
        yield
    finally:
        stop.set()
        for w in workers:
            w.join()


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A temporary, detached ``git worktree`` of ``commit``; removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="noether-before-"))
    path.rmdir()  # git wants to create it
    subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT, check=True, capture_output=True)
    try:
        yield path
    finally:
        done = subprocess.run(["git", "worktree", "remove", str(path)], cwd=ROOT, capture_output=True)
        if done.returncode != 0:  # bytecode or other leftovers of the runs
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=True)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def table(runs: dict[tuple[str, str], list[Run]], stat: str) -> list[str]:
    """The before/after table of one measurement: medians (and minima) of wall time, peak RSS."""
    lines = [
        f"| command | before {stat} s | after {stat} s | before / after | before min s | after min s "
        "| peak RSS MB before | peak RSS MB after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for arg in COMMANDS:
        b, a = runs["before", arg], runs["after", arg]
        tb, ta = statistics.median(r.seconds for r in b), statistics.median(r.seconds for r in a)
        lines.append(
            f"| `noether {arg}` | {tb:.2f} | {ta:.2f} | {tb / ta:.1f}x | "
            f"{min(r.seconds for r in b):.2f} | {min(r.seconds for r in a):.2f} | "
            f"{max(r.rss_mb for r in b):.0f} | {max(r.rss_mb for r in a):.0f} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="Counted runs per tree and command, no added load.")
    ap.add_argument("--load-repeats", type=int, default=3, help="The same, with every core busy.")
    ap.add_argument("--load-procs", type=int, default=len(os.sched_getaffinity(0)), help="Spinning processes.")
    ap.add_argument("--before", default="6d15e8a", help="The commit measured as BEFORE.")
    args = ap.parse_args()

    with worktree(args.before) as before:
        trees = {"before": before, "after": ROOT}
        for tree in trees.values():
            check_tree(tree)
        load_start = os.getloadavg()[0]
        idle = measure(trees, args.repeats)
        load_end = os.getloadavg()[0]
        with cpu_load(args.load_procs):
            loaded = measure(trees, args.load_repeats)

    lines = [
        "# CLI start-up: `noether --help` and `--version`",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`  ",
        f"Machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}, {platform.platform()}, "
        f"Python {platform.python_version()}, torch {package_version('torch')}, click {package_version('click')}; "
        f"{datetime.date.today().isoformat()}.  ",
        f"Protocol: `python -m noether ARG` in a fresh interpreter, wall time and the child's own peak RSS "
        f"(os.wait4); BEFORE = commit `{args.before}` (every command module imported to print the help: torch, "
        "scipy, sympy, pandas, pint), AFTER = this tree (commands listed from static short help strings, a "
        "command's module imported when it runs). Both with the same interpreter and PYTHONPATH at the tree's "
        "root; one uncounted warm-up run each (bytecode written), then runs interleaved. Target: `--help` < 1 s.",
        "",
        f"## No added load, {args.repeats} runs each",
        "",
        f"1-min load average {load_start:.1f} before and {load_end:.1f} after these runs (other jobs may share "
        "the cores: the spread of the BEFORE runs is theirs).",
        "",
        *table(idle, "median"),
        "",
        f"## Every core busy ({args.load_procs} spinning processes), {args.load_repeats} runs each",
        "",
        *table(loaded, "median"),
        "",
        "Per-run seconds (no added load): "
        + "; ".join(
            f"{label} {arg}: " + ", ".join(f"{r.seconds:.2f}" for r in idle[label, arg])
            for label in ("before", "after")
            for arg in COMMANDS
        ),
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cli_startup.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
