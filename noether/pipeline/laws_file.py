"""``laws.json``: the ranked laws of a discover run, with their scores and tailoring figures, and its exports.

Layout (DESIGN.md contract): ``{"version": 1, "laws": [record, ...], "meta": {...}}`` where each record is a
``Law.to_json()`` dict (expression, srepr, latex, formula, parameters, units, ...) plus ``rank`` and the figures
measured for it (s_true, s_random, ratio, screen_inner_lr and screen_inner_dt_scale -- the inner rate and
inner-loss step the screen picked and meta-tailoring used --, train_error, test_rmse, filter_params when
meta-tailoring meta-learned the parameters, ... — absent when not measured).

``read_laws`` is the one reader of the format (the CLI's ``export`` and the video law plug-in use it). A record
written by hand may give only ``expression`` (and optionally ``names`` and ``units``); it is then parsed as a law
in the DSL, unit-checked when units are given, else read in the data's own numbers (``Law.reference``).
Files from older versions are read too: their renamed keys are mapped to today's (``RENAMED``; CHANGELOG.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from sympy.printing.numpy import NumPyPrinter

from ..dsl.law import Law
from ..errors import ConfigError, DataError, NoetherError
from ..io import atomic_write_text

FORMATS = ("sympy", "latex", "json", "python")
VERSION = 1
#: keys of records written by older versions -> today's names (0.1.x before 2026-11-30)
RENAMED = {"inner_lr": "screen_inner_lr", "inner_dt_scale": "screen_inner_dt_scale"}


@dataclass(frozen=True)
class RankedLaw:
    """A law and what the run measured for it (scores: name -> float; NaN/inf are written as null)."""

    rank: int
    law: Law
    scores: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.scores.items()}
        return {"rank": self.rank, **self.law.to_json(), **clean}


def write_laws(path: str | Path, laws: list[RankedLaw], meta: dict) -> None:
    """Write laws.json atomically."""
    doc = {"version": VERSION, "laws": [r.to_json() for r in laws], "meta": meta}
    atomic_write_text(path, json.dumps(doc, indent=2, default=_jsonable) + "\n")


def read_laws(path: str | Path) -> tuple[list[RankedLaw], dict]:
    """Read laws.json back into RankedLaws (the law rebuilt exactly from its formula tree and parameters)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"laws file not found: {p}")
    try:
        doc = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not valid JSON ({exc})") from None
    records = doc.get("laws") if isinstance(doc, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DataError(f"{p} is not a noether laws.json file (it needs a list 'laws' of records)")
    laws = []
    for i, rec in enumerate(records):
        scores = {RENAMED.get(k, k): v for k, v in rec.items() if k not in _LAW_KEYS and k != "rank"}
        try:
            laws.append(RankedLaw(int(rec.get("rank", i + 1)), _law_of(rec), scores))
        except (NoetherError, TypeError, ValueError) as exc:
            raise DataError(f"law {i + 1} in {p} is not readable: {exc}") from None
    return laws, dict(doc.get("meta", {}))


def top_law(path: str | Path, rank: int = 1) -> Law:
    """The law of ``rank`` (1 = the best) in a laws.json."""
    return _ranked(read_laws(path)[0], rank, path).law


def _ranked(laws: list[RankedLaw], rank: int, path) -> RankedLaw:
    if not laws:
        raise DataError(f"{path} holds no laws (the run accepted none)")
    chosen = [r for r in laws if r.rank == rank]
    if not chosen:
        raise DataError(f"no law of rank {rank} in {path}; ranks are 1..{len(laws)}")
    return chosen[0]


def _law_of(rec: dict) -> Law:
    """A record's law: exact from its formula tree, else parsed from its expression (hand-written files)."""
    if "formula" in rec:
        return Law.from_json(rec)
    if "expression" not in rec:
        raise DataError("it has neither 'formula' nor 'expression'")
    names, units = rec.get("names"), rec.get("units")
    if units is None:
        return Law.reference(rec["expression"], names)
    if names is None and isinstance(units, dict):
        names = list(units)
    if names is None:
        raise DataError("'units' given as a list needs 'names'")
    return Law.parse(rec["expression"], names, units)


def export(path: str | Path, fmt: str = "sympy", rank: int = 1) -> str:
    """One law of a laws.json as text: SymPy expression, LaTeX, JSON record, or a Python/NumPy function."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    record = _ranked(read_laws(path)[0], rank, path)
    law = record.law
    if fmt == "sympy":
        return law.expression
    if fmt == "latex":
        return law.latex()
    if fmt == "json":
        return json.dumps(record.to_json(), indent=2, default=_jsonable)
    return python_source(law)


def python_source(law: Law, name: str = "law") -> str:
    """A self-contained NumPy function computing the law (inputs in the law's units)."""
    body = _ExactNumPyPrinter().doprint(law.sympy()).replace("numpy.", "np.")
    units = ", ".join(f"{n} [{u}]" for n, u in zip(law.names, law.to_json()["units"]))
    args = ", ".join(law.names)
    return (
        f"import numpy as np\n\n\ndef {name}({args}):\n"
        f'    """Conserved quantity {law.expression}; inputs {units}; value in {law.unit}."""\n'
        f"    return {body}\n"
    )


class _ExactNumPyPrinter(NumPyPrinter):
    """NumPy code whose floats are the shortest text that reads back to the same double -- the same digits as
    ``Law.expression`` in the function's docstring (SymPy's printer would round to 15 digits)."""

    def _print_Float(self, expr):
        return repr(float(expr))


_LAW_KEYS = {"expression", "latex", "srepr", "formula", "parameters", "parameter_units", "names", "units", "unit"}


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return str(value)
