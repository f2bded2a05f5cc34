"""``noether discover`` / ``export`` from the command line: files written, one-line errors with exit code 2."""

import re

import pandas as pd
import sympy
from click.testing import CliRunner

from noether.cli import cli


def test_cli_writes_candidates_and_prints_laws(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(
        cli,
        ["discover", "--system", "spring", "--noise", "0", "--max-params", "1", "--stage", "filter", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert (out / "candidates.csv").exists()
    assert (out / "figures" / "filter.png").exists() and (out / "figures" / "law_01.png").exists()
    assert "independent conserved laws (1): " in res.output and "conserved" in res.output
    bad = CliRunner().invoke(cli, ["discover", "--system", "spring", "--stage", "nope", "--out", str(out)])
    assert bad.exit_code == 2 and "'nope' is not one of" in bad.output
    bad = CliRunner().invoke(
        cli, ["discover", "--system", "spring", "--min-ratio", "0.5", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and "min_ratio" in bad.output and not (tmp_path / "x" / "candidates.csv").exists()
    table = pd.read_csv(out / "candidates.csv")
    assert set(table.verdict) <= {"conserved", "approximate", "rejected"} and (table.verdict == "conserved").any()
    assert (table.accepted == (table.verdict != "rejected")).all()
    ranks = table["rank"][table.accepted].sort_values().tolist()
    assert ranks == list(range(1, len(ranks) + 1)) and table["rank"][~table.accepted].isna().all()  # as laws.json
    # one row per law: each accepted form in one class, each class one representative that counts its forms
    reps = table[table.forms.notna()]
    assert table.law_class[table.accepted].notna().all() and table.law_class[~table.accepted].isna().all()
    assert sorted(reps.law_class) == list(range(1, len(reps) + 1)) and reps.forms.sum() == table.accepted.sum()
    assert f"top survivors: {len(reps)} law" in res.output
    assert reps.forms.iloc[0] == 1 or f"({int(reps.forms.iloc[0])} forms)" in res.output
    strict = CliRunner().invoke(
        cli,
        [
            "discover",
            "--system",
            "spring",
            "--noise",
            "0",
            "--max-params",
            "1",
            "--stage",
            "filter",
            "--accept",
            "conserved",
            "--no-figures",
            "--out",
            str(tmp_path / "strict"),
        ],
    )
    assert strict.exit_code == 0, strict.output
    assert not (tmp_path / "strict" / "figures").exists() and "figures/" not in strict.output
    kept = pd.read_csv(tmp_path / "strict" / "candidates.csv")
    assert (kept.verdict[kept.accepted] == "conserved").all()
    assert set(kept.expression[kept.accepted]) == set(table.expression[table.verdict == "conserved"])
    assert table.expression.notna().all() and (table.expression.str.len() > 0).all()  # rejected rows too
    for text in table.expression:
        sympy.sympify(text)  # the expression column is SymPy text
    assert max_significant_digits(res.output) <= 6  # the console rounds; laws.json keeps every digit
    assert max(max_significant_digits(text) for text in table.expression) <= 6


def max_significant_digits(text: str) -> int:
    """The most significant digits of any decimal number in ``text`` (leading zeros and exponents not counted)."""
    numbers = re.findall(r"\d+\.\d+", text)
    return max((len(n.replace(".", "").lstrip("0")) for n in numbers), default=0)
