"""Fit every candidate's parameters on the data and on random sequences, and keep the approximately conserved ones.

``filter_candidates(space, traj)`` is the pipeline's filter stage, the paper's first discovery step (§4.2 ¶1,
App. C), over a whole ``CandidateSpace``: exact eigen-solves for the candidates affine in their parameters, a
batched gradient fit for the rest, the random-sequence null, the acceptance rule of ``null.py`` and the independent
laws.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed

from ..allocator import reuse_freed_memory
from ..device import check_device, resolve_device
from ..dsl import CandidateSpace
from ..errors import ConfigError
from ..progress import stage
from ..settings import RUN
from ..systems import Trajectories
from ..threads import thread_share, usable_cores
from .candidates import candidate_table
from .classes import LawClasses, class_columns
from .cluster import check_scheduler, connect, run_on_cluster
from .drift import ACCEPT_LEVELS, APPROXIMATE, CONSERVED, REJECTED, UNTESTED, DriftRule, measure_drift
from .evaluator import SpaceEvaluator
from .fit_exact import OK, STATUS, ExactFit, features_from, solve_pencil
from .fit_gradient import GradientConfig, fit_gradient
from .null import AcceptanceRule, fit_reasons, ratio_of, shuffled_index, unfitted
from .score import (
    Segments,
    conservation_score,
    noise_excess,
    scatter_matrices,
    sequence_index,
    sequence_set,
    white_scatter,
    within_variance,
)
from .single import (
    RANDOM_SEQUENCE,
    check_score,
    choose_score,
    contrast_for,
    contrast_rule,
    fallback_reason,
    fit_contrast,
    score_line,
    training_runs,
    trusted,
    unidentifiable,
    untrusted,
)
from .survivors import rank_survivors


@dataclass(frozen=True)
class FilterConfig:
    """How candidates are fitted and filtered.

    rule: the acceptance rule (``AcceptanceRule(min_ratio=100)`` is the paper's); gradient: the fitter for
    non-affine candidates; window: sequence length (None: whole trajectories, see ``score.sequences``);
    seed: random sequences and restarts; device: "auto" | "cpu" | "cuda"; jobs: CPU worker threads over chunks;
    scheduler: run the chunks on a Dask cluster instead -- its scheduler's address ("tcp://10.0.0.5:8786") or
    "local" (a LocalCluster on this machine for the run); None (default): on this process (``cluster.py``);
    memory_mb: working-memory budget per chunk; top: how many of the best functional classes of survivors (each
    law with all its forms, ``classes.py``) are examined for independence;
    independence_tol: smallest singular value of stacked unit gradients that counts as independent;
    drift: the test that labels each accepted law conserved or approximate (``drift.py``); accept: the least a
    law must be to be accepted -- 'approximate' (default: every law that passes ``rule``, labelled) or
    'conserved' (approximate laws are rejected); noise_std: ((state, sigma), ...) the measurement noise of the
    states, for group data (no time order, so no noise floor from differences along time): g's white-noise
    variance is then sigma propagated through its gradient, E[sum_j (dg/dx_j)^2 sigma_j^2]; score: 'auto' (the
    paper's random-sequence null on whole trajectories, the derivative score when fewer than 8 recordings train,
    ``single.py``), 'random-sequence', 'derivative' or 'coordinate-shuffle' (``contrast.py``).
    device, jobs, scheduler and memory_mb say how the work runs, not what it finds: they do not key the stage
    cache (``settings.run_free``).
    """

    rule: AcceptanceRule = AcceptanceRule()
    gradient: GradientConfig = GradientConfig()
    window: int | None = None
    seed: int = 0
    device: str = field(default="auto", metadata=RUN)
    jobs: int = field(default=1, metadata=RUN)
    scheduler: str | None = field(default=None, metadata=RUN)
    memory_mb: int = field(default=512, metadata=RUN)
    top: int = 50
    independence_tol: float = 0.1
    drift: DriftRule = DriftRule()
    accept: str = APPROXIMATE
    noise_std: tuple[tuple[str, float], ...] = ()
    score: str = "auto"

    def __post_init__(self):
        check_score(self.score)
        if isinstance(self.noise_std, dict):
            object.__setattr__(self, "noise_std", tuple(sorted(self.noise_std.items())))
        bad = [(k, v) for k, v in self.noise_std if not (v >= 0 and np.isfinite(v))]
        if bad:
            raise ConfigError(f"noise_std values must be finite and >= 0, got {bad}")
        check_device(self.device)
        if self.jobs == 0 or self.jobs < -1:
            raise ConfigError(f"jobs must be >= 1 or -1 (all cores), got {self.jobs}")
        check_scheduler(self.scheduler)
        if self.memory_mb < 16:
            raise ConfigError(f"memory_mb must be >= 16, got {self.memory_mb}")
        if self.top < 1:
            raise ConfigError(f"top must be >= 1, got {self.top}")
        if self.accept not in ACCEPT_LEVELS:
            raise ConfigError(f"accept must be one of {', '.join(ACCEPT_LEVELS)}, got '{self.accept}'")

    def torch_device(self) -> torch.device:
        return resolve_device(self.device)


@dataclass(frozen=True, eq=False)
class FilterResult:
    """Every candidate's fit and verdict.

    table: one row per candidate, in space order, with the columns of ``candidates.COLUMNS``; verdict:
    'conserved' or 'approximate' for accepted candidates (``drift.py``), else 'rejected'; params [n, max_params];
    accepted_indices: accepted candidates, best first (ratio descending, capped at 1e12, then fewer parameters,
    then smaller formula), conserved and approximate alike; classes: every accepted law's functional class (its
    forms) and representative, best class first (``classes.py``); the table's ``law_class``, ``forms`` and
    ``other_forms`` columns show them; independent_indices: the representatives of a functionally independent set
    of the top CONSERVED classes (``survivors.rank_survivors``), best class first; approximate_indices: the same
    among the approximate ones; timings in seconds.
    """

    space: CandidateSpace
    table: pd.DataFrame
    params: np.ndarray
    accepted_indices: np.ndarray
    independent_indices: list[int]
    rule: AcceptanceRule
    sequences_shape: tuple[int, int, int]
    timings: dict = field(default_factory=dict)
    approximate_indices: list[int] = field(default_factory=list)
    sequence_lengths: np.ndarray | None = None  # [m] the points of each sequence (they may differ)
    score: str = RANDOM_SEQUENCE  # the score used ('random-sequence', 'derivative', ..., ``single.py``) ...
    score_reason: str = ""  # ... and why
    unidentifiable: str | None = None  # why the data cannot identify any law (nothing was fitted), else None
    classes: LawClasses = field(default_factory=LawClasses.empty)

    def laws(self, k: int | None = None) -> list:
        """The top k accepted laws (all when k is None), best first."""
        idx = self.accepted_indices if k is None else self.accepted_indices[:k]
        return [self.space.law(int(i), self.params[i]) for i in idx]

    @property
    def representatives(self) -> np.ndarray:
        """One space index per functional class of accepted laws (its simplest form), best class first."""
        return self.classes.representatives

    def forms(self, index: int) -> int:
        """How many accepted forms candidate ``index``'s functional class holds (0 when rejected)."""
        return len(self.classes.forms(index))

    @property
    def independent(self) -> list:
        """The functionally independent conserved laws."""
        return [self.space.law(int(i), self.params[i]) for i in self.independent_indices]

    @property
    def approximate(self) -> list:
        """The functionally independent approximate laws (accepted, but drifting beyond noise)."""
        return [self.space.law(int(i), self.params[i]) for i in self.approximate_indices]

    def verdict(self, index: int) -> str:
        """'conserved', 'approximate' or 'rejected' for candidate ``index`` of the space."""
        return str(self.table["verdict"].iloc[int(index)])

    @property
    def score_line(self) -> str:
        """Which score judged the candidates, and why (``single.score_line``)."""
        return score_line(self.score, self.score_reason or "as asked")

    @property
    def n_conserved(self) -> int:
        return int((self.table["verdict"] == CONSERVED).sum())

    @property
    def n_accepted(self) -> int:
        return len(self.accepted_indices)


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


# ---------------------------------------------------------------------------------------------- internals
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


def _pad(c: torch.Tensor, width: int) -> torch.Tensor:
    """Parameters [n, k] zero-padded to [n, width]."""
    return torch.cat([c, c.new_zeros(c.shape[0], width - c.shape[1])], 1) if c.shape[1] < width else c


def _store(out: dict, part: dict) -> None:
    i = part["index"]
    for key in ("params_true", "params_rand", "s_true", "s_random", "excess", "converged"):
        value = part[key]
        out[key][i] = value.detach().cpu().numpy() if torch.is_tensor(value) else value
    for j, r in zip(i, part["reason"]):
        out["reason"][j] = r


def _chunk_size(memory_mb: int, points: int, features: int, per_value: int) -> int:
    return max(1, int(memory_mb * 2**20 / (8 * points * features * per_value)))


def _chunks(index: np.ndarray, size: int) -> list[np.ndarray]:
    return [index[i : i + size] for i in range(0, len(index), size)]


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
