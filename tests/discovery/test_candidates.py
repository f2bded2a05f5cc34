"""The candidate table's columns are declared once (discovery/candidates.py): the filter builds exactly them, and a
table with a column missing or undeclared is refused where it is built."""

from __future__ import annotations

import pytest

from noether.discovery import FilterConfig, filter_candidates
from noether.discovery.candidates import COLUMNS, SOURCE, candidate_table
from noether.dsl import space_for
from noether.systems import load_system


def one_row() -> dict:
    return {name: [0] for name in COLUMNS}


def test_the_filter_builds_exactly_the_declared_columns():
    traj = load_system("spring", noise=0.0)
    filt = filter_candidates(space_for(traj, depth=3), traj, FilterConfig())
    assert list(filt.table.columns) == list(COLUMNS)


def test_columns_come_in_the_declared_order_whatever_order_they_are_given_in():
    given = dict(reversed(list(one_row().items())))
    assert list(candidate_table(given).columns) == list(COLUMNS)
    assert list(candidate_table({**given, SOURCE: ["composite"]}).columns) == [*COLUMNS, SOURCE]


@pytest.mark.parametrize("change", ["missing", "unknown"])
def test_a_column_missing_or_undeclared_is_a_bug(change):
    columns = one_row()
    if change == "missing":
        del columns["verdict"]
    else:
        columns["verdcit"] = ["conserved"]
    with pytest.raises(RuntimeError, match=change):
        candidate_table(columns)
