"""Long-term evaluation (§4.2): integrate a learned vector field from each trajectory's initial state and compare
with the noise-free true trajectory.

Protocol (the same for every method -- vanilla MLP, law meta-tailoring, HNN):
- initial state: the noise-free state at the trajectory's first time (``traj.clean[:, 0]``), or the observed one
  when the data has no noise-free reference (real pendulum); reference: ``traj.clean`` or the observed states;
- integrator: Dormand-Prince 5(4) (RK45), rtol = atol = 1e-9, evaluated at the trajectory's own times
  (relative to its start; the field is autonomous); the field runs in float64 on one thread;
- tailoring (when the field is a tailored one) happens inside EVERY evaluation of the vector field;
- all trajectories of a split -- and all stacked models (``stack_fields``: methods, seeds, grid settings) -- are
  integrated in ONE batched solve (``integrate.py``): torchode by default, each trajectory of each model with its
  own adaptive step; ``IntegratorConfig(backend='scipy')`` is the reference, one ``solve_ivp`` on the
  concatenated state;
- a point whose state leaves ``|x| <= max_abs`` or turns non-finite is frozen there and its model is flagged
  ``diverged``, and so is a model whose solve needs more than max(``max_evals``, ``evals_per_step`` x the number
  of time steps) field evaluations (a stiff, i.e. broken, model; the budget grows with the horizon);
- RMSE: square root of the mean squared error over trajectories, time steps and coordinates (a trajectory's
  own samples only); MSE vs horizon: the mean over trajectories and coordinates at each time step (with
  irregular times, plotted at the median time of that step).

A vector field here is ``field(x [n, M, d]) -> dx/dt [n, M, d]`` for n stacked models (n = 1 for one model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..systems.trajectories import Trajectories
from ..threads import single_thread
from .integrate import Field, IntegratorConfig, shared_grid, solve
from .law.setting import InnerSetting
from .law.step import tailor_mlp, trace
from .loss import LawBatch, law_inner_loss
from .mlp import Params


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


def long_term(
    field: Field, traj: Trajectories, *, n_models: int = 1, config: IntegratorConfig = IntegratorConfig()
) -> LongTerm:
    """Integrate ``field`` from every trajectory's initial state over its time span (see module docstring)."""
    ref = reference(traj)
    m, t_len, d = ref.shape
    valid = traj.valid
    rel = np.where(valid, traj.times - traj.times[:, :1], np.nan)
    x0 = np.broadcast_to(ref[:, 0], (n_models, m, d))
    with single_thread():  # thousands of tiny calls: a second thread only costs (threads.py)
        pred, ok, evaluations = solve(field, x0, rel, config)
    at = valid[None, :, :, None]  # a trajectory's samples; its padding (shorter trajectories) counts nowhere
    err = np.where(np.isfinite(pred), pred - ref[None], np.inf)
    sq = np.where(at, err**2, 0.0)
    diverged = ~ok | ~np.isfinite(sq).all(axis=(1, 2, 3))
    count = valid.sum() * d
    per_step = valid.sum(0) * d  # [T] samples at each step
    with np.errstate(invalid="ignore"):
        horizon = sq.sum(axis=(1, 3)) / np.where(per_step > 0, per_step, np.nan)
        times = (
            rel[0]
            if shared_grid(rel) or not traj.ragged and traj.regular
            else np.array([np.median(rel[valid[:, j], j]) if valid[:, j].any() else np.nan for j in range(t_len)])
        )
    return LongTerm(
        rmse=np.sqrt(sq.sum(axis=(1, 2, 3)) / count),
        mse_horizon=horizon,
        traj_rmse=np.sqrt(sq.sum(axis=(2, 3)) / (valid.sum(1) * d)),
        pred=np.where(at, pred, np.nan),
        times=times,
        diverged=diverged,
        evaluations=evaluations,
    )


def stack_fields(fields: list[tuple[Field, int]]) -> tuple[Field, int]:
    """Several fields as one stacked field over their models: [(field_i, n_i)] -> (field, sum n_i); field i gets
    its own n_i rows of x. One solve then integrates them all (each trajectory with its own step on the torch
    backend, so no model's result depends on the others)."""
    sizes = [n for _, n in fields]

    def field(x: Tensor) -> Tensor:
        return torch.cat([f(part) for (f, _), part in zip(fields, x.split(sizes))])

    return field, sum(sizes)


# ------------------------------------------------------------------------------------------------ vector fields


def to_float64(params: Params) -> Params:
    """Detached float64 CPU copies (the evaluation runs on CPU in float64)."""
    return {k: v.detach().to("cpu", torch.float64) for k, v in params.items()}


def mlp_field(params: Params) -> Field:
    """The vanilla MLP's field (weights shared, or stacked [n, ...] for n models)."""
    p = to_float64(params)
    return lambda x: trace(p, x).output


def tailored_field(
    params: Params, laws: LawBatch, lr: float | Tensor, dt: float, inner: InnerSetting = InnerSetting()
) -> Field:
    """Meta-tailoring's field: at every call, each query x is tailored with one step (SGD, or the Gauss-Newton
    step of ``law.step.newton_rate``) on the law's loss |g(x) - g(x + f(x) dt)|^2 and f_theta'(x) is returned.
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
