"""Composite laws join the filter's survivors: one ranked set of accepted laws for the tailoring stages.

The composite search (``composite/``) reports Laws outside the enumerated space. Appending their formulas to
the space (with their coefficients as parameters) makes them candidates like any other: the screen, meta-tailoring
and the evaluation read them through the same batched ``CandidateSpace.evaluate``, and the ranking, the
conserved / approximate labels, the functional classes (a composite law and the enumerated forms of the same
law are one class, represented by an enumerated form when one is within a factor 2 of the class's best ratio
(``classes.classify``): a law the filter already knows then keeps the filter's form, and a composite form stands
for it only when it conserves the law markedly better) and the independent laws are recomputed over the union.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from ..dsl import CandidateSpace
from ..systems import Trajectories
from .candidates import check_columns
from .classes import class_columns
from .composite import CompositeResult
from .filter import FilterConfig, FilterResult
from .score import sequence_set
from .survivors import rank_survivors


def with_composite(filt: FilterResult, comp: CompositeResult, traj: Trajectories, config: FilterConfig) -> FilterResult:
    """``filt`` with every accepted composite law appended to its space, table and ranking (``source`` column:
    'filter' or 'composite')."""
    if not comp.laws:
        return replace(filt, table=filt.table.assign(source="filter"))
    space = filt.space
    formulas = [law.law.formula for law in comp.laws]
    width = max(filt.params.shape[1], max(f.n_params for f in formulas))
    merged = CandidateSpace(
        [*space.formulas, *formulas], space.names, space.units, max_params=width, report=space.report
    )
    params = np.zeros((len(merged), width))
    params[: len(space), : filt.params.shape[1]] = filt.params
    for j, law in enumerate(comp.laws):
        params[len(space) + j, : len(law.law.params)] = law.law.params
    rows = pd.DataFrame(
        {
            "formula": [f.render(space.names) for f in formulas],
            "expression": [law.expression for law in comp.laws],
            "n_params": [f.n_params for f in formulas],
            "params": [" ".join(f"{v:.6g}" for v in law.law.params) for law in comp.laws],
            "s_true": [law.s_true for law in comp.laws],
            "s_random": [law.s_random for law in comp.laws],
            "ratio": [law.ratio for law in comp.laws],
            "excess": [law.excess for law in comp.laws],
            "trend_p": np.nan,
            "verdict": [law.verdict for law in comp.laws],
            "linear": [f.linear for f in formulas],
            "converged": True,
            "accepted": True,
            "reason": None,
        }
    )
    table = pd.concat([filt.table.assign(source="filter"), rows.assign(source="composite")], ignore_index=True)
    x = torch.as_tensor(sequence_set(traj, "train", config.window).x)
    survivors = rank_survivors(
        merged,
        params,
        table["accepted"].to_numpy(dtype=bool),
        table["ratio"].to_numpy(dtype=float),
        table["verdict"].to_numpy(),
        x,
        top=config.top,
        seed=config.seed,
        tol=config.independence_tol,
        memory_mb=config.memory_mb,
        found_beyond=(table["source"] == "composite").to_numpy(),
    )
    table["rank"] = survivors.rank
    for name, column in class_columns(survivors.classes, table["expression"].tolist(), len(table)).items():
        table[name] = column
    check_columns(list(table.columns))
    return replace(
        filt,
        space=merged,
        table=table,
        params=params,
        accepted_indices=survivors.order,
        independent_indices=survivors.independent,
        approximate_indices=survivors.approximate,
        classes=survivors.classes,
    )
