"""How big the formula space of a depth is, and how much memory enumerating it takes, before enumerating it.

The number of formulas grows about six- to eightfold per node of depth (pendulum: 28,450 at depth 7, 1,043,282
at depth 9, ~10^88 at depth 100), and enumeration keeps every one of them in memory, so an unguarded
``--depth 100`` fills the machine within seconds. :func:`estimate_space` counts the formulas by a dynamic
programme over sizes (milliseconds even at depth 100) and prices them with a memory model calibrated on measured
peak RSS; :func:`check_space` refuses a space over a fraction of the available memory unless forced.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, NoetherError
from .enumerate import count_space
from .grammar import DEFAULT_OPERATORS, OPERATORS

EXACT, UPPER, MORE_THAN = "exact", "upper bound", "more than"
#: the unit-aware count (``enumerate.count_space``) takes up to ~2 s when the unit-free bound is this large
#: (depth 10 with two inputs); above it the bound alone decides
EXACT_COUNT_MAX = 100_000_000
#: the unit-free count stops here (depth ~110 with two inputs): no machine holds a googol of anything
COUNT_CAP = 10**100
#: memory model, calibrated on peak RSS of ``enumerate_space`` (pendulum, spring; depth 5-10; max_params 0-2):
#: the peak is in deduplication, which holds the raw probe values, a gathered copy of them, and the affine
#: step's span bases and their SVD: ~5.4 float64 copies of each formula's probe values (rounded up to 6), plus
#: its index columns, plus a fixed ~64 MiB (SymPy checks, allocator slack)
VALUE_COPIES = 6
INDEX_BYTES = 64
FIXED_BYTES = 64 * 2**20
#: the share of the available memory one enumeration may use (the later stages and the rest of the machine
#: need the remainder)
MEMORY_FRACTION = 0.5


class SpaceTooLargeError(NoetherError):
    """The formula space of the requested depth would not fit in memory (pass force=True / --force to try)."""


@dataclass(frozen=True)
class SpaceEstimate:
    """Formulas the enumerator builds (before dedup) and the peak memory of enumerating and deduplicating them.

    kind: 'exact' (the unit-aware count, equal to the enumeration's), 'upper bound' (units ignored), or
    'more than' (the unit-free count passed COUNT_CAP before reaching ``depth``)."""

    depth: int
    max_params: int
    n_formulas: int
    bytes: int
    kind: str

    def describe(self) -> str:
        """'1,043,282 formulas (exact count before dedup) needing about 2.9 GiB'-style text."""
        n, b = _count_text(self.n_formulas), _bytes_text(self.bytes)
        if self.kind == MORE_THAN:
            return f"more than {n} formulas needing more than {b}"
        what = "exact count" if self.kind == EXACT else "unit-free upper bound"
        return f"{'' if self.kind == EXACT else 'at most '}{n} formulas ({what} before dedup) needing about {b}"


@dataclass(frozen=True)
class MemoryBudget:
    """The bytes one enumeration may use: ``fraction`` of ``available`` (read from ``source``)."""

    bytes: int
    available: int
    fraction: float
    source: str

    def describe(self) -> str:
        return f"{_bytes_text(self.bytes)} ({self.fraction:.0%} of {_bytes_text(self.available)} {self.source})"


def estimate_space(
    n_inputs: int,
    depth: int,
    max_params: int = 2,
    ops: Sequence[str] = DEFAULT_OPERATORS,
    *,
    input_dims: Sequence[tuple] | None = None,
    zero: tuple | None = None,
    points: int = 12,
    random_draws: int = 2,
) -> SpaceEstimate:
    """Size and memory of ``enumerate_space`` at ``depth``, without enumerating.

    Without ``input_dims`` the count ignores units: an upper bound, exact when every input is dimensionless.
    With the inputs' dimension tuples (``DimensionBasis.inputs`` and ``.zero``) it is the exact count of formulas
    the enumerator builds, whenever the bound is at most EXACT_COUNT_MAX. points / random_draws: ``Probes.make``'s."""
    if depth < 1:
        raise ConfigError(f"depth must be >= 1, got {depth}")
    if max_params < 0:
        raise ConfigError(f"max_params must be >= 0, got {max_params}")
    n, capped = _unit_free_count(n_inputs, depth, max_params, tuple(ops))
    kind = MORE_THAN if capped else UPPER
    if input_dims is not None and not capped and n <= EXACT_COUNT_MAX:
        counts = count_space(
            list(input_dims),
            zero if zero is not None else (0,) * len(input_dims[0]),
            depth=depth,
            max_params=max_params,
            ops=tuple(ops),
        )
        n, kind = sum(counts["reparametrised"].values()) + (max_params >= 1), EXACT  # + the bare parameter
    return SpaceEstimate(depth, max_params, n, memory_bytes(n, max_params, points, random_draws), kind)


def memory_bytes(n_formulas: int, max_params: int = 2, points: int = 12, random_draws: int = 2) -> int:
    """Peak memory of enumerating and deduplicating ``n_formulas``: each carries probe values on ``points``
    points under ``random_draws`` + 1 + max(max_params, 1) parameter draws (``enumerate.Probes``)."""
    width = points * (random_draws + 1 + max(max_params, 1))
    return FIXED_BYTES + n_formulas * (VALUE_COPIES * 8 * width + INDEX_BYTES)


def memory_budget(fraction: float | None = None) -> MemoryBudget:
    """``fraction`` (default MEMORY_FRACTION) of the memory available now: Linux's MemAvailable, capped by a
    cgroup (container) limit; elsewhere the physical memory."""
    fraction = MEMORY_FRACTION if fraction is None else fraction
    available, source = _available_memory()
    return MemoryBudget(int(available * fraction), available, fraction, source)


def check_space(
    n_inputs: int,
    depth: int,
    max_params: int = 2,
    ops: Sequence[str] = DEFAULT_OPERATORS,
    *,
    input_dims: Sequence[tuple] | None = None,
    zero: tuple | None = None,
    force: bool = False,
) -> SpaceEstimate | None:
    """Raise SpaceTooLargeError when the space's estimated memory exceeds ``memory_budget()``, unless ``force``.
    The cheap unit-free bound is tried first; only a space it does not clear is counted exactly."""
    if force:
        return None
    budget = memory_budget()
    estimate = estimate_space(n_inputs, depth, max_params, ops)
    if (
        estimate.bytes > budget.bytes
        and input_dims is not None
        and estimate.kind == UPPER
        and estimate.n_formulas <= EXACT_COUNT_MAX
    ):
        estimate = estimate_space(n_inputs, depth, max_params, ops, input_dims=input_dims, zero=zero)
    if estimate.bytes > budget.bytes:
        raise SpaceTooLargeError(
            f"depth {depth} (max_params {max_params}) would enumerate {estimate.describe()}, over the limit of "
            f"{budget.describe()}; lower --depth or --max-params, or pass --force (or force=True) to try anyway"
        )
    return estimate


# ---------------------------------------------------------------------- counting without units
def _unit_free_count(n_inputs: int, depth: int, max_params: int, ops: tuple[str, ...]) -> tuple[int, bool]:
    """Formulas the enumerator would build if every input were dimensionless, with its unit-free pruning:
    commutative operands in one order, no sub-formula without an input except the bare parameter, no ``a - c``
    or ``a / c``. Returns (count, capped): capped when the running total passed COUNT_CAP before ``depth``."""
    unknown = [o for o in ops if o not in OPERATORS]
    if unknown:
        raise ConfigError(f"unknown operators {unknown}; known: {sorted(OPERATORS)}")
    K = max_params
    n_unary = sum(OPERATORS[o].arity == 1 for o in ops)
    classes: dict[tuple[bool, bool], int] = {}  # (commutative, reparametrised) -> number of binary operators
    for o in ops:
        op = OPERATORS[o]
        if op.arity == 2:
            key = (op.commutative, op.reparam_of is not None)
            classes[key] = classes.get(key, 0) + 1
    param_leaf = 1 if K >= 1 else 0
    leaves = [n_inputs] + [0] * K
    H = [[], leaves]  # H[size][k]: formulas with an input and k parameters
    A = [[], [n + param_leaf * (k == 1) for k, n in enumerate(leaves)]]  # the same and the bare parameter
    total = n_inputs + param_leaf
    for s in range(2, depth + 1):
        row = [n_unary * h for h in H[s - 1]]
        for (commutative, reparam), mult in classes.items():
            for sl in range(1, s - 1):
                sr = s - 1 - sl
                if commutative and sl > sr:
                    continue
                al, ar, hl = A[sl], A[sr], H[sl]
                for ka in range(K + 1):
                    for kb in range(K + 1 - ka):
                        if commutative and sl == sr and kb < ka:
                            continue
                        a, b = al[ka], ar[kb]
                        n = a * (a + 1) // 2 if commutative and sl == sr and ka == kb else a * b
                        if sl == sr == 1 and ka == kb == 1:
                            n -= 1  # c op c: no input
                        if reparam and sr == 1 and kb == 1:
                            n -= hl[ka]  # a - c, a / c: a + c, a * c reparametrised
                        row[ka + kb] += mult * n
        H.append(row)
        A.append(row)
        total += sum(row)
        if total > COUNT_CAP and s < depth:
            return total, True
    return total, False


# ---------------------------------------------------------------------- memory available
def _available_memory() -> tuple[int, str]:
    """(bytes, where they were read): MemAvailable capped by a cgroup limit, else physical memory."""
    available, source = None, ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available, source = int(line.split()[1]) * 1024, "of available memory"
                break
    except (OSError, ValueError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            source = "of physical memory"
        except (AttributeError, OSError, ValueError):
            return 8 * 2**30, "assumed (memory size unknown)"
    limit = _cgroup_room()
    if limit is not None and limit < available:
        available, source = limit, "left under the container's memory limit"
    return available, source


def _cgroup_room() -> int | None:
    """Bytes left under a cgroup v2 or v1 memory limit, or None when there is none (or it cannot be read)."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            text = Path(limit_file).read_text().strip()
            if text == "max" or int(text) >= 2**60:
                return None
            return max(int(text) - int(Path(usage_file).read_text().strip()), 0)
        except (OSError, ValueError):
            continue
    return None


def _count_text(n: int) -> str:
    return f"{n:,}" if n < 10**9 else f"{float(n):.2g}"


def _bytes_text(b: int) -> str:
    return f"{b / 2**20:.0f} MiB" if b < 2**30 else f"{b / 2**30:.3g} GiB"
