"""Relative coordinates: the inputs of a translation-invariant term family for the composite library.

When the user says a system is translation-invariant in some states (two bodies' positions, and under Galilean
invariance their velocities), its laws beyond the centre of mass's are functions of differences such as
``x1 - x2``. A library over those few differences can afford the higher-degree products (a relative Runge-Lenz
vector is cubic) that the same products over every state cannot, so the composite search enumerates a second
family over them (``composite._library``) and substitutes each difference back into the states.
"""

from __future__ import annotations

import numpy as np
import sympy

from ...errors import ConfigError
from ...systems import Trajectories
from .inputs import NamedInputs, named_inputs


def relative_inputs(
    traj: Trajectories, x: np.ndarray, relative: tuple[tuple[str, str], ...], derived: NamedInputs
) -> NamedInputs:
    """The family's inputs: each relative coordinate (a difference of two states with one unit) evaluated on the
    states ``x``, then each ``derived`` input unchanged when every linked group of states shifts together."""
    taken = set(derived.names) & {name for name, _ in relative}
    if taken:
        raise ConfigError(f"relative coordinate '{sorted(taken)[0]}' has the name of a derived input")
    pairs = [_difference(name, text, traj.names) for name, text in relative]
    coords = named_inputs(traj, x, relative, "relative coordinate")  # a difference of two units fails here
    shifted = _shifts(pairs)
    keep = [
        k
        for k, expr in enumerate(derived.subs.values())  # subs holds the derived inputs in their order
        if sympy.simplify(expr.subs(shifted, simultaneous=True) - expr) == 0
    ]
    kept = {derived.names[k] for k in keep}
    return NamedInputs(
        coords.names + [derived.names[k] for k in keep],
        coords.units + [derived.units[k] for k in keep],
        np.concatenate([coords.values, derived.values[:, keep]], axis=1),
        coords.subs | {s: e for s, e in derived.subs.items() if str(s) in kept},
    )


def _difference(name: str, text: str, states: tuple[str, ...]) -> tuple[str, str]:
    """The two states (a, b) of ``text`` = 'a - b', or a ValueError naming the coordinate."""
    symbols = {s: sympy.Symbol(s) for s in states}
    try:
        expr = sympy.sympify(text, locals=symbols)
    except (sympy.SympifyError, SyntaxError, TypeError) as exc:
        raise ConfigError(f"relative coordinate '{name}': cannot read '{text}' ({exc})") from None
    terms = sympy.Add.make_args(sympy.expand(expr))
    signs = {}
    for term in terms:
        coef, rest = term.as_coeff_Mul()
        if rest.is_Symbol and str(rest) in symbols and coef in (1, -1):
            signs[str(rest)] = int(coef)
    if len(terms) != 2 or sorted(signs.values()) != [-1, 1]:
        raise ConfigError(f"relative coordinate '{name}' must be a difference of two states, 'a - b', got '{text}'")
    a, b = sorted(signs, key=lambda s: -signs[s])
    return a, b


def _shifts(pairs: list[tuple[str, str]]) -> dict[sympy.Symbol, sympy.Expr]:
    """Each state of a pair -> itself + the shift of its linked group (states joined by pairs shift together)."""
    group: dict[str, str] = {}

    def root(s: str) -> str:
        while group.get(s, s) != s:
            s = group[s]
        return s

    for a, b in pairs:
        group.setdefault(a, a)
        group.setdefault(b, b)
        group[root(a)] = root(b)
    return {sympy.Symbol(s): sympy.Symbol(s) + sympy.Symbol(f"_shift_{root(s)}") for s in group}
