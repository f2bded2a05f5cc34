"""Every candidate fitted for a contrast score (``contrast.py``) and for its null, giving the filter the same
per-candidate results as its own fits, so that the acceptance rule, the drift test and the ranking apply unchanged."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from ..dsl import CandidateSpace
from ..progress import stage
from .chunks import _chunk_size, _chunks, _pad
from .evaluator import SpaceEvaluator
from .fit_exact import OK, STATUS, ExactFit, features_from, solve_pencil
from .fit_gradient import GradientConfig, fit_gradient
from .null import fit_reasons, ratio_of, unfitted
from .score import (
    Segments,
    constant_threshold,
    noise_excess,
    scatter_matrices,
    sequence_index,
    white_scatter,
)
from .singular import singular, singular_reason

REWEIGHT = 3  # reweighted solves of the derivative score's pencil (see ``_solve``)


def fit_contrast(
    space,
    contrast,
    lengths: np.ndarray,
    index: Tensor | Segments,
    *,
    seed: int,
    gradient: GradientConfig,
    least_ratio: float,
    memory_mb: int,
) -> dict:
    """Fit every candidate of ``space`` for ``contrast`` (``contrast.py``) on the data and on its null; the
    filter's per-candidate results (params_true, params_rand, s_true, s_random, excess, converged, reason) and
    the seconds taken (timings)."""
    n, kmax, npts = len(space), int(space.max_params), contrast.n
    out = unfitted(n, kmax) | {"timings": {}, "s_spread": np.full(n, np.nan)}
    n_params = np.asarray(space.n_params, dtype=np.int64)
    linear = np.asarray(space.linear, dtype=bool)
    dof = int((lengths - 1).sum())
    # the gradient fits' subsample: whole sequences whose stacked points number about ``gradient.fit_points``
    fit_rows = _fit_rows(lengths, gradient.fit_points // contrast.blocks, seed)
    sub = contrast.rows(fit_rows, _sub_index(lengths, fit_rows, index, contrast.true_points.device))
    stacked = contrast.true_points.shape[0]
    with stage("fit", n, "candidates") as advance:
        t0 = time.perf_counter()
        for k in range(kmax + 1):
            idx = np.flatnonzero(linear & (n_params == k))
            for chunk in _chunks(idx, _chunk_size(memory_mb, 2 * stacked, k + 1, 6)):
                _store_at(out, chunk, _linear(space, chunk, contrast, npts, index, kmax, dof, least_ratio, memory_mb))
                advance(len(chunk))
        out["timings"]["exact"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k in range(kmax + 1):
            idx = np.flatnonzero(~linear & (n_params == k))
            for chunk in _chunks(idx, _chunk_size(memory_mb, stacked, 1, 12)):
                _store_at(
                    out, chunk, _gradient(space, chunk, contrast, sub, index, kmax, gradient, least_ratio, memory_mb)
                )
                advance(len(chunk))
        out["timings"]["gradient"] = time.perf_counter() - t0
    if hasattr(contrast, "speed_range"):  # the derivative score: forms constant on this level set only
        t0 = time.perf_counter()
        _reject_singular(space, out, contrast, least_ratio, memory_mb)
        out["timings"]["singular"] = time.perf_counter() - t0
    return out


def _reject_singular(space, out: dict, contrast, least_ratio: float, memory_mb: int) -> None:
    """Give ``singular.singular_reason`` to the candidates the rule could accept (fitted, ratio >=
    ``least_ratio``) whose gradient is singular on the data (``singular.py``)."""
    ratio = ratio_of(out["s_true"], out["s_random"])
    fitted = np.array([r is None for r in out["reason"]])
    cand = np.flatnonzero(fitted & np.isfinite(out["s_true"]) & (ratio >= least_ratio))
    if not len(cand):
        return
    bad = cand[singular(space.subset(cand), out["params_true"][cand], contrast, memory_mb)]
    for i in bad:
        out["reason"][int(i)] = singular_reason()


def _evaluator(sub: CandidateSpace, x: Tensor, memory_mb: int) -> SpaceEvaluator:
    """The candidates of ``sub`` on x, as ``fit_gradient`` fits them."""
    return SpaceEvaluator(sub, x, memory_mb)


def _linear(
    space, chunk: np.ndarray, contrast, npts: int, index, kmax: int, dof: int, least_ratio: float, memory_mb: int
) -> dict:
    """Exact fits of affine candidates: the pencil of the contrast's forms on the data's stack, and on the null's
    for the candidates whose S leaves the rule a ratio to find (S_random <~ 1)."""
    sub = space.subset(chunk)
    n_params = torch.as_tensor(np.asarray(sub.n_params), device=contrast.true_points.device)
    k = int(n_params.max())
    like = contrast.true_points
    with torch.no_grad():
        feats, finite = features_from(
            lambda c: _evaluator(sub, contrast.true_points, memory_mb)(_pad(c, kmax)), len(chunk), k, like
        )
        true, s_true = _solve(contrast, feats, n_params)
        data = feats[..., :npts]  # block 0: the data itself
        w_data = scatter_matrices(data, index)[0]
        refit, s_refit = _refit(contrast, feats, w_data, n_params)
        white = white_scatter(data, index)
        params_rand = torch.zeros_like(true.params)
        s_rand = torch.full_like(s_true, float("nan"))
        hope = torch.nonzero(s_true < 1 / least_ratio).flatten()
        if len(hope):
            null = sub.subset(hope.cpu().numpy())
            null_feats, _ = features_from(
                lambda c: _evaluator(null, contrast.null_points, memory_mb)(_pad(c, kmax)), len(hope), k, like
            )
            rand, s_hope = _solve(contrast, null_feats, n_params[hope])
            params_rand[hope], s_rand[hope] = rand.params, s_hope
        # the re-fit for precision is kept where the re-fitted law still passes the rule by itself
        use = (refit.status == OK) & (s_refit * least_ratio <= s_rand)
        true = ExactFit(
            torch.where(use[:, None], refit.params, true.params),
            torch.where(use, s_refit, true.score),
            torch.where(use, refit.status, true.status),
        )
        s_true = torch.where(use, s_refit, s_true)
        spread = contrast.spread(_values(feats, true))
        del feats
        a = torch.cat([true.params.new_ones(true.params.shape[0], 1), true.params], 1)
        within = torch.einsum("nk,nkj,nj->n", a, w_data, a).clamp_min(0) / dof
        noise = torch.einsum("nk,nkj,nj->n", a, white, a)
        excess = within / noise.clamp_min(torch.finfo(noise.dtype).tiny)
    reason = [
        None if f and s == OK else ("non-finite values" if not f else STATUS[int(s)])
        for f, s in zip(finite.cpu().numpy(), true.status.cpu().numpy())
    ]
    return {
        "params_true": _pad(true.params, kmax),
        "params_rand": _pad(params_rand, kmax),
        "s_true": s_true,
        "s_random": s_rand,
        "excess": excess,
        "reason": reason,
        "s_spread": spread,
    }


def _solve(contrast, feats: Tensor, n_params: Tensor) -> tuple[ExactFit, Tensor]:
    """The pencil of the contrast's forms, then (for a score that is a mean over points, the derivative score)
    ``REWEIGHT`` reweighted solves with each point weighted by 1 / |grad g|^2 at the last fit, so that no point
    near a singularity of g rules the sums; the fit with the lowest score -> (fit, score [n])."""
    fit = solve_pencil(*contrast.forms(feats), n_params)
    score = _score_of(contrast, feats, fit)
    if not hasattr(contrast, "gradient_norms"):
        return fit, score
    for _ in range(REWEIGHT):
        norms = contrast.gradient_norms(_values(feats, fit))
        floor = constant_threshold(feats.dtype) * norms.mean(-1, keepdim=True).clamp_min(torch.finfo(feats.dtype).tiny)
        step = solve_pencil(*contrast.forms(feats, 1 / norms.clamp_min(floor)), n_params)
        s = _score_of(contrast, feats, step)
        better = (s < score) | (torch.isnan(score) & torch.isfinite(s))
        fit = ExactFit(
            torch.where(better[:, None], step.params, fit.params),
            torch.where(better, s, fit.score),
            torch.where(better, step.status, fit.status),
        )
        score = torch.where(better, s, score)
    return fit, score


def _refit(contrast, feats: Tensor, w_data: Tensor, n_params: Tensor) -> tuple[ExactFit, Tensor]:
    """The derivative score's parameters are only as precise as the estimated dx/dt (on a clean pendulum
    recording of 30 samples per period, Savitzky-Golay's error put the energy's coefficient 0.7% off), so that
    a law fitted by it drifts along noise-free data. The re-fit: the law's variance along the data over its
    squared gradient (``spread``, no dx/dt needed), minimised by the pencil W_data a = mu B a -> (fit, its
    derivative score); ``_linear`` keeps it where the re-fitted law still passes the rule."""
    if not hasattr(contrast, "gradient_norms"):
        return ExactFit(
            torch.zeros_like(feats[:, 1:, 0]),
            torch.full_like(feats[:, 0, 0], float("nan")),
            torch.full_like(feats[:, 0, 0], -1, dtype=torch.long),
        ), torch.full_like(feats[:, 0, 0], float("nan"))
    step = solve_pencil(w_data, contrast.forms(feats)[1], n_params)
    return step, _score_of(contrast, feats, step)


def _values(feats: Tensor, fit: ExactFit) -> Tensor:
    """g = φ0 + Σ c_k φ_k of each candidate [n, P] from its features [n, K+1, P]."""
    a = torch.cat([fit.params.new_ones(fit.params.shape[0], 1), fit.params], 1)
    return torch.einsum("nk,nkx->nx", a, feats)


def _score_of(contrast, feats: Tensor, fit: ExactFit) -> Tensor:
    s = contrast.score(_values(feats, fit))
    return torch.where(fit.status == OK, s, torch.full_like(s, float("nan")))


def _gradient(
    space,
    chunk: np.ndarray,
    contrast,
    sub_contrast,
    index,
    kmax: int,
    config: GradientConfig,
    least_ratio: float,
    memory_mb: int,
) -> dict:
    """Fits of non-affine candidates on a subsample of whole sequences (``GradientConfig.fit_points``), polished
    on all points; the null fitted only where the data's S leaves the rule a ratio to find."""
    sub = space.subset(chunk)
    true, values, finite, s_true = _fit_on(
        sub, contrast, sub_contrast, "true_points", kmax, config, 1 / least_ratio, memory_mb
    )
    scores = s_true.cpu().numpy()
    hopeless = ~(scores < 1 / least_ratio)
    params_rand = torch.zeros_like(true.params)
    s_rand = torch.full_like(s_true, float("nan"))
    converged = true.converged.cpu().numpy().copy()
    keep = np.flatnonzero(~hopeless)
    if len(keep):
        rand, _, _, score = _fit_on(
            sub.subset(keep), contrast, sub_contrast, "null_points", kmax, config, 0.0, memory_mb
        )
        at = torch.as_tensor(keep, device=s_true.device)
        params_rand[at], s_rand[at] = rand.params, score
        converged[keep] &= rand.converged.cpu().numpy()
        if hasattr(contrast, "gradient_norms"):  # the re-fit for precision, as ``_refit`` for affine candidates
            params, s_new, new_values = _polish(sub.subset(keep), contrast, true.params[at], kmax, config, memory_mb)
            use = torch.isfinite(s_new) & (s_new * least_ratio <= score)
            rows = at[use]
            true = replace(true, params=true.params.index_put((rows,), params[use]))
            s_true = s_true.index_put((rows,), s_new[use])
            values = values.index_put((rows,), new_values[use])
    with torch.no_grad():
        excess = noise_excess(values[:, : contrast.n], index)
        spread = contrast.spread(values)
    reason = fit_reasons(finite.cpu().numpy(), scores, hopeless, least_ratio, "null")
    return {
        "params_true": true.params,
        "params_rand": params_rand,
        "s_true": s_true,
        "s_random": s_rand,
        "excess": excess,
        "converged": converged,
        "reason": reason,
        "s_spread": spread,
    }


def _polish(
    sub, contrast, start: Tensor, kmax: int, config: GradientConfig, memory_mb: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Newton steps from ``start`` [n, K] on the law's spread along the data (``DerivativeContrast.spread``, no
    dx/dt) -> (params [n, K], their derivative score [n], values on the stack [n, P])."""
    like = contrast.true_points
    evaluate = _evaluator(sub, like, memory_mb)
    n_params = torch.as_tensor(np.asarray(sub.n_params), device=like.device)
    fit = fit_gradient(
        evaluate,
        n_params,
        contrast.spread,
        config=replace(config, give_up=0.0),
        max_params=kmax,
        like=like,
        starts=start[None],
    )
    with torch.no_grad():
        values, finite = evaluate(fit.params)
        score = torch.where(finite, contrast.score(values), torch.nan)
    return fit.params, score, values


def _fit_on(sub, contrast, sub_contrast, which: str, kmax: int, config: GradientConfig, give_up: float, memory_mb: int):
    """Fit on the subsample's stack (``which``: 'true_points' or 'null_points'), polish on the whole stack ->
    (fit, values [n, stacked points], finite [n], S [n])."""
    like = contrast.true_points
    n_params = torch.as_tensor(np.asarray(sub.n_params), device=like.device)
    cfg = replace(config, give_up=give_up)
    fit = fit_gradient(
        _evaluator(sub, getattr(sub_contrast, which), memory_mb),
        n_params,
        sub_contrast.score,
        config=cfg,
        max_params=kmax,
        like=like,
    )
    evaluate = _evaluator(sub, getattr(contrast, which), memory_mb)
    if sub_contrast.n < contrast.n and config.polish_steps:
        fit = fit_gradient(
            evaluate,
            n_params,
            contrast.score,
            config=cfg,
            max_params=kmax,
            like=like,
            starts=fit.params[None],
            steps=config.polish_steps,
        )
    with torch.no_grad():
        values, finite = evaluate(fit.params)
        score = torch.where(finite, contrast.score(values), torch.nan)
    return fit, values, finite, score


def _fit_rows(lengths: np.ndarray, fit_points: int, seed: int) -> Tensor:
    """Rows of whole sequences, drawn at random, totalling about ``fit_points`` points (all when 0)."""
    m = len(lengths)
    keep = m if fit_points == 0 else min(m, max(2, fit_points // int(np.median(lengths))))
    chosen = np.sort(np.random.default_rng(seed + 1).permutation(m)[:keep])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return torch.as_tensor(np.concatenate([np.arange(starts[i], starts[i] + lengths[i]) for i in chosen]))


def _sub_index(lengths: np.ndarray, rows: Tensor, index, device):
    """The grouping of the subsample's rows (whole sequences, in order)."""
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    chosen = np.flatnonzero(np.isin(starts, rows.numpy()))
    sizes = lengths[chosen]
    if not isinstance(index, Segments):
        return sequence_index(len(sizes), int(sizes[0]), device=device)
    times = index.times[torch.as_tensor(chosen, device=index.times.device)] if index.times is not None else None
    return Segments.contiguous(sizes, times=times, device=device)


def _store_at(out: dict, chunk: np.ndarray, part: dict) -> None:
    """One chunk's fits into the per-candidate arrays ``out`` at rows ``chunk`` (the keys ``part`` holds)."""
    for key in ("params_true", "params_rand", "s_true", "s_random", "excess", "converged", "s_spread"):
        if key in part:
            value = part[key]
            out[key][chunk] = value.detach().cpu().numpy() if torch.is_tensor(value) else value
    for j, r in zip(chunk, part["reason"]):
        out["reason"][j] = r
