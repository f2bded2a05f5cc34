"""The filter's fits on true and random sequences, chunk by chunk of candidates: exact for affine candidates, by
gradient for the rest, on this process, on threads or on a Dask cluster; the propagated-noise excess of group data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch
from joblib import Parallel

from ..allocator import reuse_freed_memory
from ..dsl import CandidateSpace
from ..errors import ConfigError
from ..threads import thread_share, usable_cores
from .chunks import _chunk_size, _chunks, _pad
from .cluster import run_on_cluster
from .evaluator import SpaceEvaluator
from .filter_types import FilterConfig
from .fit_exact import OK, STATUS, ExactFit, features_from, solve_pencil
from .fit_gradient import fit_gradient
from .null import fit_reasons, ratio_of, shuffled_index
from .score import (
    Segments,
    conservation_score,
    noise_excess,
    scatter_matrices,
    white_scatter,
    within_variance,
)


@dataclass(frozen=True, eq=False)
class _Context:
    space: CandidateSpace
    x: torch.Tensor
    idx_true: torch.Tensor | Segments
    idx_rand: torch.Tensor | Segments
    order: int | Segments  # the grouping of points already in sequence order: L, or the Segments
    dof: int  # Σ (L_s - 1): the within-variance denominator
    kmax: int
    config: FilterConfig
    fit_data: tuple  # (x_fit [N', d], permutation [N'], its grouping): the gradient fits' subsample


def _fit_subsample(x: torch.Tensor, lengths: np.ndarray, order: int | Segments, config: FilterConfig) -> tuple:
    """Whole sequences, drawn at random, totalling about ``gradient.fit_points`` points (all when 0 or fewer):
    (x_fit [N', d] in sequence order, a permutation of its points that makes its random sequences, the grouping
    of x_fit: L, or the Segments of the chosen sequences)."""
    m = len(lengths)
    typical = int(np.median(lengths))
    keep = m if config.gradient.fit_points == 0 else min(m, max(2, config.gradient.fit_points // typical))
    gen = torch.Generator(device="cpu").manual_seed(config.seed + 1)
    chosen = torch.sort(torch.randperm(m, generator=gen)[:keep]).values
    if isinstance(order, int):
        length = order
        x_fit = x.reshape(m, length, -1)[chosen.to(x.device)].reshape(keep * length, -1)
        return x_fit, shuffled_index(keep, length, config.seed + 2, device=x.device).flatten(), length
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rows = np.concatenate([np.arange(starts[i], starts[i] + lengths[i]) for i in chosen.tolist()])
    sizes = lengths[chosen.numpy()]
    times = order.times[chosen.to(order.times.device)] if order.times is not None else None
    grouping = Segments.contiguous(sizes, times=times, device=x.device)
    perm = Segments.shuffled(sizes, config.seed + 2, device=x.device).flatten()
    return x[torch.as_tensor(rows, device=x.device)], perm, grouping


def _evaluator(ctx: _Context, sub: CandidateSpace, x: torch.Tensor | None = None) -> SpaceEvaluator:
    """The candidates of ``sub`` on states x (default: all), as ``fit_gradient`` fits them."""
    return SpaceEvaluator(sub, ctx.x if x is None else x, ctx.config.memory_mb)


@reuse_freed_memory()  # chunk after chunk of big tensors (allocator.py)
def _fit_linear_chunk(ctx: _Context, index: np.ndarray) -> dict:
    """Exact fits of affine candidates ``index`` on true and random sequences, from one set of features."""
    sub = ctx.space.subset(index)
    n_params = torch.as_tensor(np.asarray(sub.n_params), device=ctx.x.device)
    k = int(n_params.max())
    evaluate = _evaluator(ctx, sub)
    with torch.no_grad():
        feats, finite = features_from(lambda c: evaluate(_pad(c, ctx.kmax)), len(index), k, ctx.x)
        w_true, total = scatter_matrices(feats, ctx.idx_true)
        w_rand, _ = scatter_matrices(feats, ctx.idx_rand)
        white = white_scatter(feats, ctx.idx_true)
        true = solve_pencil(w_true, total, n_params)
        rand = solve_pencil(w_rand, total, n_params)
        # a = (1, c): the coefficients of the features; width 1 for candidates without parameters
        a = torch.cat([true.params.new_ones(true.params.shape[0], 1), true.params], 1)
        true = ExactFit(_pad(true.params, ctx.kmax), true.score, true.status)
        rand = ExactFit(_pad(rand.params, ctx.kmax), rand.score, rand.status)
        within = torch.einsum("nk,nkj,nj->n", a, w_true, a).clamp_min(0) / ctx.dof
        noise = torch.einsum("nk,nkj,nj->n", a, white, a)
        excess = within / noise.clamp_min(torch.finfo(noise.dtype).tiny)
    finite = finite.cpu().numpy()
    reason = [
        None if f and s == OK else ("non-finite values" if not f else STATUS[int(s)])
        for f, s in zip(finite, true.status.cpu().numpy())
    ]
    return {
        "index": index,
        "params_true": true.params,
        "params_rand": rand.params,
        "s_true": true.score,
        "s_random": rand.score,
        "excess": excess,
        "converged": np.ones(len(index), bool),
        "reason": reason,
    }


@reuse_freed_memory()
def _fit_gradient_chunk(ctx: _Context, index: np.ndarray) -> dict:
    """Fits of non-affine candidates ``index`` on true and on random sequences (on the fit subsample, see
    ``GradientConfig.fit_points``, then polished on all points); S_true and S_random on all points."""
    x_fit, perm_fit, fit_order = ctx.fit_data
    true, values, finite, s_true = _fit_gradient_on(ctx, index, ctx.x, x_fit, fit_order, give_up=True)
    # S_random <= 1 always (the random sequences hold the same points, so within <= total variance): a candidate
    # with S_true >= 1 / (the least ratio the rule accepts) can never pass, and its random fit is skipped
    scores = s_true.cpu().numpy()
    hopeless = ~(scores < 1 / ctx.config.rule.least_ratio)
    fit_rand = np.flatnonzero(~hopeless)
    params_rand = torch.zeros_like(true.params)
    s_rand = torch.full_like(s_true, float("nan"))
    converged = true.converged.cpu().numpy().copy()
    if len(fit_rand):
        # the random sequences are the same lengths as the true ones: the points reordered, the same grouping
        rand, _, _, score = _fit_gradient_on(
            ctx, index[fit_rand], ctx.x[ctx.idx_rand.flatten()], x_fit[perm_fit], fit_order
        )
        at = torch.as_tensor(fit_rand, device=s_true.device)
        params_rand[at], s_rand[at] = rand.params, score
        converged[fit_rand] &= rand.converged.cpu().numpy()
    with torch.no_grad():
        excess = noise_excess(values, ctx.order)
    reason = fit_reasons(finite.cpu().numpy(), scores, hopeless, ctx.config.rule.least_ratio, "random")
    return {
        "index": index,
        "params_true": true.params,
        "params_rand": params_rand,
        "s_true": s_true,
        "s_random": s_rand,
        "excess": excess,
        "converged": converged,
        "reason": reason,
    }


def _fit_gradient_on(
    ctx: _Context, index: np.ndarray, x_all: torch.Tensor, x_sub: torch.Tensor, fit_order, give_up: bool = False
):
    """Fit candidates ``index`` on the subsample x_sub (polished on x_all) -> (fit, values on x_all [n, N],
    finite [n], S on x_all [n], NaN where not finite). give_up: stop the fits that cannot get below the S above
    which the rule accepts nothing (``GradientConfig.give_up``; for the true sequences only: on random ones a
    fit stopped early would overstate S_random)."""
    sub = ctx.space.subset(index)
    n_params = torch.as_tensor(np.asarray(sub.n_params), device=ctx.x.device)
    cfg, order, kmax = ctx.config.gradient, ctx.order, ctx.kmax
    fit_cfg = replace(cfg, give_up=1 / ctx.config.rule.least_ratio if give_up else 0.0)
    fit = fit_gradient(_evaluator(ctx, sub, x_sub), n_params, fit_order, config=fit_cfg, max_params=kmax, like=ctx.x)
    evaluate = _evaluator(ctx, sub, x_all)
    if x_sub.shape[0] < x_all.shape[0] and cfg.polish_steps:
        fit = fit_gradient(
            evaluate,
            n_params,
            order,
            config=fit_cfg,
            max_params=kmax,
            like=ctx.x,
            starts=fit.params[None],
            steps=cfg.polish_steps,
        )
    with torch.no_grad():
        values, finite = evaluate(fit.params)
        score = torch.where(finite, conservation_score(values, order), torch.nan)
    return fit, values, finite, score


def _propagated_excess(
    space, out: dict, x: torch.Tensor, order, names: tuple[str, ...], config: FilterConfig
) -> np.ndarray:
    """Within-sequence variance over the states' measurement noise propagated through the law's gradient, for the
    candidates the noise-aware rule would weigh (ratio in [noisy_ratio, paper_ratio)); NaN for the others."""
    given = dict(config.noise_std)
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ConfigError(f"noise_std given for unknown state(s) {unknown}; states are {list(names)}")
    sigma2 = torch.tensor([given.get(n, 0.0) ** 2 for n in names], dtype=x.dtype, device=x.device)
    ratio = ratio_of(out["s_true"], out["s_random"])
    rule = config.rule
    with np.errstate(invalid="ignore"):
        weigh = np.flatnonzero((ratio >= rule.noisy_ratio) & (ratio < rule.paper_ratio))
    excess = np.full(len(out["s_true"]), np.nan)
    for chunk in _chunks(weigh, _chunk_size(config.memory_mb, x.shape[0], x.shape[1] + 1, per_value=4)):
        c = torch.as_tensor(out["params_true"][chunk], dtype=x.dtype, device=x.device)
        xs = x.expand(len(chunk), *x.shape).clone().requires_grad_(True)
        with torch.enable_grad():
            values = space.subset(chunk).evaluate(xs, c, memory_mb=config.memory_mb).values
            (grad,) = torch.autograd.grad(values.sum(), xs)
        noise = (grad.square() * sigma2).sum(-1).mean(-1)
        within = within_variance(values.detach(), order)
        excess[chunk] = (within / noise.clamp_min(torch.finfo(x.dtype).tiny)).cpu().numpy()
    return excess


def _store(out: dict, part: dict) -> None:
    """One chunk's fits into the per-candidate arrays ``out``, at its rows ``part['index']``."""
    i = part["index"]
    for key in ("params_true", "params_rand", "s_true", "s_random", "excess", "converged"):
        value = part[key]
        out[key][i] = value.detach().cpu().numpy() if torch.is_tensor(value) else value
    for j, r in zip(i, part["reason"]):
        out["reason"][j] = r


def _parallel(config: FilterConfig, device: torch.device, tasks: list, client=None) -> Iterator[dict]:
    """Run chunk tasks, yielding each result in task order: on the workers of ``client`` (a Dask client, see
    ``cluster.connect``) when one is given, else sequentially on CUDA or with jobs=1, else on ``jobs`` threads
    (torch releases the GIL), giving each thread an equal share of torch's intra-op threads."""
    if not tasks:
        return
    if client is not None:
        yield from run_on_cluster(client, tasks)
        return
    jobs = usable_cores() if config.jobs == -1 else config.jobs
    if device.type == "cuda" or jobs == 1 or len(tasks) == 1:
        for fn, args, kw in tasks:
            yield fn(*args, **kw)
        return
    with thread_share(jobs):
        yield from Parallel(n_jobs=jobs, prefer="threads", return_as="generator")(tasks)
