"""Atomic file output: a command that fails never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import NoetherError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block finishes. The file gets the
    mode a plain ``open(path, "w")`` would give (0666 less the umask), not mkstemp's private 0600."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    """The process's umask (read by setting and restoring it; there is no read-only call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write text to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> None:
    """Write a matplotlib figure atomically in the format its suffix names (PNG by default) and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=dpi)
    plt.close(fig)


def check_output_dir(path: str | os.PathLike) -> Path:
    """Fail before any work when ``path`` cannot be an output folder: it, or a folder above it, is a file, or
    the nearest existing folder is not writable. Returns the path (not created)."""
    target = Path(path)
    for part in (target, *target.parents):
        if part.exists():
            if not part.is_dir():
                what = "is a file" if part == target else f"lies inside the file '{part}'"
                raise NoetherError(f"output folder '{target}' {what}; choose another --out")
            if not os.access(part, os.W_OK | os.X_OK):
                raise NoetherError(f"output folder '{target}': '{part}' is not writable")
            break
    return target


def cache_root(sub: str = "") -> Path:
    """Where noether caches things: ``$NOETHER_CACHE/<sub>``, else ``~/.cache/noether/<sub>``."""
    root = os.environ.get("NOETHER_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "noether")
    return Path(root) / sub if sub else Path(root)
