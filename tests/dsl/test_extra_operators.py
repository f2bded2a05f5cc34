"""sqrt, log, exp and cube: unit rules, domains that never put a NaN in a batch, export and parse round trip."""

import numpy as np
import pytest
import torch

from noether.dsl import Law, enumerate_space
from noether.dsl.grammar import DEFAULT_OPERATORS, EXTRA_OPERATORS
from noether.errors import UnitError

NAMES = ["x", "v"]
UNITS = {"x": "m", "v": "m/s"}


def test_sqrt_halves_exponents_and_cube_triples_them():
    assert Law.parse("sqrt(x**2)", NAMES, UNITS).unit == Law.parse("x", NAMES, UNITS).unit
    assert Law.parse("sqrt(x)**2", NAMES, UNITS).unit == Law.parse("x", NAMES, UNITS).unit
    assert Law.parse("x**3", NAMES, UNITS).unit == Law.parse("x*x*x", NAMES, UNITS).unit


@pytest.mark.parametrize("text", ["log(x)", "exp(v)", "sqrt(x) + x"])
def test_log_and_exp_need_dimensionless_arguments_and_sqrt_changes_units(text):
    with pytest.raises(UnitError):
        Law.parse(text, NAMES, UNITS)


def test_log_and_exp_of_a_dimensionless_ratio_are_valid():
    law = Law.parse("log(x/(v*t)) + exp(v*t/x)", ["x", "v", "t"], {"x": "m", "v": "m/s", "t": "s"})
    assert law.unit in ("", "dimensionless")


def test_sqrt_and_log_read_the_absolute_value_so_a_batch_has_no_nan():
    space = enumerate_space(["a", "b"], ["", ""], depth=3, max_params=0, ops=(*DEFAULT_OPERATORS, *EXTRA_OPERATORS))
    x = torch.tensor([[-2.0, 3.0], [0.5, -0.25], [-1.5, -4.0]], dtype=torch.float64)
    values = space.evaluate(x, torch.zeros(len(space.formulas), 0, dtype=torch.float64)).values
    assert not torch.isnan(values).any()
    texts = [f.render(("a", "b")) for f in space.formulas]
    assert {"sqrt(Abs(a))", "log(Abs(b))", "exp(a)", "b**3"} <= set(texts)


def test_export_parses_back_to_the_same_function():
    law = Law.parse("v**2 - 2*k/sqrt(x**2 + 1*c**2)", NAMES + ["c"], {**UNITS, "c": "m"}, {"k": 1.5})
    again = Law.parse(str(law.sympy()), NAMES + ["c"], {**UNITS, "c": "m"})
    x = np.random.default_rng(0).normal(size=(50, 3))
    assert np.allclose(law.numpy(x), again.numpy(x), rtol=1e-12)


def test_the_extra_operators_are_off_by_default():
    space = enumerate_space(["q"], ["rad"], depth=3)
    assert not any(op in str(f) for f in space.formulas for op in ("sqrt", "log", "exp"))


def test_abs_reads_as_the_square_root_of_a_square():
    """A derived input substituted into a law can leave a bare Abs (r**2 with r = sqrt(Abs(x**2 + y**2)))."""
    law = Law.parse("Abs(x - c) + v*t", ["x", "c", "v", "t"], {"x": "m", "c": "m", "v": "m/s", "t": "s"})
    x = np.array([[-2.0, 1.0, 0.5, 2.0], [3.0, 4.0, -1.0, 1.0]])
    assert np.allclose(law.numpy(x), np.abs(x[:, 0] - x[:, 1]) + x[:, 2] * x[:, 3])
