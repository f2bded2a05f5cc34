"""Bottom-up enumeration of all unit-valid formulas up to ``depth`` nodes (paper §4.1, "depth 7").

Formulas are grouped in buckets keyed by (size, dimension, number of parameters); a bucket is only extended by
operators whose unit rule accepts it, so invalid sub-formulas are never built. Commutativity is pruned while
enumerating (``a + b`` only with a canonical child order), and sub-formulas without any input other than the
single Parameter (``c0 * c1``, ``sin(c0)``: one constant, which one Parameter already expresses) are never
extended; both are *counted* by a cheap dynamic programme over bucket counts, so the report can show how many
formulas each rule removed.

Every formula also gets its values on a few random probe points under a few parameter draws, computed block by
block with numpy as the buckets are combined; deduplication (``dsl.dedup``) works on these arrays, and only
the survivors become :class:`Formula` objects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .grammar import AFFINE, DEFAULT_OPERATORS, FREE, INVALID, NO_PARAMS, OPERATORS, Formula, apply_units


@dataclass(frozen=True)
class Probes:
    """Probe points X [P, d] and parameter draws C [D, max_params]: draws 0..n_random-1 are random, then the
    zero vector and the unit vectors e_k (so an affine formula's φ_k = g(e_k) − g(0) can be read off)."""

    x: np.ndarray
    c: np.ndarray
    n_random: int

    @classmethod
    def make(cls, d: int, max_params: int, *, points: int = 12, random_draws: int = 2, seed: int = 0) -> Probes:
        rng = np.random.default_rng(seed)
        x = rng.uniform(0.3, 2.0, (points, d)) * rng.choice([-1.0, 1.0], (points, d))
        c = rng.uniform(0.5, 2.0, (random_draws, max_params)) * rng.choice([-1.0, 1.0], (random_draws, max_params))
        c = np.concatenate([c, np.zeros((1, max_params)), np.eye(max_params)])
        return cls(x, c, random_draws)

    @property
    def width(self) -> int:
        return len(self.c) * len(self.x)


@dataclass
class Bucket:
    size: int
    dim: object
    k: int
    has_input: bool
    ids: np.ndarray  # global ids [n]
    values: np.ndarray  # [n, offsets, V]: values with the formula's first parameter at slot `offset`
    pclass: np.ndarray  # [n]


@dataclass
class RawSpace:
    """All enumerated formulas (commutativity pruned, no redundant parameters) as flat arrays over global ids,
    in order of size. ``values`` [n, V] are probe values with parameters in slots 0.."""

    op: np.ndarray  # [n] index into ops (or -1 input, -2 parameter)
    left: np.ndarray  # [n] global id or -1
    right: np.ndarray
    index: np.ndarray  # input column for leaves, else -1
    size: np.ndarray
    k: np.ndarray
    pclass: np.ndarray
    dim: list  # [n] dimension tuples (or FREE)
    values: np.ndarray
    ops: tuple[str, ...]
    probes: Probes
    counts: dict  # step -> {size: count} for the steps counted by the dynamic programme

    def __len__(self) -> int:
        return len(self.op)

    def formulas(self, ids) -> list[Formula]:
        """Materialise formulas for the given global ids (shared sub-formulas are built once)."""
        memo: dict[int, Formula] = {}

        def build(i: int) -> Formula:
            f = memo.get(i)
            if f is None:
                o = self.op[i]
                if o == -1:
                    f = Formula("x", index=int(self.index[i]))
                elif o == -2:
                    f = Formula("c")
                elif self.right[i] < 0:
                    f = Formula(self.ops[o], (build(int(self.left[i])),))
                else:
                    f = Formula(self.ops[o], (build(int(self.left[i])), build(int(self.right[i]))))
                memo[i] = f
            return f

        return [build(int(i)) for i in ids]


def enumerate_raw(
    input_dims: list[tuple],
    zero: tuple,
    *,
    depth: int = 7,
    max_params: int = 2,
    ops: tuple[str, ...] = DEFAULT_OPERATORS,
    probes: Probes,
) -> RawSpace:
    """Enumerate every unit-valid formula with at most ``depth`` nodes and ``max_params`` parameters."""
    if depth < 1:
        raise ConfigError(f"depth must be >= 1, got {depth}")
    if max_params < 0:
        raise ConfigError(f"max_params must be >= 0, got {max_params}")
    unary = [(j, OPERATORS[o]) for j, o in enumerate(ops) if OPERATORS[o].arity == 1]
    binary = [(j, OPERATORS[o]) for j, o in enumerate(ops) if OPERATORS[o].arity == 2]
    P, D = len(probes.x), len(probes.c)
    blocks = defaultdict(list)  # column -> list of arrays
    next_id = 0

    def emit(size, dim, k, has_input, op, left, right, index, values, pclass):
        nonlocal next_id
        n = len(values)
        ids = np.arange(next_id, next_id + n)
        next_id += n
        for col, arr in (
            ("op", np.full(n, op)),
            ("left", left),
            ("right", right),
            ("index", np.full(n, index)),
            ("size", np.full(n, size)),
            ("k", np.full(n, k)),
            ("pclass", pclass),
            ("values", values[:, 0]),
        ):
            blocks[col].append(np.asarray(arr))
        blocks["dim"].append([dim] * n)
        pending[(dim, k, has_input)].append((ids, values, pclass))

    levels: list[list[Bucket]] = [[]]  # levels[s] = buckets of size s
    pending: dict = defaultdict(list)
    for i, dim in enumerate(input_dims):
        vals = np.tile(probes.x[:, i], D)[None, None, :]
        emit(1, dim, 0, True, -1, [-1], [-1], i, vals, np.array([NO_PARAMS]))
    if max_params >= 1:
        vals = np.stack([np.repeat(probes.c[:, o], P) for o in range(max_params)])[None]
        emit(1, FREE, 1, False, -2, [-1], [-1], -1, vals, np.array([AFFINE]))
    levels.append(_close(pending, 1))

    def offsets(k: int) -> int:
        return 1 if k == 0 else max_params - k + 1

    with np.errstate(all="ignore"):
        for size in range(2, depth + 1):
            pending = defaultdict(list)
            for j, op in unary:
                for b in levels[size - 1]:
                    dim = apply_units(op, (b.dim,), zero)
                    if dim is INVALID or not b.has_input:
                        continue
                    vals = op.numpy(b.values[:, :1] if size == depth else b.values)
                    emit(size, dim, b.k, True, j, b.ids, np.full(len(b.ids), -1), -1, vals, op.params(b.pclass))
            for sl in range(1, size - 1):
                sr = size - 1 - sl
                for j, op in binary:
                    if op.commutative and sl > sr:
                        continue
                    for ia, a in enumerate(levels[sl]):
                        for ib, b in enumerate(levels[sr]):
                            if op.commutative and sl == sr and ib < ia:
                                continue
                            k = a.k + b.k
                            if k > max_params or not (a.has_input or b.has_input):
                                continue
                            if op.reparam_of and b.size == 1 and not b.has_input:
                                continue  # a - c, a / c: a + c, a * c reparametrised
                            dim = apply_units(op, (a.dim, b.dim), zero)
                            if dim is INVALID:
                                continue
                            o_out = 1 if size == depth else offsets(k)  # the last level is never extended
                            la = a.values[:, [0 if a.k == 0 else o for o in range(o_out)]]
                            rb = b.values[:, [0 if b.k == 0 else o + a.k for o in range(o_out)]]
                            if op.commutative and a is b:
                                li, ri = np.triu_indices(len(a.ids))
                            else:
                                li, ri = (
                                    m.ravel()
                                    for m in np.meshgrid(np.arange(len(a.ids)), np.arange(len(b.ids)), indexing="ij")
                                )
                            vals = op.numpy(la[li], rb[ri])
                            emit(
                                size,
                                dim,
                                k,
                                True,
                                j,
                                a.ids[li],
                                b.ids[ri],
                                -1,
                                vals,
                                op.params(a.pclass[li], b.pclass[ri]),
                            )
            levels.append(_close(pending, size))

    cat = {col: np.concatenate(arrs) for col, arrs in blocks.items() if col != "dim"}
    dims = [d for block in blocks["dim"] for d in block]
    return RawSpace(
        op=cat["op"].astype(np.int64),
        left=cat["left"].astype(np.int64),
        right=cat["right"].astype(np.int64),
        index=cat["index"].astype(np.int64),
        size=cat["size"].astype(np.int64),
        k=cat["k"].astype(np.int64),
        pclass=cat["pclass"].astype(np.int8),
        dim=dims,
        values=cat["values"],
        ops=tuple(ops),
        probes=probes,
        counts=count_space(input_dims, zero, depth=depth, max_params=max_params, ops=ops),
    )


def _close(pending: dict, size: int) -> list[Bucket]:
    buckets = []
    for (dim, k, has_input), parts in pending.items():
        ids, values, pclass = (np.concatenate(x) for x in zip(*parts))
        buckets.append(Bucket(size, dim, k, has_input, ids, values, pclass))
    return buckets


# ---------------------------------------------------------------------- counting (no materialisation)
IN, PARAM_LEAF, NO_INPUT, REDUNDANT, REPARAM = "in", "c", "no-input", "redundant", "reparam"


def count_space(
    input_dims: list[tuple], zero: tuple, *, depth: int, max_params: int, ops: tuple[str, ...] = DEFAULT_OPERATORS
) -> dict[str, dict[int, int]]:
    """Counts per size of: all unit-valid formulas ("valid"), after pruning commutativity ("commutativity"),
    after removing formulas without input ("no input"), after removing redundant parameters ("redundant
    parameters": a sub-formula of parameters only) and after removing reparametrised copies ("reparametrised":
    a sub-formula ``a - c`` or ``a / c``, the same family as ``a + c`` or ``a * c``)."""
    out = {}
    for ordered in (True, False):
        levels = [None, defaultdict(int)]
        for dim in input_dims:
            levels[1][(dim, 0, IN)] += 1
        if max_params >= 1:
            levels[1][(FREE, 1, PARAM_LEAF)] += 1
        for size in range(2, depth + 1):
            cur = defaultdict(int)
            for name in ops:
                op = OPERATORS[name]
                if op.arity == 1:
                    for (dim, k, cat), n in levels[size - 1].items():
                        d = apply_units(op, (dim,), zero)
                        if d is not INVALID:
                            cur[(d, k, _combine(cat))] += n
                    continue
                for sl in range(1, size - 1):
                    sr = size - 1 - sl
                    unordered = op.commutative and not ordered
                    if unordered and sl > sr:
                        continue
                    items_a, items_b = list(levels[sl].items()), list(levels[sr].items())
                    for ia, ((da, ka, ca), na) in enumerate(items_a):
                        for ib, ((db, kb, cb), nb) in enumerate(items_b):
                            if unordered and sl == sr and ib < ia:
                                continue
                            if ka + kb > max_params:
                                continue
                            d = apply_units(op, (da, db), zero)
                            if d is INVALID:
                                continue
                            n = na * (na + 1) // 2 if unordered and sl == sr and ia == ib else na * nb
                            cat = _combine(ca, cb)
                            if cat == IN and op.reparam_of and cb == PARAM_LEAF:
                                cat = REPARAM
                            cur[(d, ka + kb, cat)] += n
            levels.append(cur)
        per_size = {s: defaultdict(int) for s in range(1, depth + 1)}
        for s in range(1, depth + 1):
            for (_, _, cat), n in levels[s].items():
                per_size[s][cat] += n
        if ordered:
            out["valid"] = {s: sum(c.values()) for s, c in per_size.items()}
        else:
            out["commutativity"] = {s: sum(c.values()) for s, c in per_size.items()}
            out["no input"] = {s: c[IN] + c[REDUNDANT] + c[REPARAM] for s, c in per_size.items()}
            out["redundant parameters"] = {s: c[IN] + c[REPARAM] for s, c in per_size.items()}
            out["reparametrised"] = {s: c[IN] for s, c in per_size.items()}
    return out


def _combine(*cats: str) -> str:
    if not any(c in (IN, REDUNDANT, REPARAM) for c in cats):
        return NO_INPUT  # built from parameters only: one constant
    if any(c in (NO_INPUT, REDUNDANT) for c in cats):
        return REDUNDANT
    return REPARAM if REPARAM in cats else IN
