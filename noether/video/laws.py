"""A conservation law as a video model's Noether embedding (``noether video train --law laws.json`` or
``--law-expr``): read by the pipeline's one laws.json reader, or parsed from text as a law in the data's own
numbers (``Law.reference``); its inputs are mapped onto what the dataset's readout gives (``catalog.LAW_INPUTS``:
q, p, and on the controlled pendulum the work integral w).

The controlled pendulum's oracle: Pendulum-v1 integrates θ̈ = 3g/(2l) sin θ + 3u/(ml²) with g = 10, m = l = 1, so
2E = θ̇² + 30 cos θ changes by 6 u θ̇ dt per step: the torque does work, and ``ORACLE_LAWS`` conserves 2E - 6w.
Measured on the pilot data's true states (205 episodes, windows of 27 frames every 30): the within-window standard
deviation of 2E is 7.9 and of 2E - 6w 3.6 (1.3 and 6.8 on the windows where |θ̇| never reaches Pendulum-v1's
clip at 8, which removes energy; 2E varies by 26.5 over all frames).
"""

from __future__ import annotations

from pathlib import Path

from ..dsl import Law
from ..errors import DataError
from ..pipeline.laws_file import top_law
from .catalog import LAW_INPUTS
from .data.pendulum_controlled import DT

#: datasets with actions: the time step of the work integral w
WORK_DT = {"pendulum-controlled": DT}

#: the true conserved quantity of each law dataset in its readout's inputs (the ceiling of what a law can do)
ORACLE_LAWS = {"pendulum-controlled": "p**2 + 30*cos(q) - 6*w", "pendulum-pixels": "p**2 - 3*cos(q)"}


def law_from_json(path: str | Path, rank: int = 1) -> Law:
    """The law of ``rank`` (1 = the best) of a pipeline ``laws.json``."""
    return top_law(path, rank)


def law_from_expression(expression: str) -> Law:
    """A law from text over the readout's states, e.g. ``"p**2 - 3*cos(q)"``."""
    return Law.reference(expression)


def law_columns(law: Law, dataset: str = "pendulum-pixels") -> list[int]:
    """Columns of the dataset's law inputs (``LAW_INPUTS``) feeding the law's inputs, in the law's input order."""
    if dataset not in LAW_INPUTS:
        raise DataError(f"{dataset} has no state readout for a law (datasets that take one: {', '.join(LAW_INPUTS)})")
    names = LAW_INPUTS[dataset]
    missing = [n for n in law.names if n not in names]
    if missing:
        raise DataError(f"law reads {missing}, but the {dataset} readout only gives {list(names)}")
    return [names.index(n) for n in law.names]
