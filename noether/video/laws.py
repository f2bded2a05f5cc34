"""A conservation law as a video model's Noether embedding (``noether video train --law laws.json`` or
``--law-expr``): read by the pipeline's one laws.json reader, or parsed from text as a law in the data's own
numbers (``Law.reference``); its inputs are mapped onto the state readout's outputs (q, p)."""

from __future__ import annotations

from pathlib import Path

from ..dsl import Law
from ..errors import DataError
from ..pipeline.laws_file import top_law

STATE_NAMES = ("q", "p")  # the pendulum-pixels readout's outputs, in order


def law_from_json(path: str | Path, rank: int = 1) -> Law:
    """The law of ``rank`` (1 = the best) of a pipeline ``laws.json``."""
    return top_law(path, rank)


def law_from_expression(expression: str) -> Law:
    """A law from text over the readout's states, e.g. ``"p**2 - 3*cos(q)"``."""
    return Law.reference(expression)


def law_columns(law: Law) -> list[int]:
    """Readout columns (of q, p) feeding the law's inputs, in the law's input order."""
    missing = [n for n in law.names if n not in STATE_NAMES]
    if missing:
        raise DataError(f"law reads {missing}, but the pixel readout only gives {list(STATE_NAMES)}")
    return [STATE_NAMES.index(n) for n in law.names]
