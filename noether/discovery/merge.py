"""Composite laws join the filter's survivors: one ranked set of accepted laws for the tailoring stages.

The composite search (``composite.py``) reports Laws outside the enumerated space. Appending their formulas to
the space (with their coefficients as parameters) makes them candidates like any other: the screen, meta-tailoring
and the evaluation read them through the same batched ``CandidateSpace.evaluate``, and the ranking, the
conserved / approximate labels and the functionally independent classes are recomputed over the union.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from ..dsl import CandidateSpace
from ..systems import Trajectories
from .composite import CompositeResult
from .drift import APPROXIMATE, CONSERVED, UNTESTED
from .filter import RATIO_CAP, FilterConfig, FilterResult, representatives
from .score import sequence_set


def with_composite(filt: FilterResult, comp: CompositeResult, traj: Trajectories, config: FilterConfig
                   ) -> FilterResult:
    """``filt`` with every accepted composite law appended to its space, table and ranking (``source`` column:
    'filter' or 'composite')."""
    if not comp.laws:
        return replace(filt, table=filt.table.assign(source="filter"))
    space = filt.space
    formulas = [law.law.formula for law in comp.laws]
    width = max(filt.params.shape[1], max(f.n_params for f in formulas))
    merged = CandidateSpace([*space.formulas, *formulas], space.names, space.units, max_params=width,
                            report=space.report)
    params = np.zeros((len(merged), width))
    params[: len(space), : filt.params.shape[1]] = filt.params
    for j, law in enumerate(comp.laws):
        params[len(space) + j, : len(law.law.params)] = law.law.params
    rows = pd.DataFrame({
        "formula": [f.render(space.names) for f in formulas],
        "expression": [law.expression for law in comp.laws],
        "n_params": [f.n_params for f in formulas],
        "params": [" ".join(f"{v:.6g}" for v in law.law.params) for law in comp.laws],
        "s_true": [law.s_true for law in comp.laws], "s_random": [law.s_random for law in comp.laws],
        "ratio": [law.ratio for law in comp.laws], "excess": [law.excess for law in comp.laws],
        "trend_p": np.nan, "verdict": [law.verdict for law in comp.laws],
        "linear": [f.linear for f in formulas], "converged": True, "accepted": True, "reason": None,
    })
    table = pd.concat([filt.table.assign(source="filter"), rows.assign(source="composite")], ignore_index=True)
    order, rank = _ranking(table, merged)
    table["rank"] = rank
    x = torch.as_tensor(sequence_set(traj, "train", config.window).x)
    verdict = table["verdict"].to_numpy()
    capped = np.minimum(np.nan_to_num(table["ratio"].to_numpy(dtype=float), nan=0.0), RATIO_CAP)
    simplicity = np.stack([merged.n_params, merged.sizes, ~merged.linear], 1)
    conserved = order[np.isin(verdict[order], [CONSERVED, UNTESTED])]
    approximate = order[verdict[order] == APPROXIMATE]
    return replace(filt, space=merged, table=table, params=params, accepted_indices=order,
                   independent_indices=representatives(merged, params, conserved[: config.top], x, config,
                                                       simplicity, capped),
                   approximate_indices=representatives(merged, params, approximate[: config.top], x, config,
                                                       simplicity, capped))


def _ranking(table: pd.DataFrame, space: CandidateSpace) -> tuple[np.ndarray, pd.array]:
    """The filter's order over every accepted row: ratio (capped) descending, then fewer parameters, smaller
    formula, affine first; and the 1-based rank column (empty when rejected)."""
    acc = np.flatnonzero(table["accepted"].to_numpy(dtype=bool))
    capped = np.minimum(np.nan_to_num(table["ratio"].to_numpy(dtype=float), nan=0.0), RATIO_CAP)
    order = acc[np.lexsort((~space.linear[acc], space.sizes[acc], space.n_params[acc], -capped[acc]))]
    rank = pd.array([pd.NA] * len(table), dtype="Int64")
    rank[order] = np.arange(1, len(order) + 1)
    return order, rank
