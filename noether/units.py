"""One pint registry for the whole project, and the unit conventions the DSL relies on.

A state given without a unit gets its own base dimension ``[<name>]`` so the DSL can never add it to another
quantity by accident; radians are dimensionless (pint's convention), so ``sin(q)`` with q in rad is valid.
"""

from __future__ import annotations

import re

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
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, TypeError,
            SyntaxError, ValueError) as exc:
        raise UnitError(f"unknown unit '{text}'{where}: {exc}") from None
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
