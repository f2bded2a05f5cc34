"""Read and write trajectory files (CSV, Parquet, NPZ): one row per sample, columns trajectory, time, states.

This module knows files, not the ``Trajectories`` type: it returns and takes plain arrays, so that
``Trajectories.from_file`` / ``to_file`` can build on it without an import circle."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import atomic_path
from ..units import resolve_units, unit_label

FORMATS = (".csv", ".parquet", ".pq", ".npz")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Load a file into a DataFrame by its suffix; unreadable or empty files raise DataError."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"data file not found: {p}")
    if p.suffix.lower() not in FORMATS:
        raise DataError(f"unsupported data file type '{p.suffix}' for {p}; use one of {', '.join(FORMATS)}")
    if p.stat().st_size == 0:
        raise DataError(f"data file is empty: {p}")
    try:
        if p.suffix.lower() == ".csv":
            frame = pd.read_csv(p, skipinitialspace=True)
        elif p.suffix.lower() == ".npz":
            with np.load(p, allow_pickle=False) as z:
                columns = {k: np.asarray(z[k]) for k in z.files}
            bad = [k for k, v in columns.items() if v.ndim != 1]
            if bad:
                raise DataError(f"NPZ arrays must be 1-D columns; {bad} are not ({p})")
            lengths = {len(v) for v in columns.values()}
            if len(lengths) > 1:
                raise DataError(f"NPZ columns have different lengths {sorted(lengths)} ({p})")
            frame = pd.DataFrame(columns)
        else:
            frame = pd.read_parquet(p)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"data file is empty: {p}") from None
    except Exception as exc:  # parser errors of three libraries; the message names the file and the cause
        raise DataError(f"cannot read {p}: {type(exc).__name__}: {exc}") from None
    if frame.empty:
        raise DataError(f"data file has no rows: {p}")
    return frame


def read_columns(
    path,
    state,
    units=None,
    *,
    trajectory_col="trajectory",
    time_col="time",
    test_fraction=0.2,
    deriv_cols=None,
    group_col="group",
) -> dict:
    """Turn a file into the arguments of Trajectories; every malformation raises one DataError naming the problem.

    state: the state columns in order (list or "q,p"); units: {state: pint unit string}, states without one
    get an independent dimension. The last ``test_fraction`` of trajectories (by order of first appearance)
    form the test split; a single trajectory is split in time instead.
    """
    names = [s.strip() for s in (state.split(",") if isinstance(state, str) else state) if s.strip()]
    if not names:
        raise DataError("no state columns given (e.g. state=['q', 'p'] or --state q,p)")
    if not 0 <= test_fraction < 1:
        raise DataError(f"test_fraction must be in [0, 1), got {test_fraction}")
    unknown = sorted(set(units or {}) - set(names))
    if unknown:
        raise DataError(f"units given for unknown state(s) {unknown}; states are {names}")
    unit_objs = resolve_units(names, dict(units or {}))
    derivs = (
        []
        if deriv_cols is None
        else [s.strip() for s in (deriv_cols.split(",") if isinstance(deriv_cols, str) else deriv_cols) if s.strip()]
    )
    if derivs and len(derivs) != len(names):
        raise DataError(
            f"give one derivative column per state: {len(names)} states {names}, "
            f"{len(derivs)} derivative columns {derivs}"
        )
    frame = read_table(path)
    ordered = not (time_col not in frame.columns and group_col in frame.columns)
    if not ordered:  # group data: sets of states sharing the invariants, numbered in file order
        if derivs:
            raise DataError(
                f"{path}: group data (a '{group_col}' column, no '{time_col}') has no time, so no derivatives"
            )
        frame = frame.assign(
            **{
                trajectory_col: frame[group_col],
                time_col: frame.groupby(group_col, sort=False).cumcount().astype(float),
            }
        )
    needed = [trajectory_col, time_col, *names, *derivs]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    values = {c: _numeric(frame[c], c, path) for c in [time_col, *names, *derivs]}
    groups = pd.Series(frame[trajectory_col]).astype(str)
    order = list(dict.fromkeys(groups))
    rows = {g: np.flatnonzero(groups.to_numpy() == g) for g in order}
    lengths = {g: len(r) for g, r in rows.items()}
    short = [g for g, n in lengths.items() if n < 3]
    if short:
        raise DataError(f"{path}: trajectory '{short[0]}' has {lengths[short[0]]} point(s); at least 3 are needed")
    for col, arr in values.items():
        bad = np.flatnonzero(~np.isfinite(arr))
        if len(bad):
            r = bad[0]
            raise DataError(
                f"{path}: non-finite value {arr[r]} in column '{col}' "
                f"({_where(path, r)}, trajectory '{groups.iloc[r]}')"
            )
    n_len = np.array([lengths[g] for g in order])
    longest = int(n_len.max())
    times = np.full((len(order), longest), np.nan)
    states = np.full((len(order), longest, len(names)), np.nan)
    dxdt = np.full((len(order), longest, len(names)), np.nan) if derivs else None
    for i, g in enumerate(order):  # trajectories of different lengths: padded, with their lengths
        times[i, : n_len[i]] = values[time_col][rows[g]]
        states[i, : n_len[i]] = np.stack([values[n][rows[g]] for n in names], axis=-1)
        if derivs:
            dxdt[i, : n_len[i]] = np.stack([values[n][rows[g]] for n in derivs], axis=-1)
        t = times[i, : n_len[i]]
        step = np.flatnonzero(np.diff(t) <= 0)
        if len(step):
            k = step[0]
            what = "a duplicate time stamp" if t[k + 1] == t[k] else "time is not increasing"
            raise DataError(
                f"{path}: {what} in trajectory '{g}' ({t[k]} then {t[k + 1]}, "
                f"{_where(path, rows[g][k + 1])}); rows of a trajectory must be in time order"
            )
    mask = _default_split(n_len, test_fraction)
    meta = {"source": str(path), "trajectories": order}
    if not ordered:
        meta["groups"] = group_col
    if derivs:
        meta["derivatives"] = f"given (columns {', '.join(derivs)})"
    return dict(
        states=states,
        times=times,
        names=tuple(names),
        units=unit_objs,
        train_mask=mask,
        lengths=n_len if len(set(n_len.tolist())) > 1 else None,
        derivatives=dxdt,
        name=Path(path).stem,
        meta=meta,
        ordered=ordered,
    )


def write_columns(
    names, states: np.ndarray, times: np.ndarray, path: str | os.PathLike, lengths: np.ndarray | None = None
) -> None:
    """Write states [M, T, d] and times [M, T] one row per sample (the first lengths[i] samples of trajectory i);
    the format follows the suffix."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise DataError(f"unsupported data file type '{p.suffix}'; use one of {', '.join(FORMATS)}")
    n, t, _ = states.shape
    keep = (np.arange(t)[None, :] < (np.full(n, t) if lengths is None else np.asarray(lengths))[:, None]).ravel()
    frame = pd.DataFrame({"trajectory": np.repeat(np.arange(n), t)[keep], "time": np.asarray(times).reshape(-1)[keep]})
    for j, name in enumerate(names):
        frame[name] = states[:, :, j].reshape(-1)[keep]
    with atomic_path(p) as tmp:
        if p.suffix.lower() == ".csv":
            frame.to_csv(tmp, index=False, float_format="%.17g")
        elif p.suffix.lower() == ".npz":
            with open(tmp, "wb") as fh:
                np.savez(fh, **{c: frame[c].to_numpy() for c in frame.columns})
        else:
            frame.to_parquet(tmp, index=False)


def units_of(traj) -> dict[str, str]:
    """The {state: unit string} map that reproduces the data's units on reading."""
    return {n: unit_label(u) for n, u in zip(traj.names, traj.units)}


def _numeric(column: pd.Series, name: str, path) -> np.ndarray:
    converted = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(converted.isna().to_numpy() & column.notna().to_numpy())
    if len(bad):
        r = bad[0]
        raise DataError(f"{path}: non-numeric value '{column.iloc[r]}' in column '{name}' ({_where(path, r)})")
    missing = np.flatnonzero(column.isna().to_numpy())
    if len(missing):
        raise DataError(f"{path}: empty or NaN cell in column '{name}' ({_where(path, missing[0])})")
    return converted.to_numpy(dtype=np.float64)


def _where(path, r: int) -> str:
    """Where data row ``r`` (0-based) is, counted one way for every error: the line of a CSV file (its header is
    line 1), else the 1-based record of a Parquet / NPZ file."""
    return f"line {r + 2}" if str(path).lower().endswith(".csv") else f"record {r + 1}"


def _default_split(lengths: np.ndarray, test_fraction: float) -> np.ndarray:
    """The training mask [M, T]: the last ``test_fraction`` of trajectories are the test split; a single
    trajectory is split in time instead."""
    n_traj, n_steps = len(lengths), int(lengths.max())
    mask = np.arange(n_steps)[None, :] < lengths[:, None]
    if test_fraction == 0:
        return mask
    if n_traj >= 2:
        n_test = min(n_traj - 1, max(1, int(round(n_traj * test_fraction))))
        mask[n_traj - n_test :] = False
    else:
        n_test = int(round(n_steps * test_fraction))
        if n_test >= 3 and n_steps - n_test >= 3:
            mask[:, n_steps - n_test :] = False
    return mask
