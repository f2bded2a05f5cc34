"""One pint registry for the whole project, and the unit conventions the DSL relies on.

A state given without a unit gets its own base dimension ``[<name>]`` so the DSL can never add it to another
quantity by accident; radians are dimensionless (pint's convention), so ``sin(q)`` with q in rad is valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pint

from .errors import UnitError

ureg = pint.UnitRegistry()
pint.set_application_registry(ureg)  # pickled units (stage caches) come back in this registry

_SAFE = re.compile(r"[^0-9A-Za-z_]")


def independent_unit(state: str) -> pint.Unit:
    """A fresh unit with a base dimension of its own, for a state whose unit the user did not give."""
    token = "state_" + _SAFE.sub("_", state)
    if token not in ureg:
        ureg.define(f"{token} = [{token}]")
    return ureg.Unit(token)


def parse_unit(text: str, state: str = "") -> pint.Unit:
    """Parse a unit string with pint; unknown units raise UnitError carrying pint's own message."""
    where = f" for state '{state}'" if state else ""
    try:
        quantity = ureg.parse_expression(text.strip()) if text.strip() else ureg.dimensionless * 1
    except (
        pint.errors.PintError,
        AssertionError,
        AttributeError,
        TypeError,
        SyntaxError,
        ValueError,
        IndexError,
        KeyError,
    ) as exc:  # pint's parser raises several of these on malformed text ("m/")
        detail = str(exc) or "malformed unit expression"
        raise UnitError(f"unknown unit '{text}'{where}: {detail}") from None
    if not isinstance(quantity, pint.Quantity):  # a bare number such as "2"
        return ureg.dimensionless
    if quantity.magnitude != 1:
        raise UnitError(f"unit '{text}'{where} has a numeric factor {quantity.magnitude}; give a plain unit")
    return quantity.units


def unit_label(unit: pint.Unit) -> str:
    """Compact text form of a unit that parse_unit reads back."""
    text = f"{unit:~C}"
    return text if text else "dimensionless"


def dimension(unit: pint.Unit) -> dict[str, float]:
    """The unit's physical dimension as {base dimension: exponent}; radians are dimensionless."""
    return dict(unit.dimensionality)


def resolve_units(names: Sequence[str], units) -> tuple[pint.Unit, ...]:
    """Units for ``names`` from a sequence (aligned with names) or a {name: unit} mapping; strings go through
    pint; a missing unit (None or absent) gives the state an independent dimension of its own."""
    if units is None:
        units = {}
    if isinstance(units, Mapping):
        unknown = set(units) - set(names)
        if unknown:
            raise UnitError(f"units given for unknown state(s) {sorted(unknown)}; states are {list(names)}")
        units = [units.get(n) for n in names]
    units = list(units)
    if len(units) != len(names):
        raise UnitError(f"{len(names)} states {list(names)} but {len(units)} units")
    out = []
    for name, unit in zip(names, units):
        if unit is None:
            out.append(independent_unit(name))
        elif isinstance(unit, str):
            out.append(parse_unit(unit, name))
        elif isinstance(unit, pint.Unit):
            out.append(unit)
        else:
            raise UnitError(f"unit of '{name}' must be a pint unit or a string, got {unit!r}")
    return tuple(out)
