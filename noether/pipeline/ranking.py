"""The ranking of a run's accepted laws (the order of ``laws.json``), with the figures measured for each."""

from __future__ import annotations

import numpy as np

from ..discovery import FilterResult
from ..tailoring import Comparison
from .laws_file import RankedLaw
from .stages import TailorResult, law_params


def ranked_laws(filt: FilterResult | None, tail: TailorResult | None = None,
                evaluation: Comparison | None = None) -> list[RankedLaw]:
    """Accepted laws, best first: the meta-tailored top laws by their long-term training error, then the other
    screened laws by post-tailoring loss, then the remaining survivors by the filter's rank; the law picked by
    meta-tailoring first, with its test RMSE when the evaluation ran."""
    if filt is None:
        return []
    table = filt.table
    order: list[int] = []
    figures: dict[int, dict] = {}
    if tail is not None:
        pos = {int(c): i for i, c in enumerate(tail.candidates)}
        for c in tail.candidates:
            i = pos[int(c)]
            figures[int(c)] = {"inner_lr": float(tail.screen.best_lr[i]),
                               "inner_dt_scale": float(tail.screen.best_dt_scale[i]),
                               "screen_loss": float(tail.screen.best_loss[i])}
        if tail.meta is not None:
            for j, c in enumerate(tail.top):
                figures[int(c)]["train_error"] = float(tail.meta.train_rmse[j])
            order += [int(tail.top[j]) for j in np.argsort(tail.meta.train_rmse, kind="stable")]
        rest = [int(c) for c in tail.candidates if int(c) not in order]
        order += sorted(rest, key=lambda c: figures[c]["screen_loss"])
    placed = set(order)
    order += [int(c) for c in filt.accepted_indices if int(c) not in placed]
    if evaluation is not None and tail is not None and tail.chosen is not None:
        summary = evaluation.summary.set_index("method")
        if "noether" in summary.index:
            figures.setdefault(tail.chosen, {})["test_rmse"] = float(summary.loc["noether", "rmse_mean"])
            figures[tail.chosen]["test_rmse_sem"] = float(summary.loc["noether", "rmse_sem"])
    if tail is not None and tail.chosen is not None and tail.chosen in order:
        order.remove(tail.chosen)
        order.insert(0, tail.chosen)
    laws = []
    for rank, c in enumerate(order, start=1):
        row = table.iloc[c]
        scores = {"verdict": str(row["verdict"]), "s_true": float(row["s_true"]), "s_random": float(row["s_random"]),
                  "ratio": float(row["ratio"]), "excess": float(row["excess"]), "trend_p": float(row["trend_p"]),
                  "candidate": c, **figures.get(c, {})}
        law, fitted = filt.space.law(c, law_params(filt, tail, c)), filt.space.law(c, filt.params[c])
        if law.params != fitted.params:  # meta-learned in stage 2: keep the filter's fit beside it
            scores["filter_params"] = list(fitted.params)
        laws.append(RankedLaw(rank, law, scores))
    return laws
