"""Load a discovered conservation law for use as a Noether embedding (``noether video train --law laws.json``).

The pipeline writes ``laws.json`` with a list ``laws``, each with ``expression`` (a SymPy string), ``parameters``
and ``units``; the first (best-ranked) law is used. When the DSL's :class:`noether.dsl.Law` is available it does
the parsing (``Law.from_json`` / ``Law.parse``); otherwise a small SymPy -> torch translation does, so an
expression can also be given directly (``--law-expr "p**2 - 3*cos(q)"``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy
import torch
from torch import Tensor

from ...errors import DataError

STATE_NAMES = ("q", "p")  # the pendulum-pixels readout's outputs, in order

_TORCH = {"sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
          "sqrt": torch.sqrt, "Abs": torch.abs, "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh,
          "pi": math.pi, "E": math.e}


@dataclass(frozen=True)
class SympyLaw:
    """A conserved quantity from a SymPy expression string: ``torch(X [..., d]) -> [...]`` differentiable in X."""

    expression: str
    names: tuple[str, ...]

    @classmethod
    def parse(cls, expression: str) -> SympyLaw:
        try:
            expr = sympy.sympify(expression)
        except (sympy.SympifyError, SyntaxError, TypeError) as exc:
            raise DataError(f"cannot parse law expression '{expression}': {exc}") from None
        names = tuple(sorted(str(s) for s in expr.free_symbols))
        if not names:
            raise DataError(f"law expression '{expression}' has no inputs")
        return cls(str(expr), names)

    def torch(self, X: Tensor) -> Tensor:
        symbols = sympy.symbols(self.names)
        fn = sympy.lambdify(symbols, sympy.sympify(self.expression), modules=[_TORCH])
        out = fn(*X.unbind(-1))
        return out if isinstance(out, Tensor) else torch.full(X.shape[:-1], float(out), dtype=X.dtype)


def _law_names(law: Any) -> tuple[str, ...]:
    for attr in ("names", "input_names", "inputs"):
        names = getattr(law, attr, None)
        if names:
            return tuple(str(n) for n in names)
    raise DataError(f"law {law!r} does not say which inputs it reads")


def law_from_json(path: str | Path, rank: int = 0) -> Any:
    """The ``rank``-th law of a pipeline ``laws.json`` (via ``noether.dsl.Law`` when available)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"law file '{path}' does not exist") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"law file '{path}' is not valid JSON: {exc}") from None
    laws = doc.get("laws") if isinstance(doc, dict) else None
    if not laws or rank >= len(laws):
        raise DataError(f"law file '{path}' has no law of rank {rank} (needs a non-empty list 'laws')")
    entry = laws[rank]
    if "expression" not in entry:
        raise DataError(f"law {rank} in '{path}' has no 'expression'")
    try:
        from ...dsl import Law  # the DSL helper's Law, when present
    except ImportError:
        return SympyLaw.parse(entry["expression"])
    if "formula" not in entry:  # a hand-written file with only an expression: read it as text
        return SympyLaw.parse(entry["expression"])
    return Law.from_json(entry)  # a pipeline laws.json: exact, and a malformed entry is a clear error


def law_from_expression(expression: str) -> Any:
    """A law from an expression string over the pendulum's q, p (DSL ``Law.parse`` when available)."""
    try:
        from ...dsl import Law
    except ImportError:
        return SympyLaw.parse(expression)
    try:
        return Law.parse(expression, names=list(STATE_NAMES), units={"q": "rad"})
    except Exception:
        return SympyLaw.parse(expression)


def law_columns(law: Any) -> list[int]:
    """Readout columns (of q, p) feeding the law's inputs, in the law's input order."""
    names = _law_names(law)
    missing = [n for n in names if n not in STATE_NAMES]
    if missing:
        raise DataError(f"law reads {missing}, but the pixel readout only gives {list(STATE_NAMES)}")
    return [STATE_NAMES.index(n) for n in names]
