"""Named inputs of the composite library: formulas over the states (``r = sqrt(x**2 + y**2)``, ``rx = x1 - x2``)
that join the states as inputs, with the SymPy substitutions that write a law over them back in the states."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import sympy

from ...dsl import Law
from ...errors import ConfigError
from ...systems import Trajectories


class NamedInputs(NamedTuple):
    """names, unit texts and values [N, k] of k named formulas, and name symbol -> formula over the states."""

    names: list[str]
    units: list
    values: np.ndarray
    subs: dict


def named_inputs(
    traj: Trajectories, x: np.ndarray, formulas: tuple[tuple[str, str], ...], what: str = "derived input"
) -> NamedInputs:
    """Each (name, formula) parsed over the states (unit-checked by ``Law.parse``) and evaluated on ``x``; a name
    that is already a state's is refused."""
    names, units, cols, subs = [], [], [], {}
    for name, text in formulas:
        if name in traj.names:
            raise ConfigError(f"{what} '{name}' has the name of a state")
        law = Law.parse(text, traj.names, dict(zip(traj.names, traj.units)))
        names.append(name)
        units.append(law.unit)
        cols.append(law.numpy(x)[:, None])
        subs[sympy.Symbol(name)] = law.sympy()
    values = np.concatenate(cols, axis=1) if cols else np.zeros((len(x), 0))
    return NamedInputs(names, units, values, subs)
