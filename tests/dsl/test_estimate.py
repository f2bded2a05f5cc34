"""The size / memory estimate of the formula space, and the guard that refuses a space too big to enumerate."""

from __future__ import annotations

import tracemalloc
from types import SimpleNamespace

import pytest

from noether.dsl import SpaceTooLargeError, check_space, enumerate_space, estimate_space, space_for
from noether.dsl import estimate as est
from noether.dsl.enumerate import Probes, enumerate_raw
from noether.dsl.units import DimensionBasis
from noether.errors import NoetherError
from noether.units import resolve_units

PENDULUM = (("q", "p"), ("rad", "kg*m**2/s"))
SPRING = (("q", "p"), ("m", "kg*m/s"))
DIMENSIONLESS = (("x", "y", "z"), ("", "", ""))
GIB = 2**30


def raw_count(names, units, depth, max_params=2, ops=None):
    """The number of formulas the enumerator actually builds (before dedup)."""
    basis = DimensionBasis(resolve_units(names, units))
    kw = {} if ops is None else {"ops": ops}
    raw = enumerate_raw(
        list(basis.inputs),
        basis.zero,
        depth=depth,
        max_params=max_params,
        probes=Probes.make(len(names), max(max_params, 1)),
        **kw,
    )
    return len(raw), basis


@pytest.mark.parametrize("max_params", [0, 1, 2])
@pytest.mark.parametrize("ops", [None, ("add", "sub", "mul", "div"), ("mul", "div", "square", "cos")])
def test_unit_free_count_is_exact_without_units(max_params, ops):
    names, units = DIMENSIONLESS
    for depth in range(1, 6):
        n, _ = raw_count(names, units, depth, max_params, ops)
        e = estimate_space(3, depth, max_params, **({} if ops is None else {"ops": ops}))
        assert (e.n_formulas, e.kind) == (n, est.UPPER), (depth, max_params, ops)


@pytest.mark.parametrize("max_params", [0, 1, 2])
@pytest.mark.parametrize("system", [PENDULUM, SPRING], ids=["pendulum", "spring"])
def test_bound_and_exact_count_with_units(system, max_params):
    for depth in range(1, 7):
        n, basis = raw_count(*system, depth, max_params)
        bound = estimate_space(2, depth, max_params)
        exact = estimate_space(2, depth, max_params, input_dims=basis.inputs, zero=basis.zero)
        assert bound.n_formulas >= n and bound.kind == est.UPPER
        assert exact.n_formulas == n and exact.kind == est.EXACT
        assert exact.bytes <= bound.bytes


def test_memory_model_matches_the_probe_width():
    for max_params in (0, 1, 2, 3):
        width = Probes.make(2, max(max_params, 1)).width
        per_formula = est.memory_bytes(1, max_params) - est.memory_bytes(0, max_params)
        assert per_formula == est.VALUE_COPIES * 8 * width + est.INDEX_BYTES


def test_pendulum_depths_against_a_24_gib_machine():
    """Calibrated figures: depth 7 (the default) is small, depth 9 fits half of 24 GiB, depth 10 does not."""
    basis = DimensionBasis(resolve_units(*PENDULUM))
    at = {d: estimate_space(2, d, input_dims=basis.inputs, zero=basis.zero) for d in (7, 9, 10)}
    # 28 450 is the enumerator's own count (brute force: raw_count(*PENDULUM, 7) builds 28 450 formulas, 3 s of CPU,
    # so not repeated here; the exact estimate equals enumeration at every depth to 6 in the tests above);
    # 1 043 282 is a regression pin of the exact estimate at depth 9 (too many formulas to enumerate in a test)
    assert at[7].n_formulas == 28_450 and at[7].bytes < 0.5 * GIB
    assert at[9].n_formulas == 1_043_282 and at[9].bytes < 4 * GIB  # measured peak: 2.6 GiB
    assert at[10].bytes > 12 * GIB


def test_huge_depths_are_bounded_without_counting_to_the_end():
    at_100 = estimate_space(2, 100)
    at_million = estimate_space(2, 10**6)  # the count stops past COUNT_CAP instead of running to depth 1e6
    assert at_100.kind == est.UPPER and at_100.n_formulas > 10**80
    assert at_million.kind == est.MORE_THAN and at_million.n_formulas > est.COUNT_CAP
    assert "more than" in at_million.describe()


@pytest.mark.parametrize(
    "depth, max_params, match",
    [(0, 2, "depth must be >= 1, got 0"), (-3, 2, "depth must be >= 1, got -3"), (5, -1, "max_params must be >= 0")],
)
def test_nonsense_settings_are_refused(depth, max_params, match):
    with pytest.raises(ValueError, match=match):
        estimate_space(2, depth, max_params)
    with pytest.raises(ValueError, match=match):
        enumerate_space(*PENDULUM, depth=depth, max_params=max_params)


def test_space_for_refuses_depth_100_at_once():
    traj = SimpleNamespace(names=PENDULUM[0], units=PENDULUM[1])
    with pytest.raises(SpaceTooLargeError) as err:
        space_for(traj, depth=100)
    tracemalloc.start()  # again, counting allocations (slower): nothing big is built before the refusal
    try:
        with pytest.raises(SpaceTooLargeError):
            space_for(traj, depth=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20
    message = str(err.value)
    assert isinstance(err.value, NoetherError) and "\n" not in message
    assert "depth 100" in message and "1.2e+88 formulas" in message and "GiB" in message
    assert "over the limit of" in message and ("memory" in message or "assumed" in message)
    assert "pass --force (or force=True) to try anyway" in message


def test_force_bypasses_the_guard(monkeypatch):
    monkeypatch.setattr(est, "MEMORY_FRACTION", 1e-12)  # a limit of a few bytes: everything is too big
    names, units = PENDULUM
    n, _ = raw_count(names, units, 3)
    with pytest.raises(SpaceTooLargeError, match=f"depth 3 .* {n} formulas \\(exact count before dedup\\)"):
        enumerate_space(names, units, depth=3)
    with pytest.raises(SpaceTooLargeError):
        space_for(SimpleNamespace(names=names, units=units), depth=3)
    space = space_for(SimpleNamespace(names=names, units=units), depth=3, force=True)
    assert len(space) > 0 and space.report.count("reparametrised") + 1 == n
    assert check_space(2, 100, force=True) is None


def test_a_space_under_the_limit_passes(monkeypatch):
    monkeypatch.setattr(
        est, "memory_budget", lambda fraction=None: est.MemoryBudget(GIB, 2 * GIB, 0.5, "of available memory")
    )
    basis = DimensionBasis(resolve_units(*PENDULUM))
    assert check_space(2, 7, input_dims=basis.inputs, zero=basis.zero).bytes <= GIB
    # the unit-free bound of depth 9 (9.9 GiB) is over 1 GiB, the exact count (2.9 GiB) too: refused with it
    with pytest.raises(SpaceTooLargeError, match="1,043,282 formulas \\(exact count"):
        check_space(2, 9, input_dims=basis.inputs, zero=basis.zero)


def test_memory_budget_is_a_fraction_of_what_is_available():
    budget = est.memory_budget(0.25)
    assert budget.available > 0 and budget.bytes == int(budget.available * 0.25)
    assert "25%" in budget.describe()


@pytest.mark.parametrize("spare, refused", [(0, False), (-1, True)])
def test_depth_guard_refuses_one_byte_over_the_budget(monkeypatch, spare, refused):
    """The guard's two sides: a budget of exactly the space's memory (the brute-force count of formulas through
    the memory model) lets it through; one byte less refuses it, naming --force."""
    names, units = DIMENSIONLESS
    n, _ = raw_count(names, units, 4, 2)
    need = est.memory_bytes(n, 2)
    monkeypatch.setattr(est, "memory_budget", lambda *a: est.MemoryBudget(need + spare, 10 * need, 0.5, "test"))
    if refused:
        with pytest.raises(SpaceTooLargeError, match="--force"):
            check_space(3, 4, 2)
        assert check_space(3, 4, 2, force=True) is None
    else:
        check_space(3, 4, 2)
