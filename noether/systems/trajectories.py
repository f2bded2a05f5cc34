"""The trajectory data type every stage consumes: states [n_traj, T, d] with times, names, units and a split."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import pint

from ..errors import ConfigError, DataError
from ..units import dimension, unit_label
from .derivatives import DEFAULT_ESTIMATOR, estimate_all
from .files import read_columns, write_columns


@dataclass(frozen=True, eq=False)
class Trajectories:
    """Sampled trajectories of one dynamical system.

    states: [n_traj, T, d] float64 (possibly noisy); times: [n_traj, T] strictly increasing per trajectory,
    possibly irregular; names/units: one per state column; derivatives: exact dx/dt [n_traj, T, d] or None;
    clean: the noise-free states where known (simulated data), used as ground truth for long-term evaluation;
    train_mask: [n_traj, T] True where a sample belongs to the training split; name: a label for reports;
    system: the built-in system this data is (set by ``load_system`` only): the one key to a system's known facts
    (true law, the paper's figures, HNN's weight decay), so a user's file named like a built-in system never
    inherits them.

    ordered: False for group data -- each "trajectory" a set of states known to share the invariants, in no time
    order (``times`` then only number the samples): only the discovery stages apply to it.

    lengths: [n_traj] the number of samples of each trajectory when they differ (None: all T). Trajectory i then
    holds its samples in steps 0..lengths[i]-1 and NaN padding after them (``valid`` marks the samples); padding
    is never in either split, and every stage reads only valid samples.
    """

    states: np.ndarray
    times: np.ndarray
    names: tuple[str, ...]
    units: tuple[pint.Unit, ...]
    derivatives: np.ndarray | None = None
    clean: np.ndarray | None = None
    train_mask: np.ndarray | None = None
    name: str = "data"
    meta: dict = field(default_factory=dict)
    system: str | None = None
    lengths: np.ndarray | None = None
    ordered: bool = True

    def __post_init__(self) -> None:
        states = np.asarray(self.states, dtype=np.float64)
        if states.ndim != 3:
            raise DataError(f"states must have shape [n_traj, T, d], got {states.shape}")
        n, t, d = states.shape
        lengths = np.full(n, t, dtype=np.int64) if self.lengths is None else np.asarray(self.lengths, np.int64)
        if lengths.shape != (n,) or (lengths > t).any():
            raise DataError(f"lengths must be {n} counts of at most {t} samples, got {lengths.tolist()}")
        object.__setattr__(self, "lengths", lengths)
        valid = np.arange(t)[None, :] < lengths[:, None]
        object.__setattr__(self, "states", _padded(states, valid))
        object.__setattr__(self, "times", _padded(_as(self.times, (n, t), "times"), valid))
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "units", tuple(self.units))
        if len(self.names) != d or len(self.units) != d:
            raise DataError(f"{d} state columns but {len(self.names)} names and {len(self.units)} units")
        if len(set(self.names)) != d:
            raise DataError(f"state names must be distinct, got {list(self.names)}")
        for key in ("derivatives", "clean"):
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, _padded(_as(value, (n, t, d), key), valid))
        mask = np.ones((n, t), bool) if self.train_mask is None else np.asarray(self.train_mask, bool)
        if mask.shape != (n, t):
            raise DataError(f"train_mask must have shape {(n, t)}, got {mask.shape}")
        object.__setattr__(self, "train_mask", mask & valid)
        validate(self)

    # ---------------------------------------------------------------- shape
    @property
    def n_traj(self) -> int:
        return self.states.shape[0]

    @property
    def n_steps(self) -> int:
        return self.states.shape[1]

    @property
    def dim(self) -> int:
        return self.states.shape[2]

    @property
    def valid(self) -> np.ndarray:
        """[n_traj, T] True at a trajectory's samples, False at the padding after a shorter one."""
        return np.arange(self.n_steps)[None, :] < self.lengths[:, None]

    @property
    def test_mask(self) -> np.ndarray:
        """[n_traj, T] True where a sample belongs to the test split (valid samples outside the training split)."""
        return self.valid & ~self.train_mask

    @property
    def ragged(self) -> bool:
        """Whether the trajectories differ in length."""
        return bool((self.lengths != self.n_steps).any())

    @property
    def regular(self) -> bool:
        """Whether every trajectory is sampled at one constant step (to 1e-6 relative)."""
        steps = np.diff(self.times, axis=1)
        steps = steps[np.isfinite(steps)]
        return bool(np.allclose(steps, steps[0], rtol=1e-6, atol=0)) if len(steps) else True

    @property
    def dt(self) -> float:
        """Median time step, used as the Δt of the finite-difference Noether loss."""
        return float(np.nanmedian(np.diff(self.times, axis=1)))

    def unit_of(self, state: str) -> pint.Unit:
        return self.units[self.names.index(state)]

    # ---------------------------------------------------------------- derivatives
    def finite_difference(self, method: str = "central") -> np.ndarray:
        """dx/dt from the (noisy) states on the real time stamps, per trajectory over its own samples (NaN on
        the padding): 'central' (second order, one-sided at the ends, np.gradient) or 'forward' (HNN's
        real-pendulum rule; the last point reuses the previous step)."""
        if method not in ("central", "forward"):
            raise ConfigError(f"unknown finite-difference method '{method}' (use 'central' or 'forward')")
        if method == "central":
            return estimate_all(self.states, self.times, self.lengths, "finite")
        out = np.full_like(self.states, np.nan)
        for i, k in enumerate(self.lengths):
            fwd = np.diff(self.states[i, :k], axis=0) / np.diff(self.times[i, :k])[:, None]
            out[i, :k] = np.concatenate([fwd, fwd[-1:]])
        return out

    def dxdt(self) -> np.ndarray:
        """The derivatives the data carries (given, or estimated by ``with_derivatives``), otherwise the default
        estimate ``DEFAULT_ESTIMATOR`` on the real time stamps (computed once)."""
        return self.derivatives if self.derivatives is not None else self._estimated

    @functools.cached_property
    def _estimated(self) -> np.ndarray:
        return estimate_all(self.states, self.times, self.lengths, DEFAULT_ESTIMATOR)

    def with_derivatives(self, method: str = "finite", **options) -> Trajectories:
        """The same data with dx/dt estimated from the (noisy) states by ``method`` -- 'finite', 'savgol' or
        'spline' (``systems.derivatives``), per trajectory on its own times -- in place of any it carried."""
        dx = estimate_all(self.states, self.times, self.lengths, method, **options)
        return replace(self, derivatives=dx, meta={**self.meta, "derivatives": f"estimated ({method})"})

    # ---------------------------------------------------------------- split
    def split(self) -> tuple[Trajectories, Trajectories]:
        """(train, test) as trajectories: each is built from the contiguous runs of its mask; runs shorter than
        3 points are left out of this sequence view (they still count in ``points``)."""
        return self._runs(self.train_mask, "train"), self._runs(self.test_mask, "test")

    def points(self, part: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """All samples of a split as flat arrays (x [N, d], dx/dt [N, d]), the way HNN trains its MLP."""
        mask = {"train": self.train_mask, "test": self.test_mask, "all": self.valid}[part]
        return self.states[mask], self.dxdt()[mask]

    def sample_states(self, n: int = 500) -> np.ndarray:
        """Up to ``n`` training states [n, d], evenly spaced through the data: where laws are compared as
        functions (e.g. merging equal forms in the ranking)."""
        x = self.states[self.train_mask]
        return x[np.unique(np.linspace(0, len(x) - 1, min(n, len(x))).round().astype(int))]

    def thinned(self, max_drop: float = 0.6, seed: int = 0) -> Trajectories:
        """Each trajectory with a random 0..``max_drop`` fraction of its samples dropped (its first sample and at
        least 3 always kept): data as experiments give it -- unequal lengths, irregular times. Each kept sample
        keeps its split."""
        if not 0 <= max_drop < 1:
            raise ConfigError(f"max_drop must be in [0, 1), got {max_drop}")
        rng = np.random.default_rng(seed)
        keep = []
        for k in self.lengths:
            n_drop = min(int(rng.uniform(0, max_drop) * k), k - 3)
            dropped = rng.choice(np.arange(1, k), size=n_drop, replace=False)
            keep.append(np.setdiff1d(np.arange(k), dropped))
        rows = list(enumerate(keep))

        def thin(arr: np.ndarray | None) -> np.ndarray | None:
            return _gather(arr, rows)

        return replace(
            self,
            states=thin(self.states),
            times=thin(self.times),
            derivatives=thin(self.derivatives),
            clean=thin(self.clean),
            train_mask=_gather(self.train_mask, rows, fill=False),
            lengths=np.array([len(kept) for kept in keep]),
            name=f"{self.name} (thinned)",
        )

    def select(self, index: np.ndarray | list[int]) -> Trajectories:
        """A subset of whole trajectories (keeps their masks)."""
        idx = np.asarray(index)
        return replace(
            self,
            states=self.states[idx],
            times=self.times[idx],
            derivatives=None if self.derivatives is None else self.derivatives[idx],
            clean=None if self.clean is None else self.clean[idx],
            train_mask=self.train_mask[idx],
            lengths=self.lengths[idx],
        )

    def _runs(self, mask: np.ndarray, part: str) -> Trajectories:
        """The split's contiguous runs of 3 or more samples as trajectories (of different lengths when the runs
        differ: padded, with ``lengths``)."""
        runs = [(i, a, b) for i, row in enumerate(mask) for a, b in _true_runs(row) if b - a >= 3]
        if not runs:
            raise DataError(f"the {part} split of '{self.name}' has no run of 3 or more consecutive samples")
        longest = max(b - a for _, a, b in runs)
        rows = [(i, np.arange(a, b)) for i, a, b in runs]

        def cut(arr: np.ndarray | None) -> np.ndarray | None:
            return _gather(arr, rows)

        lengths = np.array([b - a for _, a, b in runs])
        return replace(
            self,
            states=cut(self.states),
            times=cut(self.times),
            derivatives=cut(self.derivatives),
            clean=cut(self.clean),
            train_mask=np.arange(longest)[None, :] < lengths[:, None]
            if part == "train"
            else np.zeros((len(runs), longest), bool),
            lengths=lengths,
            name=f"{self.name}[{part}]",
        )

    # ---------------------------------------------------------------- identity
    def fingerprint(self) -> str:
        """SHA-256 of the data and its metadata: the key for on-disk caches."""
        h = hashlib.sha256()
        for arr in (self.states, self.times, self.train_mask, self.derivatives, self.clean):
            h.update(b"none" if arr is None else np.ascontiguousarray(arr).tobytes())
        if self.ragged:  # equal-length data keeps the fingerprint it always had
            h.update(b"lengths" + np.ascontiguousarray(self.lengths).tobytes())
        if not self.ordered:
            h.update(b"unordered")
        h.update(repr((self.names, [unit_label(u) for u in self.units])).encode())
        return h.hexdigest()[:16]

    def summary(self) -> dict:
        """Sizes, names, units and split counts as plain data."""
        return {
            "name": self.name,
            "n_traj": self.n_traj,
            "n_steps": self.n_steps,
            "lengths": {
                "min": int(self.lengths.min()),
                "median": float(np.median(self.lengths)),
                "max": int(self.lengths.max()),
            },
            "regular": self.regular,
            "ordered": self.ordered,
            "states": list(self.names),
            "units": {n: unit_label(u) for n, u in zip(self.names, self.units)},
            "dt": self.dt,
            "train_points": int(self.train_mask.sum()),
            "test_points": int(self.test_mask.sum()),
            "derivatives": self.meta.get("derivatives", "exact")
            if self.derivatives is not None
            else f"estimated ({DEFAULT_ESTIMATOR}, the default)"
            if self.ordered
            else "none (no time order)",
            "noise_free_reference": self.clean is not None,
        }

    def describe(self) -> str:
        """One readable paragraph about the data."""
        s = self.summary()
        units = ", ".join(f"{n} [{u}]" for n, u in s["units"].items())
        lengths = s["lengths"]
        steps = (
            f"{s['n_steps']} steps"
            if lengths["min"] == lengths["max"]
            else f"{lengths['min']}-{lengths['max']} steps (median {lengths['median']:g})"
        )
        sampling = f"dt={s['dt']:.4g}" if s["regular"] else f"irregular times, median dt={s['dt']:.4g}"
        kind = "trajectory" if s["n_traj"] == 1 else "trajectories"
        if not self.ordered:
            sampling = "groups of states without time order"
            steps = steps.replace("steps", "states")
            kind = "group" if s["n_traj"] == 1 else "groups"
        return (
            f"{s['name']}: {s['n_traj']} {kind} x {steps}, "
            f"state ({units}), {sampling}; "
            f"{s['train_points']} train / {s['test_points']} test points; derivatives: {s['derivatives']}"
        )

    def __repr__(self) -> str:
        return f"Trajectories({self.describe()})"

    # ---------------------------------------------------------------- files
    @classmethod
    def from_file(
        cls,
        path,
        state,
        units=None,
        *,
        trajectory_col="trajectory",
        time_col="time",
        test_fraction=0.2,
        deriv_cols=None,
        group_col="group",
    ) -> Trajectories:
        """Read CSV / Parquet / NPZ with one row per sample (see ``noether.systems.files``); deriv_cols: the
        columns holding each state's dx/dt, in the order of ``state``, when the file has them. A file with a
        ``group_col`` column and no time column is group data (``ordered=False``)."""
        return cls(
            **read_columns(
                path,
                state,
                units,
                trajectory_col=trajectory_col,
                time_col=time_col,
                test_fraction=test_fraction,
                deriv_cols=deriv_cols,
                group_col=group_col,
            )
        )

    def to_file(self, path) -> None:
        """Write one row per sample (trajectory, time, states...) as CSV / Parquet / NPZ by suffix."""
        write_columns(self.names, self.states, self.times, path, self.lengths)


def _gather(arr: np.ndarray | None, rows: list[tuple[int, np.ndarray]], fill=np.nan) -> np.ndarray | None:
    """New trajectories from samples of old ones: row j holds ``arr[i, index]`` for ``rows[j] = (i, index)``,
    padded with ``fill`` to the longest (what ``split`` and ``thinned`` both build)."""
    if arr is None:
        return None
    longest = max(len(index) for _, index in rows)
    out = np.full((len(rows), longest, *arr.shape[2:]), fill, dtype=arr.dtype)
    for j, (i, index) in enumerate(rows):
        out[j, : len(index)] = arr[i, index]
    return out


def _padded(arr: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``arr`` [n, T, ...] with NaN at the padding (a copy only when there is padding)."""
    if valid.all():
        return arr
    out = np.array(arr, dtype=np.float64, copy=True)
    out[~valid] = np.nan
    return out


def _as(value, shape: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise DataError(f"{what} must have shape {shape}, got {arr.shape}")
    return arr


def _true_runs(row: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], row, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def validate(traj: Trajectories) -> None:
    """Raise DataError naming the first problem: non-finite values, too few points, non-increasing time."""
    if traj.n_traj == 0:
        raise DataError("no trajectories")
    short = np.flatnonzero(traj.lengths < 3)
    if len(short):
        raise DataError(f"trajectories need at least 3 points; trajectory {short[0]} has {traj.lengths[short[0]]}")
    valid = traj.valid
    for arr, what in ((traj.states, "states"), (traj.times, "times"), (traj.derivatives, "derivatives")):
        if arr is None:
            continue
        bad = np.argwhere(~np.isfinite(arr) & (valid if arr.ndim == 2 else valid[..., None]))
        if len(bad):
            i, t = int(bad[0][0]), int(bad[0][1])
            col = f" in column {traj.names[bad[0][2]]}" if arr.ndim == 3 else ""
            raise DataError(f"{what} of trajectory {i} has a non-finite value ({arr[tuple(bad[0])]}) at step {t}{col}")
    steps = np.diff(traj.times, axis=1)
    bad = np.argwhere((steps <= 0) & valid[:, 1:])
    if len(bad):
        i, t = int(bad[0][0]), int(bad[0][1])
        raise DataError(
            f"time is not increasing in trajectory {i} at step {t + 1} ({traj.times[i, t]} -> {traj.times[i, t + 1]})"
        )
    for u in traj.units:
        dimension(u)  # fails loudly on a non-unit


def read_trajectories(path, state, units=None, **options) -> Trajectories:
    """``Trajectories.from_file`` as a function (options: trajectory_col, time_col, test_fraction)."""
    return Trajectories.from_file(path, state, units, **options)


def write_trajectories(traj: Trajectories, path) -> None:
    """``traj.to_file(path)`` as a function."""
    traj.to_file(path)
