"""Settings declared once and handed down: a stage's config gets the run-wide value (the seed, the window, the
acceptance rule, the integrator) from the config above it, and a conflicting value given to both is an error, not
something overwritten silently."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from .errors import ConfigError

C = TypeVar("C", bound="DataclassInstance")
RUN = {"run": True}  # field metadata: a setting of how the work runs, not of what it computes


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def hand_down(child: C, owner: str, **values: Any) -> C:
    """``child`` (a frozen dataclass) with ``values`` set from ``owner`` (named in the error). A field of the child
    that differs from both its default and the handed-down value was set in two places: ConfigError."""
    fields = {f.name: f for f in dataclasses.fields(child)}
    for name, value in values.items():
        own = getattr(child, name)
        if own != value and own != _default(fields[name]):
            raise ConfigError(
                f"{type(child).__name__}.{name} = {own!r} conflicts with {owner}'s {value!r}; set it once, on {owner}"
            )
    return dataclasses.replace(child, **values)


def run_free(config: C) -> tuple:
    """What of ``config`` decides a result: its fields less the ones marked ``metadata={"run": True}`` (how the
    work is run -- threads, device, scheduler, memory per chunk -- which must not key a cache)."""
    kept = tuple((f.name, getattr(config, f.name)) for f in dataclasses.fields(config) if not f.metadata.get("run"))
    return (type(config).__name__, *kept)
