"""The DSL's vocabulary as data (paper §4.1): leaves Input(i) and Parameter, and an operator table.

Each :class:`Operator` carries its arity, its unit rule, how parameters propagate through it (to tell formulas
that are affine in their parameters from the rest), and its torch / numpy / SymPy implementations. Adding an
operator is one more entry in :data:`OPERATORS`; ``sqrt``, ``log``, ``exp`` and ``cube`` are there, off by default.

Dimensions are fixed-length tuples of exponents over the base dimensions of the inputs (see ``dsl.units``);
``FREE`` (None) is the dimension of a sub-formula that a parameter can give any dimension (``c``, ``c*q``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
import torch

Dim = tuple | None  # exponent tuple, or FREE
FREE = None
INVALID = "invalid"

# parameter classes: how a sub-formula depends on its parameters
NO_PARAMS, AFFINE, NONLINEAR = 0, 1, 2


# ------------------------------------------------------------------ unit rules
# "same": +/- need equal dimensions; "product"/"quotient": add/subtract exponents; "power": multiply them by the
# operator's exponent; "dimensionless": the argument must be dimensionless, and so is the result.
UNIT_RULES = ("same", "product", "quotient", "power", "dimensionless")


def apply_units(op: Operator, dims: tuple[Dim, ...], zero: tuple) -> Dim | str:
    """The dimension of ``op(dims)``, or INVALID; ``zero`` is the dimensionless tuple of the current basis."""
    rule = op.units
    if rule == "same":
        a, b = dims
        if a is FREE:
            return b
        return a if b is FREE or a == b else INVALID
    if rule == "dimensionless":
        (a,) = dims
        return zero if a is FREE or not any(a) else INVALID
    if any(d is FREE for d in dims):
        return FREE
    if rule == "product":
        return tuple(x + y for x, y in zip(*dims))
    if rule == "quotient":
        return tuple(x - y for x, y in zip(*dims))
    if rule == "power":
        return tuple(_num(x * op.exponent) for x in dims[0])
    raise ValueError(f"unknown unit rule '{rule}' of operator '{op.name}'")


def _num(x):
    return int(x) if float(x).is_integer() else x


# ------------------------------------------------------------------ parameter rules (class, ...) -> class
# (elementwise on numpy int arrays too, so enumeration can classify whole blocks of formulas at once)
def _additive(a, b):
    return np.maximum(a, b)


def _multiplicative(a, b):
    return np.where((np.asarray(a) > 0) & (np.asarray(b) > 0), NONLINEAR, np.maximum(a, b))


def _divisive(a, b):
    return np.where(np.asarray(b) > 0, NONLINEAR, a)


def _nonlinear(a):
    return np.where(np.asarray(a) > 0, NONLINEAR, NO_PARAMS)


def _sqrt_abs(a, out=None):  # ``out=``: the batched evaluator writes into preallocated rows
    return torch.sqrt(torch.abs(a), out=out)


def _np_sqrt_abs(a):
    return np.sqrt(np.abs(a))


def _log_abs(a, out=None):
    return torch.log(torch.abs(a), out=out)


def _np_log_abs(a):
    with np.errstate(divide="ignore"):
        return np.log(np.abs(a))


def _cube(a, out=None):
    return torch.pow(a, 3, out=out)


def _np_cube(a):
    return a * a * a


@dataclass(frozen=True)
class Operator:
    """One DSL operation: unit rule, parameter rule and implementations (torch, numpy, sympy)."""

    name: str
    arity: int
    units: str  # one of UNIT_RULES
    params: Callable
    torch: Callable
    numpy: Callable
    sympy: Callable
    commutative: bool = False
    infix: str | None = None  # "+", "-", "*", "/" for binary infix operators
    precedence: int = 4
    # op(a, c) with a bare parameter on the right equals another op(a, c') after reparametrising c
    # (a - c = a + (-c), a / c = a * (1/c)): such formulas duplicate that op's and are pruned
    reparam_of: str | None = None
    exponent: float = 1.0  # for the "power" unit rule


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("add", 2, "same", _additive, torch.add, np.add, lambda a, b: a + b, True, "+", 1),
        Operator("sub", 2, "same", _additive, torch.sub, np.subtract, lambda a, b: a - b, False, "-", 1, "add"),
        Operator("mul", 2, "product", _multiplicative, torch.mul, np.multiply, lambda a, b: a * b, True, "*", 2),
        Operator("div", 2, "quotient", _divisive, torch.div, np.divide, lambda a, b: a / b, False, "/", 2, "mul"),
        Operator("square", 1, "power", _nonlinear, torch.square, np.square, lambda a: a**2, precedence=3, exponent=2),
        Operator("sin", 1, "dimensionless", _nonlinear, torch.sin, np.sin, sympy.sin),
        Operator("cos", 1, "dimensionless", _nonlinear, torch.cos, np.cos, sympy.cos),
        # beyond the paper (``--ops``): defined on every real number, so no batch ever holds a NaN from a domain
        # error -- sqrt and log read |a| (on positive data, the usual sqrt and log); exp's overflow is +inf, and a
        # formula that is not finite on the data is masked like x/0
        Operator(
            "sqrt", 1, "power", _nonlinear, _sqrt_abs, _np_sqrt_abs, lambda a: sympy.sqrt(sympy.Abs(a)), exponent=0.5
        ),
        Operator("log", 1, "dimensionless", _nonlinear, _log_abs, _np_log_abs, lambda a: sympy.log(sympy.Abs(a))),
        Operator("exp", 1, "dimensionless", _nonlinear, torch.exp, np.exp, sympy.exp),
        Operator("cube", 1, "power", _nonlinear, _cube, _np_cube, lambda a: a**3, precedence=3, exponent=3),
    )
}
#: the paper's operators, the default; the others are switched on by name (``ops=``, ``--ops``)
DEFAULT_OPERATORS = ("add", "sub", "mul", "div", "square", "sin", "cos")
EXTRA_OPERATORS = ("sqrt", "log", "exp", "cube")


class Formula:
    """An immutable, hashable formula node. ``op`` is "x" (Input, ``index`` = state column), "c" (Parameter) or
    an operator name; parameters are numbered c0, c1, ... left to right, so equal trees are equal formulas."""

    __slots__ = ("op", "args", "index", "size", "n_params", "has_input", "param_class", "_hash")

    def __init__(self, op: str, args: tuple[Formula, ...] = (), index: int | None = None):
        if op not in ("x", "c") and op not in OPERATORS:
            raise ValueError(f"unknown DSL operation '{op}'")
        setattr_ = object.__setattr__
        setattr_(self, "op", op)
        setattr_(self, "args", tuple(args))
        setattr_(self, "index", index)
        if op == "x":
            size, n_params, has_input, pclass = 1, 0, True, NO_PARAMS
        elif op == "c":
            size, n_params, has_input, pclass = 1, 1, False, AFFINE
        else:
            operator = OPERATORS[op]
            if len(self.args) != operator.arity:
                raise ValueError(f"'{op}' takes {operator.arity} argument(s), got {len(self.args)}")
            size = 1 + sum(a.size for a in self.args)
            n_params = sum(a.n_params for a in self.args)
            has_input = any(a.has_input for a in self.args)
            pclass = int(operator.params(*(a.param_class for a in self.args)))
        setattr_(self, "size", size)
        setattr_(self, "n_params", n_params)
        setattr_(self, "has_input", has_input)
        setattr_(self, "param_class", pclass)
        setattr_(self, "_hash", hash((op, index, self.args)))

    def __setattr__(self, name, value):
        raise AttributeError("Formula is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return self is other or (
            isinstance(other, Formula)
            and self._hash == other._hash
            and self.op == other.op
            and self.index == other.index
            and self.args == other.args
        )

    def __reduce__(self):
        return Formula, (self.op, self.args, self.index)

    @property
    def linear(self) -> bool:
        """True when the formula is affine in its parameters jointly: g = φ0(x) + Σ_k c_k φ_k(x)."""
        return self.param_class != NONLINEAR

    # ------------------------------------------------------------- text
    def render(self, names: tuple[str, ...] | None = None, values=None, digits: int = 6) -> str:
        """SymPy-parsable text, parameters named c0, c1, ... in left-to-right order -- or, given their ``values``,
        those values with ``digits`` significant digits (a quick fitted form, not simplified by SymPy)."""
        counter = iter(range(10**6))
        shown = None if values is None else [_number(float(v), digits) for v in values]
        return _render(self, names, counter, shown)[0]

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Formula({self.render()})"

    def to_list(self) -> list:
        """Nested-list form for JSON: ["x", i], ["c"], [op, child, ...]."""
        if self.op == "x":
            return ["x", self.index]
        if self.op == "c":
            return ["c"]
        return [self.op, *(a.to_list() for a in self.args)]

    @classmethod
    def from_list(cls, data) -> Formula:
        if not isinstance(data, list | tuple) or not data:
            raise ValueError(f"not a formula: {data!r}")
        if data[0] == "x":
            return cls("x", index=int(data[1]))
        if data[0] == "c":
            return cls("c")
        return cls(data[0], tuple(cls.from_list(a) for a in data[1:]))

    def nodes(self):
        """All nodes in pre-order (a node shared twice is yielded twice)."""
        yield self
        for a in self.args:
            yield from a.nodes()


PARAM = Formula("c")


def inp(i: int) -> Formula:
    return Formula("x", index=i)


def _number(v: float, digits: int) -> str:
    """A parameter value as an atom of the rendered text: parenthesised when negative or in e-notation."""
    text = f"{v:.{digits}g}"
    return f"({text})" if v < 0 or "e" in text or not np.isfinite(v) else text


def _render(f: Formula, names, counter, values=None) -> tuple[str, int]:
    if f.op == "x":
        return (names[f.index] if names else f"x{f.index}"), 5
    if f.op == "c":
        k = next(counter)
        return (f"c{k}" if values is None else values[k]), 5
    op = OPERATORS[f.op]
    if op.infix:
        (left, pl), (right, pr) = (_render(a, names, counter, values) for a in f.args)
        if pl < op.precedence:
            left = f"({left})"
        # right operand of - and / binds tighter; of + and * the same level is fine
        if pr < op.precedence or (pr == op.precedence and not op.commutative):
            right = f"({right})"
        return f"{left} {op.infix} {right}", op.precedence
    inner, pi = _render(f.args[0], names, counter, values)
    if f.op in ("square", "cube"):
        power = 2 if f.op == "square" else 3
        return (f"{inner}**{power}" if pi >= 5 else f"({inner})**{power}"), 3
    if f.op in ("sqrt", "log"):  # read |a|, as the operator does (see OPERATORS)
        return f"{f.op}(Abs({inner}))", 5
    return f"{f.op}({inner})", 5


def fold(f: Formula, x: list, c: list, apply: Callable):
    """Evaluate a formula tree bottom-up: Input(i) -> x[i], the k-th Parameter -> c[k], an operator node ->
    ``apply(op, *children)`` (``op`` its OPERATORS entry)."""
    counter = iter(range(len(c)))

    def go(node: Formula):
        if node.op == "x":
            return x[node.index]
        if node.op == "c":
            return c[next(counter)]
        return apply(OPERATORS[node.op], *(go(a) for a in node.args))

    return go(f)


def to_sympy(f: Formula, inputs: list, params: list) -> sympy.Expr:
    """Build a SymPy expression; ``inputs[i]`` and ``params[k]`` are SymPy objects (Symbols or Floats)."""
    return fold(f, inputs, params, lambda op, *args: op.sympy(*args))


def evaluate_one(f: Formula, x: list, c: list, lib: str = "torch"):
    """Plain recursive evaluation of one formula (the slow obvious reference): x[i] and c[k] are arrays."""
    return fold(f, x, c, lambda op, *args: getattr(op, lib)(*args))
