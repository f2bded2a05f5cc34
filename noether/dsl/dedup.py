"""Deduplication beyond the paper's commutativity pruning, on the probe values computed while enumerating.

Steps, each counted separately (``DedupStep``), each keeping the formula with fewest nodes (then fewest
parameters, then enumeration order) of every group it merges:

* **constant** — formulas that are constant or undefined on the probe points (``q − q``, ``q / q``,
  ``sin(q)**2 + cos(q)**2``): they conserve trivially.
* **same function** — equal values on random probe points under the same random parameter values
  (``c0*q*p`` and ``q*(c0*p)``); for small formulas the merge is confirmed symbolically with SymPy.
* **affine** — a conservation law g and a·g + b are equally conserved. For a formula affine in its parameters,
  g = φ0 + Σ c_k φ_k, the set {a·g + b} over all a, b, c is the linear span U = span{1, φ0, φ1, ...}: formulas
  with the same U are one family (``p**2 + c0*cos(q)``, ``p**2 - c0*cos(q)``, ``cos(q) + c0*p**2``; ``c0*q``
  and ``q``). A formula non-linear in its parameters whose span{1, g} does not change with the parameters
  (``(c0*q)**2`` ~ ``q**2``) joins that family too; the others are compared by their values normalised to zero
  mean, unit norm and a fixed sign under each random parameter draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import ConfigError
from .enumerate import RawSpace
from .grammar import NONLINEAR, to_sympy

_SNAP = 1e-9
_F32_OVERFLOW = 2.0**128 - 2.0**103  # the smallest float64 that rounds to inf in float32 (max + half an ulp)


@dataclass(frozen=True)
class DedupConfig:
    """confirm_max_size: merges of 'same function' between formulas of at most this many nodes are checked
    with SymPy (0 disables); the numerical fingerprint decides either way, the report counts confirmations."""

    confirm_max_size: int = 5
    constant_rtol: float = 1e-9

    def __post_init__(self):
        if self.confirm_max_size < 0:
            raise ConfigError(f"confirm_max_size must be >= 0, got {self.confirm_max_size}")


@dataclass(frozen=True)
class DedupStep:
    name: str
    kept: np.ndarray  # global ids kept after this step
    removed: int
    note: str = ""


def deduplicate(raw: RawSpace, config: DedupConfig = DedupConfig()) -> list[DedupStep]:
    """Run every pruning step after enumeration; returns the steps in order (the last one's ``kept`` is final)."""
    steps = []
    ids = np.arange(len(raw))
    P, R = len(raw.probes.x), raw.probes.n_random
    values = raw.values.reshape(len(raw), -1, P)  # [n, draws, P]

    ids = ids[raw.op != -2]  # the bare parameter (already counted under "no input" by the enumeration)

    keep = ~_degenerate(values[ids], raw.pclass[ids], R, config.constant_rtol)
    steps.append(DedupStep("constant", ids[keep], int((~keep).sum()), "constant or undefined on probe points"))
    ids = ids[keep]

    same_key = _quantise(values[ids, :R].reshape(len(ids), -1))
    rep = _representatives(same_key, raw, ids)
    note = _confirm(raw, ids, rep, config.confirm_max_size)
    kept = ids[rep == np.arange(len(ids))]
    steps.append(DedupStep("same function", kept, len(ids) - len(kept), note))
    ids = kept

    rep = _representatives(_affine_keys(values[ids], raw.pclass[ids], R), raw, ids)
    kept = ids[rep == np.arange(len(ids))]
    steps.append(DedupStep("affine a*g + b", kept, len(ids) - len(kept)))
    return steps


def _degenerate(values: np.ndarray, pclass: np.ndarray, n_random: int, rtol: float) -> np.ndarray:
    """True for formulas non-finite on the probes, or constant over the probes under every random draw."""
    rand = values[:, :n_random]
    finite = np.isfinite(rand).all(axis=(1, 2))
    linear = pclass != NONLINEAR
    finite &= ~linear | np.isfinite(values).all(axis=(1, 2))  # φ_k of affine formulas are needed too
    with np.errstate(all="ignore"):
        spread = np.abs(rand - rand.mean(axis=2, keepdims=True)).max(axis=2)
        scale = np.abs(rand).max(axis=2)
        const = (spread <= rtol * scale).all(axis=1)
    return ~finite | const


def _quantise(rows: np.ndarray) -> np.ndarray:
    """Rows of floats -> rows of float32 with tiny entries snapped to zero: equal functions computed in a
    different order agree to ~1e-15, far below float32 resolution. Entries beyond float32's range become ±inf
    explicitly (what the cast did, with numpy's overflow warning), so keys of in-range values are unchanged."""
    scale = np.abs(rows).max(axis=1, keepdims=True)
    rows = np.where(np.abs(rows) <= _SNAP * np.maximum(scale, 1e-300), 0.0, rows)
    rows = np.where(np.abs(rows) >= _F32_OVERFLOW, np.copysign(np.inf, rows), rows)
    return rows.astype(np.float32) + np.float32(0.0)  # + 0 turns -0.0 into 0.0


def _representatives(keys: np.ndarray, raw: RawSpace, ids: np.ndarray) -> np.ndarray:
    """For each row, the position of its group's representative: fewest nodes, then parameters, then order."""
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.lexsort((ids, raw.k[ids], raw.size[ids], group))  # sorted by group, best first
    first = np.ones(len(order), bool)
    first[1:] = group[order[1:]] != group[order[:-1]]
    best_of_group = np.empty(group.max() + 1 if len(group) else 0, np.int64)
    best_of_group[group[order[first]]] = order[first]
    return best_of_group[group]


def _affine_keys(values: np.ndarray, pclass: np.ndarray, n_random: int) -> np.ndarray:
    """Family keys [n, 1 + 2P]: column 0 is the namespace (0 span, 1 normalised values)."""
    with np.errstate(all="ignore"):
        return _affine_keys_(values, pclass, n_random)


def _affine_keys_(values: np.ndarray, pclass: np.ndarray, n_random: int) -> np.ndarray:
    n, _, P = values.shape
    rng = np.random.default_rng(12345)
    probe = rng.standard_normal((P, 2))
    linear = pclass != NONLINEAR
    # affine in the parameters: U = span{1, φ0, φ1, ...}
    phi0 = values[:, n_random]
    phis = values[:, n_random + 1 :] - phi0[:, None]
    basis = np.concatenate([np.ones((n, 1, P)), phi0[:, None], phis], axis=1)
    # non-linear: span{1, g(c)} under the first random draw, and whether it is the same under every draw
    nonlin = np.concatenate([np.ones((n, 1, P)), values[:, :1], np.zeros_like(phis)], axis=1)
    span_keys = _span_projection(np.where(linear[:, None, None], basis, nonlin), probe)
    stable = linear.copy()
    if (~linear).any():
        per_draw = [
            _span_projection(np.concatenate([np.ones((n, 1, P)), values[:, r : r + 1]], axis=1), probe)
            for r in range(n_random)
        ]
        same = np.ones(n, bool)
        for r in range(1, n_random):
            same &= (_quantise(per_draw[r]) == _quantise(per_draw[0])).all(axis=1)
        stable |= same
    centred = values[:, :n_random] - values[:, :n_random].mean(axis=2, keepdims=True)
    centred /= np.linalg.norm(centred, axis=2, keepdims=True)
    pivot = np.take_along_axis(centred, np.argmax(np.abs(centred) > 1e-3, axis=2)[..., None], axis=2)
    normalised = (centred * np.sign(pivot)).reshape(n, -1)
    width = max(span_keys.shape[1], normalised.shape[1])
    body = np.where(stable[:, None], _pad(span_keys, width), _pad(normalised, width))
    return np.concatenate([(~stable)[:, None].astype(np.float32), _quantise(body)], axis=1)


def _span_projection(basis: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Projection of fixed random vectors onto span(rows of basis [n, m, P]): a key of the subspace [n, 2P]."""
    u, s, _ = np.linalg.svd(np.swapaxes(basis, 1, 2), full_matrices=False)  # u [n, P, m]
    rank_mask = s > 1e-9 * s[:, :1]
    u = u * rank_mask[:, None, :]
    proj = u @ (np.swapaxes(u, 1, 2) @ probe)  # [n, P, 2]
    return proj.reshape(len(basis), -1)


def _pad(rows: np.ndarray, width: int) -> np.ndarray:
    if rows.shape[1] == width:
        return rows
    return np.concatenate([rows, np.zeros((len(rows), width - rows.shape[1]))], axis=1)


def _confirm(raw: RawSpace, ids: np.ndarray, rep: np.ndarray, max_size: int) -> str:
    """Check merged pairs of small formulas with SymPy; returns a note for the report."""
    merged = np.flatnonzero(rep != np.arange(len(ids)))
    if not len(merged):
        return "no merges"
    small = [m for m in merged if max(raw.size[ids[m]], raw.size[ids[rep[m]]]) <= max_size]
    if not small:
        return f"{len(merged)} merges, none small enough for a SymPy check"
    xs = sympy.symbols("x0:%d" % len(raw.probes.x[0]), real=True)
    cs = sympy.symbols("c0:%d" % max(1, raw.k.max()), real=True)
    dup = raw.formulas([ids[m] for m in small])
    best = raw.formulas([ids[rep[m]] for m in small])
    confirmed = sum(_sympy_equal(to_sympy(a, xs, cs), to_sympy(b, xs, cs)) for a, b in zip(dup, best))
    return (
        f"{len(merged)} merges; {confirmed} of the {len(small)} between formulas of <= {max_size} nodes "
        f"confirmed by SymPy"
    )


def _sympy_equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    if a == b:
        return True
    diff = sympy.expand(a - b)
    if diff == 0:
        return True
    return sympy.simplify(diff) == 0
