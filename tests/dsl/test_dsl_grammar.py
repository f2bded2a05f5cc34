"""Grammar and units: formulas as immutable values, unit rules, unit-invalid formulas never enumerated."""

import pytest

from noether.dsl import OPERATORS, Formula, enumerate_space
from noether.dsl.enumerate import Probes, count_space, enumerate_raw
from noether.dsl.grammar import DEFAULT_OPERATORS, FREE, INVALID, PARAM, apply_units, inp
from noether.dsl.units import DimensionBasis, check_units, infer_dims
from noether.errors import UnitError
from noether.units import resolve_units

q, p = inp(0), inp(1)


def F(op, *args):
    return Formula(op, args)


def raw_formulas(canon, names, units, depth, max_params=2):
    basis = DimensionBasis(resolve_units(names, units))
    raw = enumerate_raw(
        list(basis.inputs),
        basis.zero,
        depth=depth,
        max_params=max_params,
        probes=Probes.make(len(names), max(max_params, 1)),
    )
    return raw, canon(raw.formulas(range(len(raw))))


def test_formulas_are_immutable_hashable_values():
    a = F("add", F("square", p), F("mul", PARAM, F("cos", q)))
    b = F("add", F("square", inp(1)), F("mul", Formula("c"), F("cos", inp(0))))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.size == 7 and a.n_params == 1 and a.linear
    assert str(a) == "x1**2 + c0 * cos(x0)"
    assert a.render(("q", "p")) == "p**2 + c0 * cos(q)"
    assert Formula.from_list(a.to_list()) == a
    with pytest.raises(AttributeError):
        a.op = "sub"
    assert not F("sin", F("mul", PARAM, q)).linear
    assert F("sub", F("mul", PARAM, q), F("div", PARAM, p)).n_params == 2
    assert str(F("sub", q, F("sub", p, q))) == "x0 - (x1 - x0)"
    assert str(F("div", F("mul", q, p), F("mul", q, p))) == "x0 * x1 / (x0 * x1)"


def test_unit_rules_are_data():
    zero = (0, 0)
    assert apply_units(OPERATORS["add"], ((1, 0), (1, 0)), zero) == (1, 0)
    assert apply_units(OPERATORS["add"], ((1, 0), (0, 1)), zero) is INVALID
    assert apply_units(OPERATORS["add"], (FREE, (0, 1)), zero) == (0, 1)
    assert apply_units(OPERATORS["mul"], (FREE, (0, 1)), zero) is FREE
    assert apply_units(OPERATORS["sin"], ((1, 0),), zero) is INVALID
    assert apply_units(OPERATORS["sin"], (FREE,), zero) == zero
    assert apply_units(OPERATORS["square"], ((1, -1),), zero) == (2, -2)
    assert apply_units(OPERATORS["div"], ((1, 0), (0, 1)), zero) == (1, -1)


def test_spring_space_has_no_unit_invalid_formula_but_has_sin_cq(canon):
    raw, forms = raw_formulas(canon, ("q", "p"), ("m", "kg*m/s"), depth=7)
    assert F("add", q, p) not in forms and F("add", p, q) not in forms
    assert F("sin", q) not in forms and F("cos", q) not in forms
    assert F("sin", F("mul", PARAM, q)) in forms and F("add", F("square", q), F("mul", PARAM, F("square", p))) in forms
    basis = DimensionBasis(resolve_units(("q", "p"), ("m", "kg*m/s")))
    for f in raw.formulas(range(len(raw))):  # every enumerated formula, and so every sub-formula, passes the unit check
        check_units(f, basis, ("q", "p"))


def test_pendulum_angle_is_dimensionless(canon):
    _, forms = raw_formulas(canon, ("q", "p"), ("rad", "kg*m**2/s"), depth=4)
    assert F("sin", q) in forms and F("cos", q) in forms
    assert F("sin", p) not in forms and F("sin", F("mul", PARAM, p)) in forms


def test_states_without_units_get_independent_dimensions(canon):
    _, forms = raw_formulas(canon, ("x", "y"), None, depth=3)
    assert F("add", q, p) not in forms and F("sin", q) not in forms
    assert F("mul", q, p) in forms and F("add", q, F("mul", PARAM, p)) not in forms  # size 5 > depth
    _, forms = raw_formulas(canon, ("x", "y"), {"x": None, "y": None}, depth=5)
    assert F("add", q, F("mul", PARAM, p)) in forms  # c carries [x]/[y]


def test_unit_errors_name_the_sub_formula():
    basis = DimensionBasis(resolve_units(("q", "p"), ("m", "kg*m/s")))
    with pytest.raises(UnitError, match=r"'q \+ p'.*equal dimension"):
        check_units(F("add", q, p), basis, ("q", "p"))
    with pytest.raises(UnitError, match=r"'sin\(q\)'.*dimensionless"):
        check_units(F("mul", p, F("sin", q)), basis, ("q", "p"))
    with pytest.raises(UnitError, match="furlongz"):
        resolve_units(("q",), ("furlongz",))


def test_parameter_units_are_inferred():
    basis = DimensionBasis(resolve_units(("q", "p"), ("m", "kg*m/s")))
    params, root = infer_dims(F("add", F("square", q), F("mul", PARAM, F("square", p))), basis)
    assert basis.to_unit(params[0]) == "s**2/kg**2"
    assert basis.label(root) == "[length]**2"
    assert params[0] == tuple(2 * a - 2 * b for a, b in zip(basis.inputs[0], basis.inputs[1]))
    params, _ = infer_dims(F("sin", F("mul", PARAM, q)), basis)
    assert params[0] == tuple(-a for a in basis.inputs[0])


def _brute_force(input_dims, zero, depth, max_params, key=None):
    """Every formula tree up to depth, unit-checked one by one (slow and obvious)."""
    by_size = {1: [(inp(i), d) for i, d in enumerate(input_dims)] + [(PARAM, FREE)]}
    for size in range(2, depth + 1):
        out = []
        for name, op in ((n, OPERATORS[n]) for n in DEFAULT_OPERATORS):
            if op.arity == 1:
                for f, d in by_size[size - 1]:
                    nd = apply_units(op, (d,), zero)
                    if nd is not INVALID:
                        out.append((Formula(name, (f,)), nd))
                continue
            for sl in range(1, size - 1):
                for a, da in by_size[sl]:
                    for b, db in by_size[size - 1 - sl]:
                        nd = apply_units(op, (da, db), zero)
                        if nd is not INVALID and a.n_params + b.n_params <= max_params:
                            out.append((Formula(name, (a, b)), nd))
        by_size[size] = out
    forms = [f for s in by_size for f, _ in by_size[s]]
    if key is not None:  # count formulas up to commutativity
        seen = set()
        for f in forms:
            seen.add(key(f))
        return len(seen)
    return len(forms)


@pytest.mark.parametrize("units", [("m", "kg*m/s"), ("rad", "kg*m**2/s"), (None, None)])
def test_counts_match_a_brute_force_enumeration(units, canon):
    basis = DimensionBasis(resolve_units(("q", "p"), units))
    counts = count_space(list(basis.inputs), basis.zero, depth=5, max_params=2)
    assert sum(counts["valid"].values()) == _brute_force(basis.inputs, basis.zero, 5, 2)
    assert sum(counts["commutativity"].values()) == _brute_force(basis.inputs, basis.zero, 5, 2, canon.key)


def test_materialised_enumeration_matches_the_counts(canon):
    raw, forms = raw_formulas(canon, ("q", "p"), ("rad", "kg*m**2/s"), depth=6)
    assert len(set(forms)) == forms.n == len(raw)  # no formula enumerated twice, even up to commutativity
    assert len(raw) - 1 == sum(raw.counts["reparametrised"].values())  # all but the bare parameter


def test_depth_and_params_are_respected():
    space = enumerate_space(("q", "p"), ("rad", "kg*m**2/s"), depth=5, max_params=1)
    assert space.sizes.max() <= 5 and space.n_params.max() <= 1
    with pytest.raises(ValueError):
        enumerate_space(("q",), ("m",), depth=0)
