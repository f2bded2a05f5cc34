"""The candidate table (``FilterResult.table``, written as candidates.csv): its columns, declared once, here.

One row per formula of the space, in space order. The filter builds it, the composite merge appends its laws to it,
and the ranking, the report and the CLI read it by these names; a table missing a column or carrying an undeclared
one is a bug and is refused where it is built, not found later by a reader's KeyError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

COLUMNS: dict[str, str] = {
    "formula": "the formula with its parameters as placeholders (the space's rendering)",
    "expression": "the formula with its fitted parameters (SymPy text)",
    "n_params": "how many parameters the formula fits",
    "params": "the fitted parameters, space-separated",
    "s_true": "within- over across-sequence variance on the true sequences (Eq. 4)",
    "s_random": "the same on random sequences (the null)",
    "ratio": "s_random / s_true",
    "excess": "the within-sequence variance over the white-noise level (drift.py)",
    "trend_p": "p-value of the drift test's trend along time (drift.py)",
    "verdict": "'conserved' or 'approximate' when accepted, else 'rejected'",
    "linear": "affine in its parameters (fitted exactly)",
    "converged": "the fit converged",
    "accepted": "passed the acceptance rule",
    "rank": "1-based rank among the accepted laws (laws.json's order); empty when rejected",
    "law_class": "1-based functional class of an accepted form (classes.py); empty when rejected",
    "forms": "on a class's representative: how many forms the class holds",
    "other_forms": "on a class's representative: a few of its other forms, best first, '; '-separated",
    "reason": "why a candidate was set aside before or during fitting; empty otherwise",
}
SOURCE = "source"  # 'filter' or 'composite': added by the composite merge (merge.py), absent without it


def candidate_table(columns: Mapping[str, Any]) -> pd.DataFrame:
    """The candidate table from its columns (sequences of one length), in the declared order."""
    check_columns(list(columns))
    return pd.DataFrame(dict(columns), columns=[*COLUMNS, *([SOURCE] if SOURCE in columns else [])])


def check_columns(names: list[str]) -> None:
    """Refuse a column set other than the declared one (``source`` optional): an internal bug, not bad input."""
    missing = [c for c in COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS and c != SOURCE]
    if missing or unknown:
        raise RuntimeError(
            f"candidate table columns differ from candidates.COLUMNS: missing {missing}, unknown {unknown}"
        )
