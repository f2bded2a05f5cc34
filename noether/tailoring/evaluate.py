"""Long-term evaluation (§4.2): integrate a learned vector field from each trajectory's initial state and compare
with the noise-free true trajectory.

Protocol (the same for every method -- vanilla MLP, law meta-tailoring, HNN):
- initial state: the noise-free state at the trajectory's first time (``traj.clean[:, 0]``), or the observed one
  when the data has no noise-free reference (real pendulum); reference: ``traj.clean`` or the observed states;
- integrator: ``scipy.integrate.solve_ivp``, RK45, rtol = atol = 1e-9, evaluated at the trajectory's own
  times (relative to its start; the field is autonomous); the field runs in float64;
- tailoring (when the field is a tailored one) happens inside EVERY evaluation of the vector field;
- all trajectories of a split -- and all stacked models -- are integrated in ONE ``solve_ivp`` call on their
  concatenated state (much faster than a call per trajectory; the step size then follows the hardest
  trajectory, which only makes each one more accurate): on their shared time grid, or, when their times differ
  (irregular sampling, unequal lengths), on the union of their times, each trajectory read at its own;
- a point whose state leaves ``|x| <= max_abs`` or turns non-finite is frozen there and its model is flagged
  ``diverged``; a solve that needs more than max(``max_evals``, ``evals_per_step`` x the number of time steps)
  field evaluations (a stiff, i.e. broken, model; the budget grows with the horizon, as a long horizon such as
  the real pendulum's 445 training steps needs ~20k evaluations at these tolerances) is
  redone one stacked model at a time, and a single model that still exceeds it is flagged ``diverged``;
- RMSE: square root of the mean squared error over trajectories, time steps and coordinates (a trajectory's
  own samples only); MSE vs horizon: the mean over trajectories and coordinates at each time step (with
  irregular times, plotted at the median time of that step).

A vector field here is ``field(x [n, M, d]) -> dx/dt [n, M, d]`` for n stacked models (n = 1 for one model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp
from torch import Tensor, nn

from ..errors import DataError
from ..systems.trajectories import Trajectories
from .loss import LawBatch, law_inner_loss
from .mlp import Params
from .mlp_tailor import tailor_mlp, trace
from .setting import InnerSetting

Field = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class IntegratorConfig:
    """solve_ivp settings of the long-term evaluation (documented in the module docstring)."""

    method: str = "RK45"
    rtol: float = 1e-9
    atol: float = 1e-9
    max_abs: float = 1e3
    max_evals: int = 5000
    evals_per_step: int = 150

    def __post_init__(self) -> None:
        if not (self.rtol > 0 and self.atol > 0 and self.max_abs > 0):
            raise ValueError(f"integrator tolerances and max_abs must be > 0, got {self}")


@dataclass(frozen=True)
class LongTerm:
    """Long-term prediction errors of n stacked models on M trajectories of T steps.

    rmse: [n]; mse_horizon: [n, T]; traj_rmse: [n, M]; pred: [n, M, T, d]; times: [T] (relative to the start);
    diverged: [n] bool; evaluations: number of vector-field calls.
    """

    rmse: np.ndarray
    mse_horizon: np.ndarray
    traj_rmse: np.ndarray
    pred: np.ndarray
    times: np.ndarray
    diverged: np.ndarray
    evaluations: int


def reference(traj: Trajectories) -> np.ndarray:
    """The ground truth [M, T, d]: noise-free states when known, else the observed ones."""
    return traj.clean if traj.clean is not None else traj.states


def long_term(field: Field, traj: Trajectories, *, n_models: int = 1,
              config: IntegratorConfig = IntegratorConfig()) -> LongTerm:
    """Integrate ``field`` from every trajectory's initial state over its time span (see module docstring)."""
    ref = reference(traj)
    m, t_len, d = ref.shape
    rel = traj.times - traj.times[:, :1]
    valid = traj.valid
    x0 = np.broadcast_to(ref[:, 0], (n_models, m, d))
    counter = [0]
    shared = not traj.ragged and np.allclose(rel, rel[:1], rtol=0, atol=1e-9 * max(1.0, float(np.abs(rel).max())))
    try:
        pred, ok = _solve_all(field, x0, rel, valid, shared, config, counter)
    except _TooStiff:
        if n_models == 1:
            pred, ok = np.full((1, m, t_len, d), np.nan), np.zeros(1, bool)
        else:  # one model at a time, so a broken model cannot stall the others
            singles = [long_term(_select(field, i, n_models), traj, n_models=1, config=config)
                       for i in range(n_models)]
            counter[0] += sum(s.evaluations for s in singles)
            pred = np.concatenate([s.pred for s in singles])
            ok = ~np.concatenate([s.diverged for s in singles])
    at = valid[None, :, :, None]  # a trajectory's samples; its padding (shorter trajectories) counts nowhere
    err = np.where(np.isfinite(pred), pred - ref[None], np.inf)
    sq = np.where(at, err**2, 0.0)
    diverged = ~ok | ~np.isfinite(sq).all(axis=(1, 2, 3))
    count = valid.sum() * d
    per_step = valid.sum(0) * d  # [T] samples at each step
    with np.errstate(invalid="ignore"):
        horizon = sq.sum(axis=(1, 3)) / np.where(per_step > 0, per_step, np.nan)
        times = rel[0] if shared or not traj.ragged and traj.regular else \
            np.array([np.median(rel[valid[:, j], j]) if valid[:, j].any() else np.nan for j in range(t_len)])
    return LongTerm(rmse=np.sqrt(sq.sum(axis=(1, 2, 3)) / count), mse_horizon=horizon,
                    traj_rmse=np.sqrt(sq.sum(axis=(2, 3)) / (valid.sum(1) * d)), pred=np.where(at, pred, np.nan),
                    times=times, diverged=diverged, evaluations=counter[0])


class _TooStiff(Exception):
    pass


def _select(field: Field, i: int, n: int) -> Field:
    """Model i of a stacked field, as a field of one model (the others get model i's points; discarded)."""
    def one(x: Tensor) -> Tensor:
        return field(x.expand(n, *x.shape[1:]))[i:i + 1]
    return one


def _solve_all(field, x0, rel, valid, shared, config, counter):
    """One stacked solve: on the shared grid, or on the union of every trajectory's own times (the field is
    autonomous and each starts at 0), each trajectory then read at its own times (NaN at its padding)."""
    if shared:
        return _solve(field, x0, rel[0], config, counter)
    union = np.unique(rel[valid])
    pred, ok = _solve(field, x0, union, config, counter)  # [n, M, U, d]
    out = np.full((*x0.shape[:2], rel.shape[1], x0.shape[2]), np.nan)
    for i in range(x0.shape[1]):
        k = int(valid[i].sum())
        out[:, i, :k] = pred[:, i, np.searchsorted(union, rel[i, :k])]
    return out, ok


def _solve(field: Field, x0: np.ndarray, t_eval: np.ndarray, config: IntegratorConfig, counter: list[int]
           ) -> tuple[np.ndarray, np.ndarray]:
    """One solve_ivp over the concatenated state of x0 [n, M, d] -> (pred [n, M, T, d], ok [n])."""
    shape = x0.shape
    escaped = np.zeros(shape[0], bool)

    start = counter[0]
    limit = max(config.max_evals, config.evals_per_step * len(t_eval))

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        counter[0] += 1
        if counter[0] - start > limit:
            raise _TooStiff
        x = torch.tensor(y.reshape(shape), dtype=torch.float64)  # a copy: solve_ivp may pass a read-only view
        bad = ~torch.isfinite(x).all(-1, keepdim=True) | (x.abs() > config.max_abs).any(-1, keepdim=True)
        with torch.no_grad():
            dx = field(torch.where(bad, torch.zeros_like(x), x)).to(torch.float64)
        bad = bad | ~torch.isfinite(dx).all(-1, keepdim=True)
        escaped[bad.squeeze(-1).any(-1).numpy()] = True
        return torch.where(bad, torch.zeros_like(dx), dx).numpy().ravel()

    if len(t_eval) < 2:
        raise DataError("long-term evaluation needs trajectories of at least 2 time steps")
    sol = solve_ivp(rhs, (float(t_eval[0]), float(t_eval[-1])), np.ascontiguousarray(x0).ravel(), t_eval=t_eval,
                    method=config.method, rtol=config.rtol, atol=config.atol)
    if sol.status != 0 or sol.y.shape[1] != len(t_eval):
        y = np.full((x0.size, len(t_eval)), np.nan)
        y[:, : sol.y.shape[1]] = sol.y
        return np.moveaxis(y.reshape(*shape, len(t_eval)), -1, 2), np.zeros(shape[0], bool)
    pred = np.moveaxis(sol.y.reshape(*shape, len(t_eval)), -1, 2)  # [n, M, T, d]
    return pred, ~escaped


# ------------------------------------------------------------------------------------------------ vector fields


def to_float64(params: Params) -> Params:
    """Detached float64 CPU copies (the evaluation runs on CPU in float64)."""
    return {k: v.detach().to("cpu", torch.float64) for k, v in params.items()}


def mlp_field(params: Params) -> Field:
    """The vanilla MLP's field (weights shared, or stacked [n, ...] for n models)."""
    p = to_float64(params)
    return lambda x: trace(p, x).output


def tailored_field(params: Params, laws: LawBatch, lr: float | Tensor, dt: float,
                   inner: InnerSetting = InnerSetting()) -> Field:
    """Meta-tailoring's field: at every call, each query x is tailored with one step (SGD, or the Gauss-Newton
    step of ``mlp_tailor.newton_rate``) on the law's loss |g(x) - g(x + f(x) dt)|^2 and f_theta'(x) is returned.
    lr: float or [n] (per stacked model); inner: the step kind and the weights it moves (its grids are not used
    here: lr and dt are the chosen ones)."""
    p = to_float64(params)
    lam = torch.as_tensor(lr, dtype=torch.float64)
    loss = law_inner_loss(laws, dt)
    return lambda x: tailor_mlp(p, x, loss, lam, step=inner.kind, adapt=inner.adapt)[0].detach()


def module_field(model: nn.Module) -> Field:
    """Any torch module mapping x [..., d] -> dx/dt (e.g. an HNN, which needs autograd inside), in float64."""
    m = _float64_copy(model)

    def field(x: Tensor) -> Tensor:
        with torch.enable_grad():
            return m(x).detach()

    return field


def _float64_copy(model: nn.Module) -> nn.Module:
    import copy

    m = copy.deepcopy(model).to("cpu", torch.float64)
    for p in m.parameters():
        p.requires_grad_(False)
    return m
