"""Fit every candidate's parameters on the data and on random sequences, and keep the approximately conserved ones.

``filter_candidates(space, traj)`` is the pipeline's filter stage, the paper's first discovery step (§4.2 ¶1,
App. C), over a whole ``CandidateSpace``: exact eigen-solves for the candidates affine in their parameters, a
batched gradient fit for the rest, the random-sequence null, the acceptance rule of ``null.py`` and the independent
laws. Its settings and result are in ``filter_types.py`` (re-exported here), its chunked fits in ``fit_chunks.py``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch
from joblib import delayed

from ..allocator import reuse_freed_memory
from ..dsl import CandidateSpace
from ..progress import stage
from ..systems import Trajectories
from .candidates import candidate_table
from .chunks import _chunk_size, _chunks
from .classes import class_columns
from .cluster import connect
from .contrast_fit import fit_contrast
from .drift import CONSERVED, REJECTED, UNTESTED, measure_drift
from .filter_types import FilterConfig, FilterResult
from .fit_chunks import (
    _Context,
    _fit_gradient_chunk,
    _fit_linear_chunk,
    _fit_subsample,
    _parallel,
    _propagated_excess,
    _store,
)
from .null import ratio_of, shuffled_index, unfitted
from .score import Segments, sequence_index, sequence_set
from .single import (
    RANDOM_SEQUENCE,
    choose_score,
    contrast_for,
    contrast_rule,
    fallback_reason,
    training_runs,
    trusted,
    unidentifiable,
    untrusted,
)
from .survivors import rank_survivors

__all__ = ["FilterConfig", "FilterResult", "filter_candidates"]


def filter_candidates(space: CandidateSpace, traj: Trajectories, config: FilterConfig = FilterConfig()) -> FilterResult:
    """Fit all candidates of ``space`` on ``traj``'s training sequences and on random ones; accept, rank, and pick
    the independent laws. See the module docstrings of ``score``, ``fit_exact``, ``fit_gradient`` and ``null``."""
    device = config.torch_device()
    seq = sequence_set(traj, "train", config.window)
    m, length = len(seq.lengths), int(seq.lengths.max())
    x = torch.as_tensor(seq.x, dtype=torch.float64, device=device)
    if seq.equal and seq.regular:  # the fast path: points reshaped into [m, L]
        idx_true = sequence_index(m, length, device=device)
        idx_rand = shuffled_index(m, length, seed=config.seed, device=device)
        order = length
    else:  # sequences of different lengths or irregular times: weighted segment statistics
        times = Segments.contiguous(seq.lengths)
        rel = torch.zeros(times.mask.shape, dtype=torch.float64)
        rel[times.mask] = torch.as_tensor(seq.times)
        idx_true = Segments.contiguous(seq.lengths, times=rel, device=device)
        idx_rand = Segments.shuffled(seq.lengths, seed=config.seed, device=device)
        order = idx_true
    n, kmax = len(space), int(space.max_params)
    n_params = np.asarray(space.n_params, dtype=np.int64)
    linear = np.asarray(space.linear, dtype=bool)
    out = unfitted(n, kmax)
    timings = {}
    runs = training_runs(traj)
    score, score_reason, fallback = choose_score(config.score, runs)
    why_none = unidentifiable(x, idx_true, traj.ordered, fallback or score)
    if why_none is not None or score != RANDOM_SEQUENCE:
        reason = score_reason if why_none is None else "not fitted: the data cannot identify a law"
        return _by_contrast(space, traj, config, seq, x, idx_true, order, fallback or score, reason, why_none)
    t0 = time.perf_counter()
    chunks = []
    for k in range(kmax + 1):  # one batch per parameter count: K + 1 evaluations give the features
        lin_idx = np.flatnonzero(linear & (n_params == k))
        chunks += _chunks(lin_idx, _chunk_size(config.memory_mb, x.shape[0], k + 1, per_value=6))
    ctx = _Context(
        space,
        x,
        idx_true,
        idx_rand,
        order,
        int((seq.lengths - 1).sum()),
        kmax,
        config,
        _fit_subsample(x, seq.lengths, order, config),
    )
    nl_chunks = []
    for k in range(kmax + 1):  # one batch per parameter count, so each gets its own starting grid
        nl_idx = np.flatnonzero(~linear & (n_params == k))
        nl_chunks += _chunks(nl_idx, _chunk_size(config.memory_mb, x.shape[0], 1, per_value=12))
    with stage("fit", n, "candidates") as advance, connect(config.scheduler) as client, reuse_freed_memory():
        for part in _parallel(config, device, [delayed(_fit_linear_chunk)(ctx, c) for c in chunks], client):
            _store(out, part)
            advance(len(part["index"]))
        timings["exact"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for part in _parallel(config, device, [delayed(_fit_gradient_chunk)(ctx, c) for c in nl_chunks], client):
            _store(out, part)
            advance(len(part["index"]))
        timings["gradient"] = time.perf_counter() - t0
    result = _decided(space, traj, config, seq, x, order, out, timings, score, score_reason, None)
    # single.choose_score: the paper's first
    if fallback is not None and not trusted(result, x, config.rule, config.drift.exact):
        other = _by_contrast(space, traj, config, seq, x, idx_true, order, fallback, untrusted(runs), None)
        if other.n_accepted or result.n_accepted:
            return replace(other, score_reason=fallback_reason(other, traj, runs, fallback))
        # neither accepts a law: the paper's table, which shows how close its candidates came
        return replace(result, score_reason=untrusted(runs, fallback_empty=fallback))
    return result


def _by_contrast(
    space,
    traj: Trajectories,
    config: FilterConfig,
    seq,
    x: torch.Tensor,
    idx_true,
    order,
    score: str,
    score_reason: str,
    why_none: str | None,
) -> FilterResult:
    """The filter by a score of ``contrast.py`` (``single.fit_contrast``), judged by ``single.contrast_rule``; or,
    when the data cannot identify any law (``why_none``), nothing fitted and every candidate rejected for it."""
    n, kmax = len(space), int(space.max_params)
    out = unfitted(n, kmax, why_none)
    config = replace(config, rule=contrast_rule(config.rule))
    timings = {}
    if why_none is None:
        contrast = contrast_for(score, traj, seq, idx_true, config.window, config.seed, x.device)
        out = fit_contrast(
            space,
            contrast,
            seq.lengths,
            idx_true,
            seed=config.seed,
            gradient=config.gradient,
            least_ratio=config.rule.least_ratio,
            memory_mb=config.memory_mb,
        )
        timings = out.pop("timings")
    return _decided(space, traj, config, seq, x, order, out, timings, score, score_reason, why_none)


def _decided(
    space,
    traj: Trajectories,
    config: FilterConfig,
    seq,
    x: torch.Tensor,
    order,
    out: dict,
    timings: dict,
    score: str,
    score_reason: str,
    why_none: str | None,
) -> FilterResult:
    """Accept, label, rank and tabulate the fitted candidates (``out``: the per-candidate fits)."""
    n, m, length, d = len(space), len(seq.lengths), int(seq.lengths.max()), seq.x.shape[1]
    n_params = np.asarray(space.n_params, dtype=np.int64)
    linear = np.asarray(space.linear, dtype=bool)
    if not traj.ordered:  # group data: no time order, so no white-noise floor from differences along time ...
        out["excess"][:] = np.nan
        if config.noise_std:  # ... unless the user gives the states' measurement noise
            out["excess"][:] = _propagated_excess(space, out, x, order, traj.names, config)
    t0 = time.perf_counter()
    accepted, reasons = config.rule.decide(out["s_true"], out["s_random"], out["excess"], out["reason"])
    timings["accept"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if traj.ordered:
        verdict, trend_p = _verdicts(space, out, accepted, reasons, x, order, config)
    else:
        verdict = np.where(accepted, UNTESTED, REJECTED).astype(object)
        trend_p = np.full(n, np.nan)
    timings["drift"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ratio = ratio_of(out["s_true"], out["s_random"])
    survivors = rank_survivors(
        space,
        out["params_true"],
        accepted,
        ratio,
        verdict,
        x,
        top=config.top,
        seed=config.seed,
        tol=config.independence_tol,
        memory_mb=config.memory_mb,
    )
    timings["independence"] = time.perf_counter() - t0
    expressions = [_expression(space, i, out["params_true"][i], accepted[i]) for i in range(n)]
    table = candidate_table(
        {
            "formula": [space.render(i) for i in range(n)],
            "expression": expressions,
            "n_params": n_params,
            "params": [" ".join(f"{v:.6g}" for v in out["params_true"][i, : n_params[i]]) for i in range(n)],
            "s_true": out["s_true"],
            "s_random": out["s_random"],
            "ratio": ratio,
            "excess": out["excess"],
            "trend_p": trend_p,
            "verdict": verdict,
            "linear": linear,
            "converged": out["converged"],
            "accepted": accepted,
            "rank": survivors.rank,
            **class_columns(survivors.classes, expressions, n),
            "reason": reasons,
        }
    )
    return FilterResult(
        space=space,
        table=table,
        params=out["params_true"],
        accepted_indices=survivors.order,
        independent_indices=survivors.independent,
        rule=config.rule,
        sequences_shape=(m, length, d),
        timings=timings,
        approximate_indices=survivors.approximate,
        sequence_lengths=seq.lengths,
        score=score,
        score_reason=score_reason,
        unidentifiable=why_none,
        classes=survivors.classes,
    )


def _verdicts(
    space, out: dict, accepted: np.ndarray, reasons: list, x: torch.Tensor, length: int | Segments, config: FilterConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Label every accepted candidate conserved or approximate (``drift.measure_drift`` on its values along the
    training sequences); with ``accept='conserved'`` the approximate ones are rejected (``accepted`` and
    ``reasons`` are updated in place). Returns (verdict [n] str, trend_p [n], NaN where not accepted)."""
    n = len(accepted)
    verdict = np.full(n, REJECTED, dtype=object)
    trend_p = np.full(n, np.nan)
    acc = np.flatnonzero(accepted)
    if len(acc) == 0:
        return verdict, trend_p
    values = []
    for chunk in _chunks(acc, _chunk_size(config.memory_mb, x.shape[0], 1, per_value=4)):
        c = torch.as_tensor(out["params_true"][chunk], dtype=x.dtype, device=x.device)
        with torch.no_grad():
            values.append(space.subset(chunk).evaluate(x, c, memory_mb=config.memory_mb).values)
    # the relative spread the exactness test reads: S itself for the paper's score, a contrast's own otherwise
    spread = out.get("s_spread", out["s_true"])
    drift = measure_drift(torch.cat(values), length, spread[acc], config.drift)
    verdict[acc] = drift.verdicts
    trend_p[acc] = drift.trend_p
    if config.accept == CONSERVED:
        for j in np.flatnonzero(~drift.conserved):
            i = acc[j]
            accepted[i] = False
            reasons[i] = (
                f"approximate, not conserved: drifts beyond noise (within/white-noise variance "
                f"{drift.excess[j]:.3g}, trend p {drift.trend_p[j]:.2g})"
            )
    return verdict, trend_p


def _expression(space, i: int, params: np.ndarray, accepted: bool) -> str:
    """The fitted law at 6 significant digits: simplified by SymPy for an accepted candidate, the formula with its
    values filled in for a rejected one (SymPy on every candidate would take minutes)."""
    try:
        if not accepted:
            formula = space.formulas[i]
            return formula.render(space.names, params[: formula.n_params])
        return str(space.law(int(i), params).display())
    except Exception as exc:  # noqa: BLE001 - a law that cannot be rendered must not sink the table
        return f"<{type(exc).__name__}: {exc}>"
