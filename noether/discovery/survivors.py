"""The filter's survivors in order, and one representative per class of functionally dependent laws: the ranking
``filter_candidates`` makes, and makes again when composite laws join the survivors (``merge.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .drift import APPROXIMATE, CONSERVED, UNTESTED
from .independence import functional_classes, state_gradients

RATIO_CAP = 1e12  # ratios above this (S_true at float64 round-off) rank as ties, broken by simplicity


@dataclass(frozen=True, eq=False)
class Survivors:
    """order: accepted space indices, best first; rank: the 1-based rank of every candidate (NA when rejected);
    independent / approximate: one representative per class of the conserved / approximate laws."""

    order: np.ndarray
    rank: pd.arrays.IntegerArray
    independent: list[int]
    approximate: list[int]


def rank_survivors(space, params: np.ndarray, accepted: np.ndarray, ratio: np.ndarray, verdict: np.ndarray,
                   x: torch.Tensor, *, top: int, seed: int, tol: float) -> Survivors:
    """Accepted candidates by ratio descending (capped at ``RATIO_CAP``), then fewer parameters, smaller
    formula, affine first; and the representatives of the ``top`` best conserved and approximate ones (seed:
    the states the gradients are taken at; tol: ``FilterConfig.independence_tol``)."""
    n_params = np.asarray(space.n_params, dtype=np.int64)
    linear = np.asarray(space.linear, dtype=bool)
    sizes = np.array([getattr(f, "size", 0) for f in space.formulas])
    acc = np.flatnonzero(accepted)
    capped = np.minimum(np.nan_to_num(np.asarray(ratio, dtype=float), nan=0.0), RATIO_CAP)
    order = acc[np.lexsort((~linear[acc], sizes[acc], n_params[acc], -capped[acc]))]
    rank = pd.array([pd.NA] * len(accepted), dtype="Int64")  # 1-based like laws.json; empty when rejected
    rank[order] = np.arange(1, len(order) + 1)
    simplicity = np.stack([n_params, sizes, ~linear], 1)
    conserved = order[np.isin(verdict[order], [CONSERVED, UNTESTED])]
    approximate = order[verdict[order] == APPROXIMATE]
    return Survivors(order, rank,
                     representatives(space, params, conserved[:top], x, simplicity, capped, seed=seed, tol=tol),
                     representatives(space, params, approximate[:top], x, simplicity, capped, seed=seed, tol=tol))


def representatives(space, params: np.ndarray, order: np.ndarray, x: torch.Tensor, simplicity: np.ndarray,
                    ratio: np.ndarray, *, seed: int, tol: float) -> list[int]:
    """One representative per class of functionally dependent laws among the top accepted ``order`` (space
    indices, best first): classes in the order of their best member; the representative is the simplest member
    (fewest parameters, then smallest formula, then affine — fitted exactly — before fitted by local search)
    among those within a factor 2 of the class's best ratio. (On noisy
    data a more flexible relative of H, e.g. p² + c0·cos(c1·q) or (p² − c·cos q)², fits the noise a little
    better than H itself; it is the same law.) Gradients are taken at up to 512 training states."""
    if len(order) == 0:
        return []
    gen = torch.Generator(device="cpu").manual_seed(seed)
    states = x[torch.randperm(x.shape[0], generator=gen)[:512].to(x.device)]
    grads = []
    for i in order:
        sub = space.subset(np.array([i]))
        c = torch.as_tensor(params[i][None], dtype=x.dtype, device=x.device)
        grads.append(state_gradients(lambda s, sub=sub, c=c: sub.evaluate(s, c).values[0], states))
    seeds, member_of = functional_classes(grads, tol=tol)
    chosen = []
    for pos, seed in enumerate(seeds):
        members = [int(order[j]) for j in range(len(order)) if member_of[j] == pos]
        best = ratio[order[seed]]
        close = [i for i in members if ratio[i] >= best / 2] or [int(order[seed])]
        chosen.append(min(close, key=lambda i: (*simplicity[i], -ratio[i])))  # simplicity: (K, size, not affine)
    return chosen
