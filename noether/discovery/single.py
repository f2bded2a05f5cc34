"""Conservation from data that sit on one level set: one recording, or a few that share their levels.

The paper's score (``score.py``) compares a law's variance within sequences with its variance across them. When
the sequences are windows cut from one recording, every law the recording conserves has the same value in all of
them: its across-sequence variance is noise, and the random-sequence null (``null.py``) cannot tell it from junk.

``choose_score`` plans, for ``FilterConfig(score='auto')``, the paper's score, and when fewer than
``score.MIN_SEQUENCES`` recordings train (the sequences are then windows, most of them of the same recording) the
derivative score of ``contrast.py`` (grad(g) . xdot ~ 0 along the data, against directions drawn from other points)
as its fallback: the filter switches to it when no law reaches ratio 100 with the paper's score (``trusted``: too
little across-sequence variance to trust), unless neither accepts any law (then the paper's table is kept, its
ratios showing how close the candidates came). Whole trajectories keep the paper's score alone (results
unchanged).
``fit_contrast`` fits every candidate for such a score and for its null, giving the filter the same per-candidate
results as its own fits, so the acceptance rule, the drift test and the ranking apply unchanged.
Before any fit, ``unidentifiable`` names what no score can get past: too few samples, or states that do not
move beyond their noise.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from ..dsl import CandidateSpace
from ..progress import stage
from ..systems.derivatives import estimate_all
from .contrast import CONTRASTS, coordinate_shuffled
from .drift import null_excess
from .evaluator import SpaceEvaluator
from .fit_exact import OK, STATUS, ExactFit, features_from, solve_pencil
from .fit_gradient import GradientConfig, fit_gradient
from .null import AcceptanceRule, fit_reasons, ratio_of, unfitted
from .score import (
    MIN_SEQUENCES,
    MIN_WINDOW,
    Segments,
    constant_threshold,
    noise_excess,
    scatter_matrices,
    sequence_index,
    sequence_set,
    white_noise_variance,
    white_scatter,
    within_variance,
)
from .singular import singular, singular_reason

RANDOM_SEQUENCE, DERIVATIVE, COORDINATE_SHUFFLE = "random-sequence", "derivative", "coordinate-shuffle"
SCORES = ("auto", RANDOM_SEQUENCE, DERIVATIVE, COORDINATE_SHUFFLE)
#: the fewest training states a contrast score works on: the 2 x 8 windows of 5 steps that the filter's own
#: windowing (``score.sequence_set``) asks of one recording
MIN_POINTS = 2 * MIN_SEQUENCES * MIN_WINDOW
REWEIGHT = 3  # reweighted solves of the derivative score's pencil (see ``_solve``)
MOTION_ALPHA = 1e-3  # false-alarm rate of "this coordinate moves" for a coordinate that is white noise only


#: what each score measures, for the console and report.md
SCORE_TEXT = {
    RANDOM_SEQUENCE: "within- vs across-sequence variance against random sequences (paper, Eq. 4)",
    DERIVATIVE: "grad(g) . dx/dt ~ 0 along the data, against directions drawn from other points",
    COORDINATE_SHUFFLE: "variance along the data against states with each coordinate shuffled",
}


def score_line(score: str, why: str) -> str:
    """'score: derivative -- grad(g) . dx/dt ~ 0 ... (1 recording: ...)': which score the filter used, and why."""
    return f"score: {score} -- {SCORE_TEXT[score]} ({why})"


def contrast_rule(rule: AcceptanceRule) -> AcceptanceRule:
    """The rule a contrast score is judged by: ratio >= ``paper_ratio`` alone (or the user's fixed ratio). Its
    noise-aware path (ratio >= 3 with within ~ white-noise variance) reads the ratio as a share of between-sequence
    variance, which a contrast's ratio is not, and it let through formulas with a pole on the data, whose spikes
    look white (measured: 24 such laws at ratio 3-4.4 on one Van der Pol recording); the true laws of one 1%-noise
    recording reach ratio 10^3 and more (benchmarks/results/one_recording.md)."""
    return rule if rule.min_ratio is not None else AcceptanceRule(min_ratio=rule.paper_ratio)


def check_score(score: str) -> None:
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}, got '{score}'")


def training_runs(traj) -> int:
    """How many separate recordings (contiguous training runs) the training split holds."""
    return traj.n_traj if np.array_equal(traj.train_mask, traj.valid) else traj.split()[0].n_traj


def choose_score(requested: str, runs: int) -> tuple[str, str, str | None]:
    """(score, why, fallback): the requested one; for 'auto' the paper's score, with the derivative score as the
    fallback when fewer than ``MIN_SEQUENCES`` recordings train -- their sequences are windows, which share the
    level of every law a recording conserves -- to be used when the paper's score finds too little
    across-sequence variance to trust (``trusted``)."""
    check_score(requested)
    if requested != "auto":
        return requested, "as asked", None
    if runs < MIN_SEQUENCES:
        return (
            RANDOM_SEQUENCE,
            (
                f"{runs} recording{'s' if runs != 1 else ''}: windows of the same recordings, and "
                "a law reached ratio >= 100 on them"
            ),
            DERIVATIVE,
        )
    return RANDOM_SEQUENCE, f"{runs} recordings as sequences", None


def trusted(result, x: Tensor, rule: AcceptanceRule, exact: float) -> bool:
    """Whether the paper's score found across-sequence variance it can trust: some accepted law reaches the
    paper's ratio 100, and varies over the data x [N, d] by more than numerical precision (its spread on the data
    over that on the data with each coordinate shuffled above ``exact``, the drift test's; on a noise-free
    recording the true law's windows differ by round-off alone, and their ratio is then any number). On windows
    of one recording a conserved law's ratio is ~ 1; a damped recording's energy still reaches it (the real
    pendulum: ratio 101), as do laws that separate recordings on different levels."""
    table = result.table
    cand = np.flatnonzero(table["accepted"].to_numpy(bool) & (table["ratio"].to_numpy(float) >= rule.paper_ratio))
    if not len(cand):
        return False
    cand = cand[:64]
    sub = result.space.subset(cand)
    c = torch.as_tensor(result.params[cand], dtype=x.dtype, device=x.device)
    with torch.no_grad():
        on = sub.evaluate(x, c).values.std(-1)
        off = sub.evaluate(coordinate_shuffled(x, np.array([x.shape[0]]), 0), c).values.std(-1)
    return bool((on > exact * off).any())


def untrusted(runs: int, fallback_empty: str | None = None) -> str:
    """The reason given when the fallback score replaced the paper's (see ``choose_score``), or, with
    ``fallback_empty`` (its name), when it was tried and accepted nothing either, so the paper's table is kept."""
    why = (
        f"{runs} recording{'s' if runs != 1 else ''}: windows of the same recordings, and no law reached ratio "
        ">= 100 on them with the paper's score: too little across-sequence variance to trust"
    )
    return why if fallback_empty is None else f"{why}; the {fallback_empty} score accepted no law either"


def one_level(result, traj) -> int:
    """How many training recordings lie on one level set of every independent conserved law of ``result``: each
    law's mean differs between the recordings by no more than the law's own spread along them (its noise), or
    the recordings are the same one level to round-off. 0 when fewer than two recordings train or no law is
    conserved. Where this holds the paper's across-sequence score has nothing to compare (see ``untrusted``)."""
    train = traj if np.array_equal(traj.train_mask, traj.valid) else traj.split()[0]
    idx = np.asarray(result.independent_indices, dtype=np.int64)
    if train.n_traj < 2 or not len(idx):
        return 0
    sub = result.space.subset(idx)
    c = torch.as_tensor(result.params[idx], dtype=torch.float64)
    means, spreads = [], []
    with torch.no_grad():
        for r in range(train.n_traj):
            x = torch.as_tensor(train.states[r, : train.lengths[r]], dtype=torch.float64)
            values = sub.evaluate(x, c).values  # [k, T_r]
            means.append(values.mean(-1))
            spreads.append(values.std(-1))
    means, spread = torch.stack(means, -1), torch.stack(spreads, -1).square().mean(-1).sqrt()
    scale = means.abs().amax(-1)
    same = means.std(-1) <= spread + constant_threshold(means.dtype) ** 0.5 * scale
    return train.n_traj if bool(same.all()) else 0


def on_one_level(runs: int, fallback: str) -> str:
    """The reason given when the fallback score judged recordings that ``one_level`` found on one level set."""
    return (
        f"all {runs} recordings lie on one level set of the laws found (each law has the same value on every "
        f"recording, to within its noise): the paper's across-sequence score cannot tell a law from junk there, "
        f"so the laws are judged by the {fallback} score on that one level"
    )


def fallback_reason(result, traj, runs: int, fallback: str) -> str:
    """Why the fallback score's ``result`` replaced the paper's: the recordings' shared level when ``one_level``
    finds it, else too little across-sequence variance (``untrusted``)."""
    return on_one_level(runs, fallback) if runs > 1 and one_level(result, traj) else untrusted(runs)


def contrast_for(score: str, traj, seq, index, window: int | None, seed: int, device):
    """The ``contrast.py`` score named ``score`` on the training sequences ``seq`` (points in sequence order)."""
    x = torch.as_tensor(seq.x, dtype=torch.float64, device=device)
    dxdt = None
    if score == DERIVATIVE:  # the data's own dx/dt, else a Savitzky-Golay estimate, cut into the same sequences
        rates = replace(traj, states=_rates(traj), derivatives=None, clean=None)
        dxdt = torch.as_tensor(sequence_set(rates, "train", window).x, dtype=torch.float64, device=device)
    return CONTRASTS[score](x, seq.lengths, index, seed, dxdt=dxdt)


def _rates(traj) -> np.ndarray:
    """dx/dt [M, T, d]: the data's own when it carries them, else Savitzky-Golay on the real times, chosen by
    measurement (benchmarks/results/one_recording.md, dx/dt table): the score needs a direction error (mean
    sin^2) below 1/(100 d), which Savitzky-Golay meets on all 12 benchmark recordings of systems with laws (noise
    0 and 0.01), the smoothing spline on 11 (Kepler at 0.01: 3.0e-3) and finite differences on 7; the spline's GCV
    also flattens a Lorenz recording (error 0.54)."""
    if traj.derivatives is not None:
        return traj.derivatives
    return estimate_all(traj.states, traj.times, traj.lengths, "savgol")


def unidentifiable(x: Tensor, index: Tensor | Segments, ordered: bool, score: str) -> str | None:
    """Why no law can be told from these training states x [N, d] (in sequence order under ``index``), or None.

    Too few samples (the coordinate-shuffle score needs ``MIN_POINTS``), or too little motion: every coordinate
    varies along its sequences no more than white noise would (within / white-noise variance at most the
    (1 - ``MOTION_ALPHA``) quantile of pure noise on this layout, ``drift.null_excess``), so every formula is
    constant on the data up to noise. Group data (no time order) is only checked for samples."""
    n = x.shape[0]
    if score != RANDOM_SEQUENCE and n < MIN_POINTS:
        return (
            f"too few samples: {n} training states, the single-recording score needs at least {MIN_POINTS}; "
            "record longer or add recordings"
        )
    if not ordered:
        return None
    cols = x.T.contiguous()
    spread = within_variance(cols, index)
    scale = cols.square().mean(-1).clamp_min(torch.finfo(x.dtype).tiny)
    still = spread <= constant_threshold(x.dtype) * scale
    try:
        excess = noise_excess(cols, index, white_noise_variance(cols, index))
    except Exception:  # noqa: BLE001 - sequences too short for third differences: no noise floor to compare with
        return None if not bool(still.all()) else _NO_MOTION
    bound = _motion_bound(index)
    if bool((still | (excess <= bound)).all()):
        return _NO_MOTION
    return None


_NO_MOTION = (
    "too little motion: no state varies along the recordings beyond its measurement noise, so every "
    "formula is constant on them; record a stretch where the system moves"
)


def _motion_bound(index: Tensor | Segments) -> float:
    if isinstance(index, Segments):
        sizes = tuple(int(k) for k in index.lengths.cpu())
        return null_excess(len(sizes), max(sizes), MOTION_ALPHA, lengths=sizes)
    return null_excess(int(index.shape[0]), int(index.shape[1]), MOTION_ALPHA)


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
            for chunk in _chunks(idx, _chunk(memory_mb, 2 * stacked, k + 1, 6)):
                _store(out, chunk, _linear(space, chunk, contrast, npts, index, kmax, dof, least_ratio, memory_mb))
                advance(len(chunk))
        out["timings"]["exact"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k in range(kmax + 1):
            idx = np.flatnonzero(~linear & (n_params == k))
            for chunk in _chunks(idx, _chunk(memory_mb, stacked, 1, 12)):
                _store(
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


def _store(out: dict, chunk: np.ndarray, part: dict) -> None:
    for key in ("params_true", "params_rand", "s_true", "s_random", "excess", "converged", "s_spread"):
        if key in part:
            value = part[key]
            out[key][chunk] = value.detach().cpu().numpy() if torch.is_tensor(value) else value
    for j, r in zip(chunk, part["reason"]):
        out["reason"][j] = r


def _pad(c: Tensor, width: int) -> Tensor:
    return torch.cat([c, c.new_zeros(c.shape[0], width - c.shape[1])], 1) if c.shape[1] < width else c


def _chunk(memory_mb: int, points: int, features: int, per_value: int) -> int:
    return max(1, int(memory_mb * 2**20 / (8 * points * features * per_value)))


def _chunks(index: np.ndarray, size: int) -> list[np.ndarray]:
    return [index[i : i + size] for i in range(0, len(index), size)]
