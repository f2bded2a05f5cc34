"""A conservation law: a DSL formula, its fitted parameter values, and the inputs' names and units.

Converts to SymPy (parameters as Floats, or as Symbols c0, c1, ...), LaTeX, JSON and numpy / torch callables;
``Law.from_sympy``, ``Law.from_json`` and ``Law.parse`` read them back, checking units (UnitError).
Round trips are exact: ``Law.from_json(law.to_json()) == law`` and
``Law.from_sympy(law.sympy(), ...).sympy() == law.sympy()``; ``law.expression`` prints every float with
enough digits to parse back to the same double. (One exception: SymPy folds a parameter whose value is exactly
0 or ±1 into the expression, e.g. ``-1.0*sin(q)``; such a law reads back as an equal function.)
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pint
import sympy
import torch
from sympy.parsing.sympy_parser import parse_expr, standard_transformations
from sympy.printing.str import StrPrinter

from ..errors import ConfigError, NoetherError
from ..units import parse_unit, resolve_units, unit_label
from .grammar import OPERATORS, PARAM, Formula, evaluate_one, inp, to_sympy
from .units import DimensionBasis, check_units, infer_dims


class FormulaError(NoetherError, ValueError):
    """A formula outside the DSL: an unknown variable or function, a non-integer power, bad syntax."""


@dataclass(frozen=True)
class Law:
    """formula: the DSL formula; params: its parameter values (slot order c0, c1, ...); names/units: inputs."""

    formula: Formula
    params: tuple[float, ...]
    names: tuple[str, ...]
    units: tuple[pint.Unit, ...]

    def __post_init__(self):
        object.__setattr__(self, "params", tuple(float(v) for v in self.params))
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "units", resolve_units(self.names, self.units))
        if len(self.params) != self.formula.n_params:
            raise ConfigError(f"'{self.formula}' has {self.formula.n_params} parameters, got {len(self.params)} values")
        if any(a.op == "x" and a.index >= len(self.names) for a in self.formula.nodes()):
            raise ConfigError(f"'{self.formula}' uses more inputs than the {len(self.names)} names {self.names}")
        check_units(self.formula, DimensionBasis(self.units), self.names)

    # ------------------------------------------------------------------ views
    def sympy(self, symbolic: bool = False) -> sympy.Expr:
        """The law as a SymPy expression over Symbols named like the inputs; parameters as Floats, or as
        Symbols c0, c1, ... when ``symbolic``."""
        xs = [sympy.Symbol(n) for n in self.names]
        if symbolic:
            cs = list(sympy.symbols(f"c0:{len(self.params)}")) if self.params else []
        else:
            cs = [_float(v) for v in self.params]
        return to_sympy(self.formula, xs, cs)

    @property
    def expression(self) -> str:
        """SymPy-parsable text; floats keep enough digits to parse back to the same double."""
        return _Printer().doprint(self.sympy())

    def display(self, digits: int = 6) -> str:
        """The expression with every float at ``digits`` significant digits: what tables and the console show
        (laws.json and the exports keep ``expression``, which reads back to the same doubles)."""
        return _Printer(digits).doprint(self.sympy())

    def srepr(self) -> str:
        return sympy.srepr(self.sympy())

    def latex(self, symbolic: bool = False) -> str:
        return sympy.latex(self.sympy(symbolic))

    def __str__(self) -> str:
        return self.expression

    def _repr_latex_(self) -> str:
        """Jupyter's LaTeX view."""
        return f"${self.latex()}$"

    def _repr_html_(self) -> str:
        """Jupyter's HTML view: the expression, the inputs with their units, the law's unit."""
        inputs = ", ".join(f"{n} [{unit_label(u)}]" for n, u in zip(self.names, self.units))
        return (
            f"<code>{html.escape(self.display())}</code><br><small>inputs: {html.escape(inputs)}; "
            f"unit: {html.escape(self.unit)}</small>"
        )

    @property
    def parameter_units(self) -> tuple[str, ...]:
        """The unit each parameter must carry (SI base units; dimensionless where the units leave it free)."""
        basis = DimensionBasis(self.units)
        return tuple(basis.to_unit(d) for d in infer_dims(self.formula, basis)[0])

    @property
    def unit(self) -> str:
        """The law's own unit (it need not be an energy)."""
        basis = DimensionBasis(self.units)
        return basis.to_unit(infer_dims(self.formula, basis)[1])

    # ------------------------------------------------------------------ evaluation
    def torch(self, X: torch.Tensor) -> torch.Tensor:
        """g(X): X [..., d] -> [...], differentiable in X, in X's dtype and device."""
        X = torch.as_tensor(X)
        if not X.is_floating_point():
            X = X.double()
        c = [torch.tensor(v, dtype=X.dtype, device=X.device) for v in self.params]
        out = evaluate_one(self.formula, [X[..., i] for i in range(X.shape[-1])], c, "torch")
        return out.expand(X.shape[:-1]) if out.shape != X.shape[:-1] else out

    def numpy(self, X) -> np.ndarray:
        """g(X): X [..., d] -> [...] as float64."""
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = evaluate_one(self.formula, [X[..., i] for i in range(X.shape[-1])], list(self.params), "numpy")
        return np.broadcast_to(out, X.shape[:-1]).astype(np.float64)

    def __call__(self, X):
        return self.torch(X) if isinstance(X, torch.Tensor) else self.numpy(X)

    # ------------------------------------------------------------------ files
    def to_json(self) -> dict:
        """A JSON-ready dict: the formula tree and exact parameter values, plus readable forms."""
        return {
            "expression": self.expression,
            "latex": self.latex(),
            "srepr": self.srepr(),
            "formula": self.formula.to_list(),
            "parameters": list(self.params),
            "parameter_units": list(self.parameter_units),
            "names": list(self.names),
            "units": [unit_label(u) for u in self.units],
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: Mapping | str) -> Law:
        """Inverse of :meth:`to_json` (a dict or its JSON text)."""
        if isinstance(data, str):
            data = json.loads(data)
        try:
            formula = Formula.from_list(data["formula"])
            return cls(
                formula,
                tuple(data["parameters"]),
                tuple(data["names"]),
                tuple(parse_unit(u, n) for u, n in zip(data["units"], data["names"])),
            )
        except (KeyError, TypeError, IndexError) as exc:
            raise FormulaError(f"not a law in JSON form ({type(exc).__name__}: {exc})") from None

    @classmethod
    def from_sympy(
        cls, expr: sympy.Expr, names: Sequence[str] | None = None, units=None, params: Mapping[str, float] | None = None
    ) -> Law:
        """Read a SymPy expression: Symbols named like the inputs, numbers become parameters with their value,
        Symbols listed in ``params`` become parameters with the given value. Unit violations: UnitError."""
        expr = sympy.sympify(expr)
        params = dict(params or {})
        if names is None:
            names = sorted(str(s) for s in expr.free_symbols if str(s) not in params)
        names = tuple(names)
        values: list[float] = []
        formula = _convert(expr, {n: i for i, n in enumerate(names)}, params, values)
        return cls(formula, tuple(values), names, resolve_units(names, units))

    @classmethod
    def parse(cls, text: str, names: Sequence[str], units=None, params: Mapping[str, float] | None = None) -> Law:
        """Parse a user's formula, e.g. ``Law.parse("p**2 - 3*cos(q)", ["q", "p"], {"q": "rad", ...})``.
        Give a coefficient the unit it needs with a named parameter: ``"q**2 + k*p**2", params={"k": 1}``."""
        names = tuple(names)
        params = dict(params or {})
        local = {n: sympy.Symbol(n) for n in (*names, *params)}
        local.update({o: getattr(sympy, o) for o in OPERATORS if hasattr(sympy, o)})
        try:
            expr = parse_expr(text, local_dict=local, transformations=standard_transformations, evaluate=True)
        except (SyntaxError, TypeError, ValueError, AttributeError, sympy.SympifyError) as exc:
            raise FormulaError(f"cannot parse formula '{text}': {exc}") from None
        return cls.from_sympy(expr, names, units, params)

    @classmethod
    def reference(cls, text: str, names: Sequence[str] | None = None) -> Law:
        """A formula given in the data's own numbers, without units -- an oracle Hamiltonian such as the spring's
        ``q**2 + p**2``, a hand-coded law, a law over a video model's state readout: every input is taken as
        dimensionless. names: the inputs in order (default: the formula's symbols, sorted). This is the one way
        a formula's text becomes a torch callable (``Law.torch``)."""
        names = tuple(names) if names is not None else tuple(_symbol_names(text))
        return cls.parse(text, names, units={n: "dimensionless" for n in names})


def _symbol_names(text: str) -> list[str]:
    """The free symbols of a formula's text, sorted (the inputs of a law given without names)."""
    try:
        return sorted(str(s) for s in sympy.sympify(text).free_symbols)
    except (sympy.SympifyError, SyntaxError, TypeError, ValueError, AttributeError) as exc:
        raise FormulaError(f"cannot parse formula '{text}': {exc}") from None


def _float(v: float) -> sympy.Number:
    """Integral values as SymPy Integers (``3*cos(q)``), others as exact binary Floats; 0 and ±1 stay Floats so
    that SymPy keeps the parameter (``1.0*p**2``) and with it the unit it carries."""
    v = float(v)
    if v.is_integer() and 1 < abs(v) < 2**53:
        return sympy.Integer(int(v))
    return sympy.Float(v)


class _Printer(StrPrinter):
    """SymPy's str, with every Float printed by repr (the shortest text that parses back to the same double), or
    with ``digits`` significant digits."""

    def __init__(self, digits: int | None = None):
        super().__init__()
        self.digits = digits

    def _print_Float(self, expr):
        return repr(float(expr)) if self.digits is None else f"{float(expr):.{self.digits}g}"


def _convert(expr, names: dict, params: dict, values: list) -> Formula:
    """SymPy -> Formula, appending parameter values in slot (left-to-right) order."""

    def param(value) -> Formula:
        values.append(_to_float(value))
        return PARAM

    def go(e) -> Formula:
        if e.is_Symbol:
            name = str(e)
            if name in names:
                return inp(names[name])
            if name in params:
                return param(params[name])
            raise FormulaError(
                f"unknown variable '{name}'; inputs are {list(names)}"
                + (f", parameters {list(params)}" if params else "")
            )
        if e.is_number:
            if not e.is_real:
                raise FormulaError(f"'{e}' is not a real number")
            return param(e)
        if e.is_Add:
            terms = list(e.args)
            out = go(terms[0])
            for t in terms[1:]:
                neg = -t
                if _is_negative(t):
                    out = Formula("sub", (out, go(neg)))
                else:
                    out = Formula("add", (out, go(t)))
            return out
        if e.is_Mul:
            coeff, factors = e.as_coeff_mul()
            num, den = [], []
            for f in factors:
                if f.is_Pow and f.exp.is_number and f.exp.is_negative:
                    den.append(f.base ** (-f.exp))
                else:
                    num.append(f)
            if coeff == 1 and coeff.is_Integer and not num:  # 1/d, written d / d**2: no parameter needed
                d = go(sympy.Mul(*den))
                return Formula("div", (d, Formula("square", (d,))))
            if coeff == -1 and coeff.is_Integer and num:  # SymPy's exact -y (sin(-x) = -sin(x)), as y - y - y
                start = len(values)
                y = go(sympy.Mul(*num, *(1 / f for f in den)))
                values.extend(values[start:] * 2)  # y appears three times, with its parameters each time
                return Formula("sub", (Formula("sub", (y, y)), y))
            top = [param(coeff)] if coeff != 1 or not num else []
            out = None
            for part in [*top, *(go(f) for f in num)]:
                out = part if out is None else Formula("mul", (out, part))
            for f in den:
                out = Formula("div", (out, go(f)))
            return out
        if e.is_Pow:
            base, exp = e.args
            if isinstance(base, sympy.Abs) and exp == sympy.Rational(1, 2):  # how the sqrt operator exports
                return Formula("sqrt", (go(base.args[0]),))
            if exp.is_Rational and exp.q == 2 and exp > 1:  # a**(k/2) = sqrt(a)**k (|a| as the sqrt operator reads it)
                inner = base.args[0] if isinstance(base, sympy.Abs) else base
                return _power(Formula("sqrt", (go(inner),)), int(exp.p))
            if exp.is_number and exp.is_negative and not exp.is_Integer:  # 1/sqrt(r): d / d**2 with d = sqrt(r)
                d = go(base ** (-exp))
                return Formula("div", (d, Formula("square", (d,))))
            if exp.is_Integer and exp < 0:
                d = _power(go(base), int(-exp))
                return Formula("div", (d, Formula("square", (d,))))
            if exp.is_Integer and exp > 0:
                return _power(go(base), int(exp))
            for name, op in OPERATORS.items():
                if op.arity == 1 and op.units == "power" and exp.is_number and float(exp) == op.exponent:
                    return Formula(name, (go(base),))
            raise FormulaError(f"the power '{e}' is not in the DSL (integer powers of its operands and of sqrt only)")
        if e.is_Function:
            name = type(e).__name__.lower()
            if name == "log" and isinstance(e.args[0], sympy.Abs):  # how the log operator exports
                return Formula("log", (go(e.args[0].args[0]),))
            if name == "abs":  # |a| = sqrt(a**2): the sqrt operator reads |.|, so this is exact
                return Formula("sqrt", (Formula("square", (go(e.args[0]),)),))
            if name in OPERATORS and OPERATORS[name].arity == len(e.args):
                return Formula(name, tuple(go(a) for a in e.args))
            raise FormulaError(
                f"the function '{type(e).__name__}' is not in the DSL; operations are {sorted(OPERATORS)}"
            )
        raise FormulaError(f"'{e}' is not in the DSL")

    return go(expr)


def _to_float(value) -> float:
    """Exact for binary Floats (53 bits); a Float parsed from decimal text with more digits is read from its
    digits, since rounding it to 53 bits twice could land on the neighbouring double."""
    if isinstance(value, sympy.Float) and value._prec > 53:
        return float(str(value))
    return float(value)


def _is_negative(term) -> bool:
    if term.is_number:
        return bool(term.is_negative)
    coeff, _ = term.as_coeff_mul()
    return bool(coeff.is_negative)


def _power(f: Formula, n: int) -> Formula:
    """f**n with square and multiplication (binary exponentiation)."""
    if n == 1:
        return f
    if n % 2 == 0:
        return Formula("square", (_power(f, n // 2),))
    return Formula("mul", (_power(f, n - 1), f))
