"""Run every ``benchmarks/bench_*.py`` in turn (``make bench``); each writes its own results file."""

from __future__ import annotations

import runpy
import sys
import time
from pathlib import Path


def main(only: list[str]) -> None:
    here = Path(__file__).parent
    for script in sorted(here.glob("bench_*.py")):
        if only and not any(key in script.stem for key in only):
            continue
        start = time.perf_counter()
        print(f"== {script.name}", flush=True)
        runpy.run_path(str(script), run_name="__main__")
        print(f"== {script.name} done in {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
