"""The filter's survivors in order, their functional classes, and the independent laws among the classes: the
ranking ``filter_candidates`` makes, and makes again when composite laws join the survivors (``merge.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .classes import LawClasses, classify, sample_states
from .drift import APPROXIMATE, CONSERVED, UNTESTED
from .independence import are_independent, independent_set

RATIO_CAP = 1e12  # ratios above this (S_true at float64 round-off) rank as ties, broken by simplicity


@dataclass(frozen=True, eq=False)
class Survivors:
    """order: accepted space indices, best first; rank: the 1-based rank of every candidate (NA when rejected);
    classes: every accepted law's functional class, best class first (``classes.py``); independent /
    approximate: a functionally independent set of the representatives that are conserved / approximate."""

    order: np.ndarray
    rank: pd.arrays.IntegerArray
    independent: list[int]
    approximate: list[int]
    classes: LawClasses


def rank_survivors(
    space,
    params: np.ndarray,
    accepted: np.ndarray,
    ratio: np.ndarray,
    verdict: np.ndarray,
    x: torch.Tensor,
    *,
    top: int,
    seed: int,
    tol: float,
    memory_mb: int = 512,
    found_beyond: np.ndarray | None = None,
) -> Survivors:
    """Accepted candidates by ratio descending (capped at ``RATIO_CAP``), then fewer parameters, smaller
    formula, affine first; all of them grouped into functional classes (forms of one law may differ in verdict:
    the drift test sees noise through each form's own nonlinearity; a class is as its representative is); and
    the independent laws among the ``top`` best classes of conserved and of approximate representatives (seed:
    the states the gradients are taken at; tol: ``FilterConfig.independence_tol``, for classes and independence
    alike). found_beyond: [n] True for a law found outside the enumerated space (the composite search): such a
    form stands for its class only where the class has no enumerated form within a factor 2 of its best ratio
    (``classes.classify``), so a law the filter already knows keeps the filter's form (and what tailoring does
    with it) unless a composite form conserves it markedly better."""
    n_params = np.asarray(space.n_params, dtype=np.int64)
    linear = np.asarray(space.linear, dtype=bool)
    sizes = np.array([getattr(f, "size", 0) for f in space.formulas])
    acc = np.flatnonzero(accepted)
    capped = np.minimum(np.nan_to_num(np.asarray(ratio, dtype=float), nan=0.0), RATIO_CAP)
    order = acc[np.lexsort((~linear[acc], sizes[acc], n_params[acc], -capped[acc]))]
    rank = pd.array([pd.NA] * len(accepted), dtype="Int64")  # 1-based like laws.json; empty when rejected
    rank[order] = np.arange(1, len(order) + 1)
    simplicity = np.stack([n_params, sizes, ~linear], 1)
    if found_beyond is not None:
        simplicity = np.concatenate([np.asarray(found_beyond, dtype=np.int64)[:, None], simplicity], 1)
    classes, grads = classify(
        space, params, order, sample_states(x, seed), simplicity, capped, tol=tol, memory_mb=memory_mb
    )
    reps = classes.representatives
    found = []
    for kind in (np.isin(verdict[reps], [CONSERVED, UNTESTED]), verdict[reps] == APPROXIMATE):
        at = np.flatnonzero(kind)[:top]
        basis = simplest_basis(list(grads[at]), simplicity[reps[at]], capped[reps[at]], tol=tol)
        found.append([int(reps[at[k]]) for k in basis])
    return Survivors(order, rank, found[0], found[1], classes)


def simplest_basis(
    gradients: list[torch.Tensor], simplicity: np.ndarray, ratio: np.ndarray, *, tol: float
) -> list[int]:
    """Positions of a functionally independent set of laws given best first (gradients [N, d] each): the greedy
    set in that order, then each member exchanged for the simplest law (``simplicity`` rows, as for a class's
    representative) within a factor 2 of its ratio that keeps the set independent; in the given order. On the
    two-body data the greedy set is vy1 + vy2 and vx1 + vx2 + vy1 + vy2 (ratio 470); vx1 + vx2 (382) replaces the
    sum: the same span, the simpler laws."""
    kept = independent_set(gradients, tol=tol)
    for slot, b in enumerate(list(kept)):
        others = [k for k in kept if k != b]
        simpler = [
            c
            for c in range(len(gradients))
            if c not in kept and ratio[c] >= ratio[b] / 2 and tuple(simplicity[c]) < tuple(simplicity[b])
        ]
        for c in sorted(simpler, key=lambda c: (tuple(simplicity[c]), c)):
            if are_independent([gradients[k] for k in others] + [gradients[c]], tol=tol):
                kept[slot] = c
                break
    return sorted(kept)
