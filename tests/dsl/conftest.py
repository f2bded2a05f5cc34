"""Shared fixtures: the depth-7 spaces of the built-in systems are built once per test session (worker)."""

import pytest

from noether.dsl import OPERATORS, enumerate_space

PENDULUM = (("q", "p"), ("rad", "kg*m**2/s"))
SPRING = (("q", "p"), ("m", "kg*m/s"))


@pytest.fixture(scope="session")
def pendulum_space():
    return enumerate_space(*PENDULUM, depth=7)


@pytest.fixture(scope="session")
def spring_space():
    return enumerate_space(*SPRING, depth=7)


class Canon(set):
    """Formulas compared up to the order of commutative operands."""

    def __init__(self, forms):
        forms = list(forms)
        super().__init__(_canonical(f) for f in forms)
        self.n = len(forms)

    def __contains__(self, f):
        return super().__contains__(_canonical(f))

    @staticmethod
    def key(f):
        """The formula's canonical form (commutative operands sorted)."""
        return _canonical(f)


def _canonical(f):
    if not f.args:
        return (f.op, f.index)
    kids = [_canonical(a) for a in f.args]
    if OPERATORS[f.op].commutative:
        kids.sort(key=repr)
    return (f.op, *kids)


@pytest.fixture(scope="session")
def canon():
    return Canon
