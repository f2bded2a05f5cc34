"""Project exceptions: each carries a one-line message naming the offending input; the CLI prints it and exits 2."""

from __future__ import annotations


class NoetherError(Exception):
    """Base class for errors caused by the user's input or configuration (not bugs)."""


class DataError(NoetherError):
    """Malformed trajectory data: missing columns, NaN/inf, ragged or too-short trajectories, bad times."""


class UnitError(NoetherError):
    """A unit string pint cannot parse, or a formula whose units are inconsistent."""


class UnknownSystemError(NoetherError):
    """A system name that is not built in."""


class ConfigError(NoetherError, ValueError):
    """A setting out of its range or an unknown name (a stage, operator, method, estimator); a ValueError too, so
    code that caught ValueError for bad settings keeps working."""
