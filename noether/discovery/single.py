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
``fit_contrast`` (``contrast_fit.py``) fits every candidate for such a score and for its null.
Before any fit, ``unidentifiable`` names what no score can get past: too few samples, or states that do not
move beyond their noise.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from ..systems.derivatives import estimate_all
from .contrast import CONTRASTS, coordinate_shuffled
from .contrast_fit import fit_contrast as fit_contrast  # re-exported: its home was this module
from .drift import null_excess
from .null import AcceptanceRule
from .score import (
    MIN_SEQUENCES,
    MIN_WINDOW,
    Segments,
    constant_threshold,
    noise_excess,
    sequence_set,
    white_noise_variance,
    within_variance,
)

RANDOM_SEQUENCE, DERIVATIVE, COORDINATE_SHUFFLE = "random-sequence", "derivative", "coordinate-shuffle"
SCORES = ("auto", RANDOM_SEQUENCE, DERIVATIVE, COORDINATE_SHUFFLE)
#: the fewest training states a contrast score works on: the 2 x 8 windows of 5 steps that the filter's own
#: windowing (``score.sequence_set``) asks of one recording
MIN_POINTS = 2 * MIN_SEQUENCES * MIN_WINDOW
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
