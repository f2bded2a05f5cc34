"""Candidates cut into chunks that fit the working-memory budget, and parameters padded to one width: shared by
the filter's random-sequence fits (``fit_chunks.py``) and the contrast fits (``contrast_fit.py``)."""

from __future__ import annotations

import numpy as np
import torch


def _pad(c: torch.Tensor, width: int) -> torch.Tensor:
    """Parameters [n, k] zero-padded to [n, width]."""
    return torch.cat([c, c.new_zeros(c.shape[0], width - c.shape[1])], 1) if c.shape[1] < width else c


def _chunk_size(memory_mb: int, points: int, features: int, per_value: int) -> int:
    """How many candidates fit ``memory_mb``: each holds points x features float64 values, per_value times."""
    return max(1, int(memory_mb * 2**20 / (8 * points * features * per_value)))


def _chunks(index: np.ndarray, size: int) -> list[np.ndarray]:
    """``index`` cut into consecutive pieces of at most ``size``."""
    return [index[i : i + size] for i in range(0, len(index), size)]
