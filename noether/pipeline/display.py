"""How a discover run reads in a notebook: the ranked laws as a DataFrame, and as HTML / LaTeX for Jupyter."""

from __future__ import annotations

import html
import math

import pandas as pd

from ..errors import DataError
from .laws_file import RankedLaw

SHOWN = 20  # laws in the HTML / LaTeX views (all of them in ``laws_frame``)


def laws_frame(result) -> pd.DataFrame:
    """The ranked laws (laws.json's order), one row each, with candidates.csv's columns: each law's candidate row,
    with ``rank`` its rank among the laws and ``expression`` / ``params`` the law as ranked (its parameters
    meta-learned when stage 2 changed them)."""
    table = result.candidates()
    laws = result.laws()
    if not laws:
        return table.iloc[:0].reset_index(drop=True)
    rows = table.iloc[[int(r.scores["candidate"]) for r in laws]].reset_index(drop=True)
    rows["rank"] = [r.rank for r in laws]
    rows["expression"] = [r.law.display() for r in laws]
    rows["params"] = [" ".join(f"{v:.6g}" for v in r.law.params) for r in laws]
    return rows


def ranked(result, rank: int) -> RankedLaw:
    """The law of ``rank`` (1 = the best) of a run."""
    if result.filter is None:
        raise DataError("the run stopped before the filter stage: it has no laws")
    laws = result.laws()
    chosen = [r for r in laws if r.rank == rank]
    if not chosen:
        raise DataError(
            f"no law of rank {rank}; " + (f"ranks are 1..{len(laws)}" if laws else "the filter accepted none")
        )
    return chosen[0]


def result_html(result) -> str:
    """A summary line per stage run and a table of the top laws with their verdicts (and the test RMSE)."""
    lines = [
        f"<p><b>noether discover: {_h(result.traj.name)}</b> &mdash; {_h(result.traj.describe())}</p>",
        f"<p>{len(result.space):,} candidate formulas (depth {result.config.depth})",
    ]
    f = result.filter
    if f is None:
        return "\n".join(lines) + "; stopped before the filter stage.</p>"
    lines[-1] += (
        f"; {f.n_accepted} accepted by the filter ({_h(f.rule.name)}): {f.n_conserved} conserved, "
        f"{f.n_accepted - f.n_conserved} approximate.</p>"
    )
    laws = result.laws()
    if laws:
        rows = "".join(
            f"<tr><td>{r.rank}</td><td><code>{_h(r.law.display())}</code></td>"
            f"<td>{_h(str(r.scores.get('verdict', '')))}</td><td>{_f(r.scores.get('s_true'))}</td>"
            f"<td>{_f(r.scores.get('ratio'))}</td><td>{_f(r.scores.get('test_rmse'))}</td></tr>"
            for r in laws[:SHOWN]
        )
        more = f"<p>... and {len(laws) - SHOWN} more (<code>result.to_frame()</code>)</p>" if len(laws) > SHOWN else ""
        lines.append(
            "<table><thead><tr><th>rank</th><th>law</th><th>verdict</th><th>S_true</th>"
            f"<th>S_random / S_true</th><th>test RMSE</th></tr></thead><tbody>{rows}</tbody></table>{more}"
        )
    if result.evaluation is not None:
        summary = result.evaluation.summary
        rows = "".join(
            f"<tr><td>{_h(row['method'])}</td><td>{row['rmse_mean']:.5g}</td><td>{row['rmse_sem']:.5g}</td></tr>"
            for _, row in summary.iterrows()
        )
        lines.append(
            "<p>Long-term prediction on the test trajectories (RMSE, mean &plusmn; s.e. over seeds):</p>"
            f"<table><thead><tr><th>method</th><th>RMSE</th><th>&plusmn;</th></tr></thead><tbody>{rows}"
            "</tbody></table>"
        )
    return "\n".join(lines)


def result_latex(result) -> str:
    """The top laws as a LaTeX array: rank, the law, its verdict."""
    laws = result.laws()[:SHOWN]
    if not laws:
        return r"$\text{no accepted laws}$"
    rows = r" \\ ".join(rf"{r.rank} & {r.law.latex()} & \text{{{r.scores.get('verdict', '')}}}" for r in laws)
    return r"$$\begin{array}{rll} \text{rank} & \text{law} & \text{verdict} \\ \hline " + rows + r" \end{array}$$"


def _h(text: str) -> str:
    return html.escape(str(text))


def _f(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.5g}"
