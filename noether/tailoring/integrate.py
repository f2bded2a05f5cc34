"""The ODE solves of the long-term evaluation: a batched torch solve (torchode's Dormand-Prince 5(4), every
trajectory of every stacked model with its own adaptive step), and scipy's ``solve_ivp`` RK45 as the reference.

Both take ``field(x [n, M, d]) -> dx/dt [n, M, d]`` (n stacked models, M trajectories), initial states x0
[n, M, d] and each trajectory's times relative to its start, rel [M, T] (NaN past a trajectory's length), and
return (pred [n, M, T, d] (NaN where not reached), ok [n], field evaluations). A state that leaves |x| <= max_abs
or turns non-finite is frozen there and its model is not ok; so is a model whose solve exceeds the evaluation
budget (``IntegratorConfig``): a broken, stiff model is stopped instead of stalling the run.

The two differ in how the step size is chosen: scipy takes one step for the concatenated state of all stacked
models and trajectories (the hardest one sets it), torchode one per trajectory per model, so a model's result
does not depend on what else is stacked with it. At rtol = atol = 1e-9 the RMSEs agree to ~1e-8 relative
(``tests/tailoring/test_integrate.py``; ``benchmarks/results/evaluate.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError, DataError

Field = Callable[[Tensor], Tensor]
BACKENDS: tuple[str, ...] = ("torch", "scipy")


@dataclass(frozen=True)
class IntegratorConfig:
    """How the long-term evaluation integrates: backend 'torch' (batched torchode, the default) or 'scipy' (the
    reference, ``solve_ivp``), Dormand-Prince 5(4) at rtol / atol; max_abs: the bound beyond which a state has
    escaped; a solve may use max(max_evals, evals_per_step x time steps) field evaluations (a long horizon such
    as the real pendulum's 445 training steps needs ~20k at these tolerances)."""

    method: str = "RK45"
    rtol: float = 1e-9
    atol: float = 1e-9
    max_abs: float = 1e3
    max_evals: int = 5000
    evals_per_step: int = 150
    backend: Literal["torch", "scipy"] = "torch"

    def __post_init__(self) -> None:
        if not (self.rtol > 0 and self.atol > 0 and self.max_abs > 0):
            raise ConfigError(f"integrator tolerances and max_abs must be > 0, got {self}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown integrator '{self.backend}' (use one of {', '.join(BACKENDS)})")
        if self.backend == "torch" and self.method != "RK45":
            raise ConfigError(
                f"the torch integrator runs Dormand-Prince 5(4) (method 'RK45'); use backend='scipy' "
                f"for method '{self.method}'"
            )

    def budget(self, steps: int) -> int:
        """The field evaluations a solve over ``steps`` time steps may use."""
        return max(self.max_evals, self.evals_per_step * steps)


def solve(
    field: Field, x0: np.ndarray, rel: np.ndarray, config: IntegratorConfig
) -> tuple[np.ndarray, np.ndarray, int]:
    """Integrate ``field`` from x0 [n, M, d] to each trajectory's times rel [M, T] (see the module docstring)."""
    if rel.shape[1] < 2:
        raise DataError("long-term evaluation needs trajectories of at least 2 time steps")
    if config.backend == "scipy":
        return _scipy_all(field, x0, rel, config)
    return _torch(field, x0, rel, config)


def shared_grid(rel: np.ndarray) -> bool:
    """Whether every trajectory has the same times rel [M, T] (relative to its start; NaN past its length)."""
    return bool(
        np.isfinite(rel).all() and np.allclose(rel, rel[:1], rtol=0, atol=1e-9 * max(1.0, float(np.abs(rel).max())))
    )


def _frozen(field: Field, x: Tensor, max_abs: float) -> tuple[Tensor, Tensor]:
    """dx/dt of states x [n, M, d] with every state that has left |x| <= max_abs, or whose state or derivative is
    not finite, frozen (derivative 0); and which of the n models has such a state [n]."""
    bad = ~torch.isfinite(x).all(-1, keepdim=True) | (x.abs() > max_abs).any(-1, keepdim=True)
    dx = field(torch.where(bad, torch.zeros_like(x), x)).to(torch.float64)
    bad = bad | ~torch.isfinite(dx).all(-1, keepdim=True)
    return torch.where(bad, torch.zeros_like(dx), dx), bad.squeeze(-1).any(-1)


# ------------------------------------------------------------------------------------------------ torch (torchode)


def _torch(
    field: Field, x0: np.ndarray, rel: np.ndarray, config: IntegratorConfig
) -> tuple[np.ndarray, np.ndarray, int]:
    """All n x M trajectories as one torchode batch, each on its own times (padding repeats its last time, which
    torchode records at once)."""
    import torchode

    n, m, d = x0.shape
    valid = np.isfinite(rel)
    last = np.array([row[ok][-1] for row, ok in zip(rel, valid)])
    own = np.where(valid, rel, last[:, None])
    t_eval = torch.as_tensor(np.tile(own, (n, 1)), dtype=torch.float64)
    escaped = torch.zeros(n, dtype=torch.bool)
    calls = [0]

    def rhs(_t: Tensor, y: Tensor) -> Tensor:
        calls[0] += 1
        dx, bad = _frozen(field, y.reshape(n, m, d), config.max_abs)
        escaped.logical_or_(bad)
        return dx.reshape(n * m, d)

    term = torchode.ODETerm(rhs)
    solver = torchode.AutoDiffAdjoint(
        torchode.Dopri5(term=term),
        torchode.IntegralController(atol=config.atol, rtol=config.rtol, term=term),
        max_steps=max(1, config.budget(rel.shape[1]) // 6),
    )  # Dormand-Prince: 6 evaluations per step
    y0 = torch.tensor(np.reshape(x0, (n * m, d)), dtype=torch.float64)
    with torch.no_grad():
        sol = solver.solve(torchode.InitialValueProblem(y0=y0, t_eval=t_eval))
    done = (sol.status == 0).reshape(n, m)
    pred = sol.ys.reshape(n, m, -1, d).numpy().copy()
    pred[~done.numpy()] = np.nan
    pred[:, ~valid] = np.nan
    return pred, (done.all(1) & ~escaped).numpy(), calls[0]


# ------------------------------------------------------------------------------------------------ scipy (reference)


class _TooStiff(Exception):
    pass


def _scipy_all(
    field: Field, x0: np.ndarray, rel: np.ndarray, config: IntegratorConfig
) -> tuple[np.ndarray, np.ndarray, int]:
    """One stacked solve_ivp; a solve over budget is redone one stacked model at a time, so a broken model
    cannot stall the others, and a single model still over budget is not ok."""
    counter = [0]
    try:
        pred, ok = _scipy_grid(field, x0, rel, config, counter)
    except _TooStiff:
        n, m, d = x0.shape
        if n == 1:
            return np.full((1, m, rel.shape[1], d), np.nan), np.zeros(1, bool), counter[0]
        singles = [_scipy_all(_select(field, i, n), x0[i : i + 1], rel, config) for i in range(n)]
        return (
            np.concatenate([s[0] for s in singles]),
            np.concatenate([s[1] for s in singles]),
            counter[0] + sum(s[2] for s in singles),
        )
    return pred, ok, counter[0]


def _select(field: Field, i: int, n: int) -> Field:
    """Model i of a stacked field, as a field of one model (the others get model i's points; discarded)."""

    def one(x: Tensor) -> Tensor:
        return field(x.expand(n, *x.shape[1:]))[i : i + 1]

    return one


def _scipy_grid(field, x0, rel, config, counter):
    """On the trajectories' shared grid, or on the union of their times (the field is autonomous and each starts
    at 0), each trajectory then read at its own times (NaN at its padding)."""
    if shared_grid(rel):
        return _scipy(field, x0, rel[0], config, counter)
    valid = np.isfinite(rel)
    union = np.unique(rel[valid])
    pred, ok = _scipy(field, x0, union, config, counter)  # [n, M, U, d]
    out = np.full((*x0.shape[:2], rel.shape[1], x0.shape[2]), np.nan)
    for i in range(x0.shape[1]):
        k = int(valid[i].sum())
        out[:, i, :k] = pred[:, i, np.searchsorted(union, rel[i, :k])]
    return out, ok


def _scipy(
    field: Field, x0: np.ndarray, t_eval: np.ndarray, config: IntegratorConfig, counter: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """One solve_ivp over the concatenated state of x0 [n, M, d] -> (pred [n, M, T, d], ok [n])."""
    from scipy.integrate import solve_ivp

    shape = x0.shape
    escaped = np.zeros(shape[0], bool)
    start = counter[0]
    limit = config.budget(len(t_eval))

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        counter[0] += 1
        if counter[0] - start > limit:
            raise _TooStiff
        x = torch.tensor(y.reshape(shape), dtype=torch.float64)  # a copy: solve_ivp may pass a read-only view
        with torch.no_grad():
            dx, bad = _frozen(field, x, config.max_abs)
        escaped[bad.numpy()] = True
        return dx.numpy().ravel()

    sol = solve_ivp(
        rhs,
        (float(t_eval[0]), float(t_eval[-1])),
        np.ascontiguousarray(x0).ravel(),
        t_eval=t_eval,
        method=config.method,
        rtol=config.rtol,
        atol=config.atol,
    )
    if sol.status != 0 or sol.y.shape[1] != len(t_eval):
        y = np.full((x0.size, len(t_eval)), np.nan)
        y[:, : sol.y.shape[1]] = sol.y
        return np.moveaxis(y.reshape(*shape, len(t_eval)), -1, 2), np.zeros(shape[0], bool)
    pred = np.moveaxis(sol.y.reshape(*shape, len(t_eval)), -1, 2)  # [n, M, T, d]
    return pred, ~escaped
