"""Finished pieces of a long computation on disk, one file each, so that an interrupted run resumes after the last
finished piece (the evaluation checkpoints each method on each seed, and each seed's trained MLP)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import joblib

from ..io import atomic_path


class Checkpoint:
    """``get(name)`` -> the value saved under ``name`` or None; ``put(name, value)`` saves it atomically (a
    rename), so a file is either whole or absent. directory None: nothing is kept."""

    def __init__(self, directory: str | Path | None):
        self.directory = None if directory is None else Path(directory)

    def _path(self, name: str) -> Path:
        return self.directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".joblib")

    def get(self, name: str) -> Any | None:
        if self.directory is None:
            return None
        path = self._path(name)
        if not path.is_file():
            return None
        try:
            return joblib.load(path)
        except Exception:  # a file from an incompatible version or a damaged disk: compute again
            return None

    def put(self, name: str, value: Any) -> None:
        if self.directory is None:
            return
        with atomic_path(self._path(name)) as tmp:
            joblib.dump(value, tmp)

    def names(self) -> list[str]:
        """The saved names (as stored on disk)."""
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.joblib") if not p.name.startswith("."))

    def clear(self) -> None:
        """Remove every saved piece (after the whole computation has been kept elsewhere)."""
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
