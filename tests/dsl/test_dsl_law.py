"""Laws: exact JSON and SymPy round trips, parsing with unit checks, numpy/torch callables, the CLI count."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from noether.cli import cli
from noether.dsl import enumerate_space
from noether.dsl.law import FormulaError, Law
from noether.errors import UnitError

PEND = {"q": "rad", "p": "kg*m**2/s"}
SPRING = {"q": "m", "p": "kg*m/s"}


@pytest.fixture(scope="module")
def laws():
    space = enumerate_space(("q", "p"), PEND, depth=5)
    rng = np.random.default_rng(0)
    params = rng.normal(size=(len(space), 2)) * 10.0 ** rng.integers(-3, 4, size=(len(space), 1))
    params[::7] = np.round(params[::7]) + 2 * np.sign(params[::7])  # integral values (SymPy Integers), not 0, ±1
    return [space.law(i, params[i]) for i in range(len(space))]


def test_json_round_trip_is_exact(laws):
    for law in laws:
        text = json.dumps(law.to_json())
        back = Law.from_json(text)
        assert back == law and back.params == law.params


def test_sympy_round_trip_is_exact(laws):
    for law in laws:
        expr = law.sympy()
        back = Law.from_sympy(expr, law.names, law.units)
        assert back.sympy() == expr, law.expression
        np.testing.assert_allclose(
            back.numpy(np.array([[0.3, -1.1], [1.7, 0.4]])),
            law.numpy(np.array([[0.3, -1.1], [1.7, 0.4]])),
            rtol=1e-6,
            atol=1e-9,
        )


def test_expression_text_parses_back_to_the_same_doubles(laws):
    for law in laws[::5]:
        back = Law.parse(law.expression, law.names, law.units)
        assert back.sympy() == law.sympy(), law.expression


def test_parse_and_views():
    law = Law.parse("p**2 - 3*cos(q)", ["q", "p"], PEND)
    assert law.params == (3.0,) and law.formula.size == 7
    assert law.expression == "p**2 - 3*cos(q)" and law.latex() == r"p^{2} - 3 \cos{\left(q \right)}"
    assert str(law.sympy(symbolic=True)) == "-c0*cos(q) + p**2"
    assert law.parameter_units == ("kg**2*m**4/s**2",) and law.unit == "kg**2*m**4/s**2"
    X = np.array([[0.5, 1.0], [2.0, -0.3]])
    expected = X[:, 1] ** 2 - 3 * np.cos(X[:, 0])
    np.testing.assert_allclose(law.numpy(X), expected)
    Xt = torch.tensor(X, requires_grad=True)
    out = law(Xt)
    out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected)
    np.testing.assert_allclose(Xt.grad.numpy(), np.stack([3 * np.sin(X[:, 0]), 2 * X[:, 1]], axis=1))
    spring = Law.parse("q**2 + k*p**2", ["q", "p"], SPRING, params={"k": 1.0})
    assert spring.parameter_units == ("s**2/kg**2",)


@pytest.mark.parametrize(
    "text, error, match",
    [
        ("q + p", UnitError, "equal dimension"),
        ("sin(q)", UnitError, "dimensionless"),
        ("q**2 + p**2", UnitError, "equal dimension"),
        ("tan(q)", FormulaError, "not in the DSL"),
        ("q**0.3", FormulaError, "integer powers"),
        ("x + q", FormulaError, "unknown variable 'x'"),
        ("q +* p", FormulaError, "cannot parse"),
    ],
)
def test_parse_errors_are_clear(text, error, match):
    with pytest.raises(error, match=match):
        Law.parse(text, ["q", "p"], SPRING)


def test_odd_powers_of_a_square_root_parse_as_powers_of_sqrt():
    """r**5 and 1/r**3 with r = sqrt(x**2 + y**2), as a composite law over a derived r exports them."""
    law = Law.parse("x*sqrt(x**2 + y**2)**5 + 1/sqrt(Abs(x**2 + y**2))**3", ["x", "y"], {"x": "", "y": ""})
    assert law.numpy(np.array([[3.0, 4.0]]))[0] == pytest.approx(3 * 5**5 + 1 / 125)


def test_sin_of_scaled_metres_is_valid():
    law = Law.parse("sin(2*q)", ["q", "p"], SPRING)
    assert law.parameter_units == ("1/m",)


def test_cli_count_prints_steps_and_rejects_bad_input():
    res = CliRunner().invoke(cli, ["dsl", "count", "--system", "spring", "--depth", "5"])
    assert res.exit_code == 0, res.output
    for step in ("valid", "commutativity", "no input", "redundant parameters", "constant", "same function", "affine"):
        assert step in res.output
    res = CliRunner().invoke(cli, ["dsl", "count", "--system", "nope"])
    assert res.exit_code == 2 and "unknown system" in res.output


def test_cli_count_on_a_user_file(tmp_path):
    from noether.systems import load_system

    path = tmp_path / "s.csv"
    load_system("spring").to_file(path)
    res = CliRunner().invoke(
        cli, ["dsl", "count", "--data", str(path), "--state", "q,p", "--unit", "q=m", "--depth", "4"]
    )
    assert res.exit_code == 0, res.output
    assert "q [m]" in res.output and "p [state_p]" in res.output


def test_display_rounds_floats_and_the_python_export_matches_its_docstring():
    import re

    from noether.pipeline.laws_file import python_source

    law = Law.reference("cos(q) - 0.123456789012345*p**2 + 3.3333333333333335e-07*q", ["q", "p"])
    shown = law.display()
    assert "0.123457" in shown and "3.33333e-07" in shown and "0.123456789" not in shown
    assert Law.reference(shown, ["q", "p"]).params == pytest.approx(law.params, rel=1e-5)
    assert law.display(3).count("0.123") == 1
    source = python_source(law)
    doc, body = source.split('"""')[1], source.split("return ")[1]
    numbers = re.compile(r"\d+\.\d+(?:e-?\d+)?")
    assert sorted(numbers.findall(doc)) == sorted(numbers.findall(body)) and len(numbers.findall(body)) == 2
    namespace = {}
    exec(source, namespace)
    x = np.array([[0.3, -0.2], [1.1, 0.7]])
    assert np.array_equal(namespace["law"](x[:, 0], x[:, 1]), law.numpy(x))  # the same doubles
