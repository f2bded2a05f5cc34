"""Physical dimensions of DSL formulas as hashable exponent tuples over the inputs' base dimensions (pint).

Radians are dimensionless (pint's convention); a state without a unit carries its own base dimension
``[state_<name>]`` (``noether.units.independent_unit``), so it is never added to another quantity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pint

from ..errors import UnitError
from ..units import parse_unit, unit_label
from .grammar import FREE, INVALID, OPERATORS, Dim, Formula, apply_units


class DimensionBasis:
    """Maps pint units to exponent tuples over the base dimensions that occur in the inputs."""

    def __init__(self, units: Sequence[pint.Unit]):
        dims = [dict(u.dimensionality) for u in units]
        self.base: tuple[str, ...] = tuple(sorted({k for d in dims for k in d}))
        self.zero: tuple = (0,) * len(self.base)
        self.inputs: tuple[tuple, ...] = tuple(self._tuple(d) for d in dims)

    def _tuple(self, dims: dict) -> tuple:
        return tuple(_num(dims.get(k, 0)) for k in self.base)

    def label(self, dim: Dim) -> str:
        """'[length] ** 2 * [mass]'-style text; 'any' for a free dimension, 'dimensionless' for zero."""
        if dim is FREE:
            return "any (set by a parameter)"
        parts = [k if e == 1 else f"{k}**{e:g}" for k, e in zip(self.base, dim) if e]
        return " * ".join(parts) if parts else "dimensionless"

    def to_unit(self, dim: Dim) -> str:
        """A pint-readable unit string with the SI base unit of each dimension (None for a free dimension)."""
        if dim is FREE:
            return None
        factors = []
        for k, e in zip(self.base, dim):
            if not e:
                continue
            unit = _BASE_UNITS.get(k, k.strip("[]"))
            factors.append(unit if e == 1 else f"{unit}**{e:g}")
        return unit_label(parse_unit("*".join(factors))) if factors else "dimensionless"


_BASE_UNITS = {
    "[length]": "m",
    "[mass]": "kg",
    "[time]": "s",
    "[current]": "A",
    "[temperature]": "K",
    "[substance]": "mol",
    "[luminosity]": "cd",
}


def _num(x):
    f = float(x)
    return int(f) if f.is_integer() else f


def check_units(formula: Formula, basis: DimensionBasis, names: Sequence[str]) -> Dim:
    """The formula's dimension; UnitError naming the first (innermost) sub-formula whose units do not fit."""
    if formula.op == "x":
        return basis.inputs[formula.index]
    if formula.op == "c":
        return FREE
    dims = tuple(check_units(a, basis, names) for a in formula.args)
    out = apply_units(OPERATORS[formula.op], dims, basis.zero)
    if out is INVALID:
        parts = ", ".join(f"'{a.render(tuple(names))}' ({basis.label(d)})" for a, d in zip(formula.args, dims))
        need = {"same": "operands of equal dimension", "dimensionless": "a dimensionless argument"}.get(
            OPERATORS[formula.op].units, "valid operands"
        )
        raise UnitError(f"units do not fit in '{formula.render(tuple(names))}': {formula.op} needs {need}, got {parts}")
    return out


def infer_dims(formula: Formula, basis: DimensionBasis) -> tuple[list[tuple], tuple]:
    """(one dimension per parameter in slot order, the formula's dimension) making the formula valid; where the
    units leave a parameter free (``c0*q`` at the root) the least-norm choice, i.e. dimensionless where possible.

    Each sub-formula's dimension is affine in the unknown parameter dimensions u_k; '+'/'-' and sin/cos give
    linear constraints, solved by least squares (exactly, for a unit-valid formula)."""
    K, B = formula.n_params, len(basis.base)
    rows, rhs = [], []
    counter = iter(range(K))

    def go(node: Formula) -> tuple[np.ndarray, np.ndarray]:  # (constant [B], coefficients [K])
        if node.op == "x":
            return np.asarray(basis.inputs[node.index], float), np.zeros(K)
        if node.op == "c":
            coef = np.zeros(K)
            coef[next(counter)] = 1.0
            return np.zeros(B), coef
        op = OPERATORS[node.op]
        args = [go(a) for a in node.args]
        if op.units == "same":
            (a0, a1), (b0, b1) = args
            rows.append(a1 - b1)
            rhs.append(b0 - a0)
            return args[0]
        if op.units == "dimensionless":
            rows.append(args[0][1])
            rhs.append(-args[0][0])
            return np.zeros(B), np.zeros(K)
        if op.units == "product":
            return args[0][0] + args[1][0], args[0][1] + args[1][1]
        if op.units == "quotient":
            return args[0][0] - args[1][0], args[0][1] - args[1][1]
        return args[0][0] * op.exponent, args[0][1] * op.exponent

    const, coef = go(formula)
    sol = np.zeros((K, B))
    if K and rows:
        sol = np.linalg.lstsq(np.array(rows), np.array(rhs).reshape(len(rows), B), rcond=None)[0]  # [K, B]

    def clean(v) -> tuple:
        return tuple(_num(round(float(x), 9) + 0.0) for x in v)

    return [clean(row) for row in sol], clean(const + coef @ sol)
