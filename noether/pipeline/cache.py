"""The stage cache: each stage's result on disk (joblib.Memory), keyed by the data's fingerprint, the settings of
that stage and the ones before it, and the code that computed it -- the package's version and a hash of its
source -- so an interrupted run resumes where it stopped and an upgraded or edited package never gets an old
result back. (joblib.Memory alone hashes only the stage wrapper's own code, not the library code it calls.)"""

from __future__ import annotations

import functools
import hashlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joblib import Memory
from joblib import hash as joblib_hash

from ..io import cache_root
from ..version import __version__

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def source_hash(root: str | Path = PACKAGE_ROOT) -> str:
    """SHA-256 over the relative path and bytes of every ``.py`` file under ``root`` (sorted)."""
    digest = hashlib.sha256()
    root = Path(root)
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def code_version() -> str:
    """``<version>+<source hash>``: what a cached result was computed with."""
    return f"{__version__}+{source_hash()[:16]}"


def default_cache_dir() -> Path:
    """``$NOETHER_CACHE/stages``, else ``~/.cache/noether/stages``."""
    return cache_root("stages")


@dataclass(frozen=True)
class StageRun:
    """A stage's value, the seconds it took to compute (when it was computed, for a cached one) and whether it
    came from the cache."""

    value: Any
    seconds: float
    cached: bool


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """(fn(*args), seconds it took): what a stage function returns, so that the cache keeps the original time."""
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def _stage_call(key: Any, compute: Callable[[], tuple[Any, float]]) -> tuple[Any, float]:
    """What joblib caches: ``compute()``, keyed by ``key`` alone (``compute`` is never hashed)."""
    return compute()


class StageCache:
    """``cache.run(name, key, compute)`` -> StageRun of ``compute()`` (which returns ``(value, seconds)``, see
    ``timed``), cached on (code version, stage name, key). Only ``key`` decides a hit: everything a stage's result
    depends on goes in it, as typed values (configs, fingerprints), never by parameter names. An entry that cannot
    be read (a truncated file, say) is reported in one warning line and recomputed. location None: no caching."""

    def __init__(self, location: str | Path | None):
        self.location = None if location is None else Path(location)
        self.memory = Memory(None if location is None else str(location), verbose=0)

    def run(self, name: str, key: Any, compute: Callable[[], tuple[Any, float]]) -> StageRun:
        if self.location is None:
            return StageRun(*compute(), False)
        cached_fn = self.memory.cache(_stage_call, ignore=["compute"])
        full_key = (code_version(), name, key)
        if cached_fn.check_call_in_cache(full_key, compute):
            shelved = cached_fn.call_and_shelve(full_key, compute)
            try:
                value, seconds = shelved.get()
                return StageRun(value, seconds, True)
            except Exception as exc:  # unreadable entry: say so in one line, then compute it again
                warnings.warn(
                    f"the cached {name} stage could not be read ({type(exc).__name__}); recomputing it",
                    CacheWarning,
                    stacklevel=2,
                )
                shelved.clear()
        value, seconds = cached_fn(full_key, compute)
        return StageRun(value, seconds, False)

    def scratch(self, name: str, key: Any) -> Path | None:
        """A folder for a stage's partial results (checkpoints), unique to (code version, key); None without a
        cache location."""
        if self.location is None:
            return None
        return self.location / "partial" / name / joblib_hash((code_version(), key))


class CacheWarning(UserWarning):
    """A stage-cache entry was unreadable and its stage is computed again."""
