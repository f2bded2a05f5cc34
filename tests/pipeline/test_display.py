"""A run in a notebook: ``to_frame`` (candidates.csv's columns, laws.json's order), ``_repr_html_`` (a table
with each law's verdict), ``_repr_latex_``, ``plot_law``; and a Law's own HTML / LaTeX."""

import html

import numpy as np
import pandas as pd
import pytest

from noether.errors import DataError
from noether.pipeline import DiscoverConfig, discover
from noether.systems import Trajectories
from noether.units import resolve_units


@pytest.fixture(scope="module")
def run():
    """The filter on 30 noisy oscillator trajectories (q**2 + p**2 conserved) at depth 5: about 2 s."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 6, 40)
    r, phase = rng.uniform(0.5, 1.5, (30, 1)), rng.uniform(0, 2 * np.pi, (30, 1))
    x = np.stack([r * np.cos(t + phase), -r * np.sin(t + phase)], -1) + 0.01 * rng.normal(size=(30, 40, 2))
    train = np.arange(30)[:, None] < 24 * np.ones((1, 40), bool)
    traj = Trajectories(
        x,
        np.broadcast_to(t, (30, 40)),
        ("q", "p"),
        resolve_units(("q", "p"), {"q": "m", "p": "m"}),
        train_mask=train,
        name="oscillator",
    )
    return discover(traj, DiscoverConfig(depth=5, stage="filter"))


def test_to_frame_has_candidates_columns_in_the_laws_order(run, tmp_path):
    laws = run.laws()
    frame = run.to_frame()
    assert len(laws) >= 1
    run.write(tmp_path, figures=False)
    assert list(frame.columns) == list(pd.read_csv(tmp_path / "candidates.csv").columns)
    assert frame["rank"].tolist() == [r.rank for r in laws]
    assert frame["expression"].tolist() == [r.law.display() for r in laws]
    assert frame["verdict"].tolist() == [r.scores["verdict"] for r in laws]
    np.testing.assert_allclose(frame["s_true"], [r.scores["s_true"] for r in laws])
    assert frame["accepted"].all()


def test_html_is_a_table_with_each_laws_verdict(run):
    page = run._repr_html_()
    assert page.count("<table>") == 1 and "<th>verdict</th>" in page
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]
    laws = run.laws()
    assert len(rows) == min(len(laws), 20)
    for row, r in zip(rows, laws):
        assert f"<td>{r.rank}</td>" in row and f"<code>{html.escape(r.law.display())}</code>" in row
        assert f"<td>{r.scores['verdict']}</td>" in row
    latex = run._repr_latex_()
    assert latex.startswith("$$\\begin{array}") and run.law.latex() in latex and "\\text{conserved}" in latex


def test_plot_law_and_the_law_in_a_notebook(run):
    fig = run.plot_law(1)
    assert "law 1, " in fig.get_suptitle() and len(fig.axes) >= 3
    with pytest.raises(DataError, match="no law of rank 99"):
        run.plot_law(99)
    early = discover(run.traj, DiscoverConfig(depth=3, stage="enumerate"))
    with pytest.raises(DataError, match="before the filter"):
        early.plot_law(1)
    assert early.to_frame().empty and "stopped before the filter stage" in early._repr_html_()
    law = run.law
    assert law._repr_latex_() == f"${law.latex()}$"
    assert html.escape(law.display()) in law._repr_html_() and "q [m]" in law._repr_html_()
