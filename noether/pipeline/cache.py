"""The stage cache: each stage's result on disk (joblib.Memory), keyed by the data's fingerprint, the settings of
that stage and the ones before it, and the code that computed it -- the package's version and a hash of its
source -- so an interrupted run resumes where it stopped and an upgraded or edited package never gets an old
result back. (joblib.Memory alone hashes only the stage wrapper's own code, not the library code it calls.)"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from joblib import Memory

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


class StageCache:
    """``cache.run(fn, key, *args, ignore=names)`` = ``fn(key, *args)``, cached on (code version, key, args not in
    ``ignore``). location None: no caching (every call computes)."""

    def __init__(self, location: str | Path | None):
        self.memory = Memory(None if location is None else str(location), verbose=0)

    def run(self, fn: Callable[..., Any], key: Any, *args: Any, ignore: Sequence[str] = ()) -> Any:
        return self.memory.cache(fn, ignore=list(ignore))((code_version(), key), *args)
