"""Training of video predictors and Noether Networks (Algorithm 1), with atomic checkpoints and resumption.

A run directory holds ``checkpoint.pt`` (weights, optimiser states, step, loss history; replaced atomically every
``ckpt_every`` steps and at the end) and ``run.json`` (config, law, data sizes, timings). Re-running the same
command resumes from the checkpoint; a different configuration in the same directory is refused.
Batches and latent noise of step s depend only on (seed, s), so a resumed run draws what an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from ..device import resolve_device
from ..errors import NoetherError
from ..io import atomic_write_text
from ..progress import stage
from ..tailoring.inner import InnerConfig
from .checkpoint import CHECKPOINT, Checkpoint
from .config import VideoConfig
from .early_stop import EarlyStop, horizon_score
from .embeddings import FramePairEmbedding, LawEmbedding, OutputEmbedding, StateReadout
from .laws import WORK_DT, law_columns, law_from_expression, law_from_json
from .models import VideoPredictor
from .noether_net import NoetherVideo, Query, task_loss
from .schedule import Phase, phases

RUN_JSON = "run.json"


def build_net(config: VideoConfig, channels: int, action_dim: int, size: int = 64, law=None) -> NoetherVideo:
    """f_θ and (for Noether methods) g_φ as the config says."""
    predictor = VideoPredictor(config.model, channels, action_dim if config.adapt == "outputs" else 0, size)
    embedding: nn.Module | None = None
    if config.method == "noether":
        if config.adapt == "outputs":
            embedding = OutputEmbedding(
                config.model.g_dim, action_dim, config.mlp_hidden, config.mlp_layers, config.mlp_out
            )
        else:
            embedding = FramePairEmbedding(channels, size, config.emb_filters, config.emb_dim)
    elif config.method == "noether-law":
        if law is None:
            raise NoetherError("method noether-law needs a law (--law laws.json or --law-expr EXPR)")
        embedding = LawEmbedding(
            law,
            law_columns(law, config.dataset),
            StateReadout(channels, size, config.readout_width),
            dt=WORK_DT.get(config.dataset, 0.0) if action_dim else 0.0,
        )
    return NoetherVideo(
        predictor, embedding, adapt=config.adapt, form=config.form, inner=config.inner, reduction=config.reduction
    )


def set_trainable(net: NoetherVideo, config: VideoConfig, theta: bool) -> None:
    """θ trainable or frozen (the tune phase); CN layers started at the identity stay frozen either way."""
    net.predictor.requires_grad_(theta)
    if config.cn_start == "identity":
        for p in net.predictor.theta_cn().values():
            p.requires_grad_(False)


def outer_parameters(net: NoetherVideo, config: VideoConfig) -> list[nn.Parameter]:
    """φ, what Algorithm 1's outer step trains in g: all of it, or for a law whose readout stays the state readout
    fitted on the known states (``train_readout=False``) only the law's scale, i.e. the inner step's size."""
    if config.method == "noether-law" and not config.train_readout:
        return [net.embedding.log_scale]
    return list(net.embedding.parameters())


@torch.no_grad()
def start_scale(embedding: nn.Module, grid: tuple[float, ...], score) -> list[tuple[float, float]]:
    """Start the law's scale s (the inner step grows as s²) at the grid value with the lowest validation MSE
    (``score()``), so that meta-learning it begins from a step that does not overshoot. -> (s, MSE) rows."""
    rows = []
    for s in grid:
        embedding.log_scale.fill_(math.log(s))
        rows.append((s, score()))
    embedding.log_scale.fill_(math.log(min(rows, key=lambda r: r[1])[0]))
    return rows


def collate(dataset, indices: Tensor, length: int) -> dict[str, Tensor]:
    """Stack samples ``indices`` of a window dataset, keeping the first ``length`` frames."""
    samples = [dataset[int(i)] for i in indices]
    return {k: torch.stack([s[k][:length] for s in samples]) for k in samples[0]}


def window_batches(dataset, n: int, length: int, batch_size: int):
    """(first index, batch) over the first ``n`` windows of a window dataset, in order, ``length`` frames each."""
    for start in range(0, n, batch_size):
        yield start, collate(dataset, torch.arange(start, min(n, start + batch_size)), length)


def inner_at_test(inner: InnerConfig, tailored: bool = True) -> InnerConfig:
    """The inner step as predictions use it: first order (no outer gradient), none at all when not tailored."""
    return dataclasses.replace(inner, first_order=True, steps=inner.steps if tailored else 0)


def make_query(
    net: NoetherVideo, batch: dict[str, Tensor], n_cond: int, device, generator, *, teacher_forcing: bool
) -> Query:
    frames = batch["frames"].to(device)
    B, T = frames.shape[:2]
    actions = batch["actions"].to(device).float() if net.predictor.action_dim else None
    eps = net.predictor.noise(B, T - 1, generator, device) if net.predictor.config.z_dim else None
    return Query(frames, n_cond, actions=actions, eps=eps, teacher_forcing=teacher_forcing)


def validation_loss(
    net: NoetherVideo,
    config: VideoConfig,
    data,
    device,
    tailored: bool,
    horizon: int | None = None,
    metric: str = "mean",
) -> float:
    """MSE of the open-loop predicted frames over every validation window, the first ``config.val_horizon`` of
    them (the training horizon in the pilot presets; at longer horizons a blurred mean frame scores better than a
    sharp prediction that drifts) or ``horizon`` (free-running phases: all), tailored when the phase trains the
    embedding: what early stopping watches. Over horizons, ``metric`` "mean" averages the per-horizon MSEs;
    "geometric" takes their geometric mean, so that halving the error at horizon 1 counts as much as halving it
    at the last horizon (the mean lets a blur that hedges the far frames pass for progress)."""
    length = data.n_cond + (horizon or config.val_horizon or data.n_pred)
    inner = inner_at_test(config.inner, tailored)
    total = torch.zeros(length - data.n_cond, dtype=torch.float64)
    for start, batch in window_batches(data.val, len(data.val), length, config.eval_batch):
        gen = torch.Generator().manual_seed(start)
        q = make_query(net, batch, data.n_cond, device, gen, teacher_forcing=False)
        r = net(q, inner)
        err = (r.frames[:, q.n_cond - 1 :].detach() - q.frames[:, q.n_cond :]).square().flatten(2).mean(2)
        total += err.sum(0).double().cpu()
    return horizon_score(total / len(data.val), metric)


def forced_loss(
    net: NoetherVideo, config: VideoConfig, batch: dict[str, Tensor], n_cond: int, n_pred: int, device, generator
) -> Tensor:
    """The base phase's loss on the same windows, teacher forced over its ``n_pred`` frames. Added in the free
    phase (``free_tf_weight``) so that learning to hedge the far frames does not blur the near ones."""
    n = n_cond + n_pred
    q = make_query(net, {k: v[:, :n] for k, v in batch.items()}, n_cond, device, generator, teacher_forcing=True)
    return task_loss(q, net.rollout(q), config.beta, config.task_reduction)


def readout_loss(readout: StateReadout, frames: Tensor, states: Tensor) -> Tensor:
    """Supervised state readout: 2(1 - cos Δq) + Δp² on frames 1 … T-1 (wrap-safe in the angle)."""
    pred = readout.pairs(frames)
    true = states[:, 1:].to(pred)
    return (2 * (1 - torch.cos(pred[..., 0] - true[..., 0])) + (pred[..., 1] - true[..., 1]).square()).mean()


@dataclass(frozen=True)
class TrainResult:
    out: Path
    steps: int
    final_loss: float
    seconds: float


def load_law(law_path=None, law_expr=None, law_rank: int | None = None):
    """The law a ``noether-law`` run conserves: rank ``law_rank`` (default 1) of a laws.json, or an expression."""
    if law_path and law_expr:
        raise NoetherError("give either --law FILE or --law-expr EXPR, not both")
    if law_rank is not None and not law_path:
        raise NoetherError("--law-rank picks a law of a --law FILE; give the file")
    if law_path:
        return law_from_json(law_path, law_rank or 1)
    if law_expr:
        return law_from_expression(law_expr)
    return None


@dataclass
class _Run:
    """The training loop's state: what it trains, on what, and how far it got."""

    config: VideoConfig
    seed: int
    data: object
    net: NoetherVideo
    dev: torch.device
    opt_theta: torch.optim.Optimizer
    opt_phi: torch.optim.Optimizer | None
    opt_read: torch.optim.Optimizer | None
    meta: dict
    stopper: EarlyStop
    step: int = 0
    history: list = dataclasses.field(default_factory=list)
    elapsed: float = 0.0

    def checkpoint(self) -> Checkpoint:
        opt = {k: o.state_dict() if o else None for k, o in (("opt_phi", self.opt_phi), ("opt_read", self.opt_read))}
        return Checkpoint(
            self.net.state_dict(),
            self.opt_theta.state_dict(),
            self.step,
            self.history,
            self.elapsed,
            self.meta,
            early_stop=self.stopper.state(),
            **opt,
        )


def _open_run(config: VideoConfig, seed: int, dev, data_root, law) -> _Run:
    """Data, f_θ and g_φ of a fresh run with their optimisers (Adam: θ at ``lr``, φ at ``emb_lr``, the readout
    at ``readout_lr``)."""
    from .data import load_video_dataset

    if config.method == "noether-law" and law is None:
        raise NoetherError("method noether-law needs a law (--law laws.json or --law-expr EXPR)")
    if config.method != "noether-law" and law is not None:
        raise NoetherError(f"method {config.method} takes no law; --law and --law-expr are for noether-law")
    data = load_video_dataset(config.dataset, preset=config.preset, seed=seed, root=data_root, size=config.size)
    channels, size, _ = data.frame_shape
    action_dim = data.train[0]["actions"].shape[-1] if "actions" in data.train[0] else 0
    torch.manual_seed(seed)
    net = build_net(config, channels, action_dim, size, law).to(dev)
    set_trainable(net, config, True)
    opt_theta = torch.optim.Adam([p for p in net.predictor.parameters() if p.requires_grad], lr=config.lr)
    opt_phi = torch.optim.Adam(outer_parameters(net, config), lr=config.emb_lr) if net.embedding is not None else None
    opt_read = (
        torch.optim.Adam(net.embedding.readout.parameters(), lr=config.readout_lr)
        if config.method == "noether-law"
        else None
    )
    meta = {
        "config": config.to_dict(),
        "seed": seed,
        "dataset": data.summary(),
        "channels": channels,
        "size": size,
        "action_dim": action_dim,
        "n_cond": data.n_cond,
        "n_pred": data.n_pred,
        "law": None if law is None else str(getattr(law, "expression", law)),
        "device": str(dev),
    }
    if config.val_every > 0 and data.val is None:
        raise NoetherError(
            f"{config.dataset} [{config.preset}] has no validation split for val_every; use the "
            f"pilot preset or val_every=0"
        )
    if config.scale_grid and data.val is None:
        raise NoetherError(f"{config.dataset} [{config.preset}] has no validation split for the law's scale_grid")
    return _Run(config, seed, data, net, dev, opt_theta, opt_phi, opt_read, meta, EarlyStop(config.patience))


def _resume(run: _Run, ckpt: Checkpoint, out: Path) -> None:
    """Continue from ``ckpt``, refusing a checkpoint of another configuration or seed."""
    # read through the dataclass: a checkpoint from before a field was added compares with its default
    if VideoConfig.from_dict(ckpt.meta["config"]).to_dict() != run.meta["config"] or ckpt.meta["seed"] != run.seed:
        raise NoetherError(f"'{out}' holds a run with a different configuration or seed; use another --out")
    run.step, run.history, run.elapsed = ckpt.step, ckpt.history, ckpt.seconds
    if "scale_search" in ckpt.meta:
        run.meta["scale_search"] = ckpt.meta["scale_search"]
    run.stopper = EarlyStop.from_state(run.config.patience, ckpt.early_stop)
    run.net.load_state_dict(ckpt.net)
    for opt, state in ((run.opt_theta, ckpt.opt_theta), (run.opt_phi, ckpt.opt_phi), (run.opt_read, ckpt.opt_read)):
        if opt is not None and state:
            opt.load_state_dict(state)


def _start_from_svg(run: _Run, init: Path) -> None:
    """Start after the svg run's phases from the finished svg run ``init`` (its f_θ and optimiser state)."""
    base = Checkpoint.load(init / CHECKPOINT, run.dev)
    bcfg = base.meta["config"]
    if (bcfg["method"], bcfg["dataset"], bcfg["model"], base.meta["seed"]) != (
        "svg",
        run.config.dataset,
        run.meta["config"]["model"],
        run.seed,
    ) or base.step < run.config.base_steps:
        raise NoetherError(f"--init '{init}' is not a finished svg run of this dataset, model and seed")
    run.net.predictor.load_state_dict(
        {k[len("predictor.") :]: v for k, v in base.net.items() if k.startswith("predictor.")}
    )
    run.opt_theta.load_state_dict(base.opt_theta)
    run.step, run.history = run.config.base_steps, list(base.history[: run.config.base_steps])


def _validate(run: _Run, phase: Phase) -> float:
    return validation_loss(run.net, run.config, run.data, run.dev, phase.tailored, phase.val_frames, phase.val_metric)


def _train_step(run: _Run, phase: Phase, n_train: int) -> float:
    """One outer step of ``phase`` (Algorithm 1 when it is tailored) on the batch of (seed, step)."""
    config, data, net = run.config, run.data, run.net
    gen = torch.Generator().manual_seed(run.seed * 1_000_003 + run.step)
    data.train.set_epoch(run.step)
    idx = torch.randint(len(data.train), (config.batch_size,), generator=gen)
    batch = collate(data.train, idx, data.n_cond + phase.frames)
    q = make_query(net, batch, data.n_cond, run.dev, gen, teacher_forcing=config.teacher_forcing and not phase.free)
    if phase.readout:
        loss = readout_loss(net.embedding.readout, q.frames, batch["states"])
        run.opt_read.zero_grad()
        loss.backward()
        run.opt_read.step()
        return float(loss.detach())
    set_trainable(net, config, phase.theta)
    loss = task_loss(q, net(q) if phase.tailored else net.rollout(q), config.beta, config.task_reduction)
    if phase.name == "free" and config.free_tf_weight:
        loss = loss + config.free_tf_weight * forced_loss(net, config, batch, data.n_cond, n_train, run.dev, gen)
    run.opt_theta.zero_grad()
    if run.opt_phi:
        run.opt_phi.zero_grad()
    loss.backward()
    if not torch.isfinite(loss):
        raise NoetherError(f"training diverged at step {run.step} (loss {loss.item()}); lower the lr")
    if phase.theta:
        run.opt_theta.step()
    if phase.tailored:
        run.opt_phi.step()
    return float(loss.detach())


def train_run(
    config: VideoConfig,
    out: str | Path,
    *,
    seed: int = 0,
    device: str = "auto",
    data_root=None,
    law_path=None,
    law_expr=None,
    law_rank: int | None = None,
    init: str | Path | None = None,
    max_steps: int | None = None,
    log=None,
) -> TrainResult:
    """Train (or resume) one run of ``config`` into directory ``out``, phase by phase (:func:`phases`).

    init: a finished ``svg`` run of the same dataset/model whose phases this run reuses (frozen-base protocol:
    ``noether``, ``noether-law`` and ``svg-more`` continue it, as in the paper).
    max_steps: stop (checkpointed) after this many steps in this call; a later call resumes.
    """
    out, dev = Path(out), resolve_device(device)
    run = _open_run(config, seed, dev, data_root, load_law(law_path, law_expr, law_rank))
    ckpt = out / CHECKPOINT
    if ckpt.exists():
        _resume(run, Checkpoint.load(ckpt, dev), out)
    elif init is not None:
        _start_from_svg(run, Path(init))
    data, n_train = run.data, config.train_pred or run.data.n_pred_train
    schedule = phases(config, data.n_pred_train, data.n_pred)
    total = sum(p.steps for p in schedule)
    ends = [sum(p.steps for p in schedule[: i + 1]) for i in range(len(schedule))]
    stop = total if max_steps is None else min(total, run.step + max_steps)
    start = time.perf_counter() - run.elapsed
    with stage(f"train {config.method} on {config.dataset} [{config.preset}]", total) as advance:
        advance(run.step)
        while run.step < stop:
            phase, end = next((p, e) for p, e in zip(schedule, ends) if run.step < e)
            scored = config.val_every > 0 and phase.selected
            if phase.name == "tune" and config.scale_grid and "scale_search" not in run.meta:
                full = Phase(
                    "tune", 0, data.n_pred, tailored=True, val_frames=data.n_pred, val_metric=config.val_metric
                )
                run.meta["scale_search"] = start_scale(
                    run.net.embedding, config.scale_grid, lambda: _validate(run, full)
                )
                if log:
                    log(f"law scale search (scale, validation MSE): {run.meta['scale_search']}")
            if scored and run.stopper.best is None:  # the phase's starting point is a candidate too
                run.stopper.score(run.step, phase.name, _validate(run, phase), run.net)
            loss = _train_step(run, phase, n_train)
            run.history.append((run.step, phase.name, loss))
            run.step += 1
            advance()
            if scored and ((run.step - (end - phase.steps)) % config.val_every == 0 or run.step == end):
                value = _validate(run, phase)
                if log:
                    log(f"step {run.step} [{phase.name}] validation MSE {value:.5f}")
                stop_now = run.stopper.score(run.step, phase.name, value, run.net) and not (
                    phase.name == "base" and run.step < config.min_base_steps
                )
                if stop_now or run.step == end:
                    run.stopper.restore(run.net)
                    if run.step < end and log:
                        log(
                            f"early stop of {phase.name} at step {run.step}: best validation MSE "
                            f"{run.stopper.log[-1][3]:.5f}"
                        )
                    advance(end - run.step)
                    run.step = end
                    run.stopper.reset()
                    run.checkpoint().save(ckpt)
            run.elapsed = time.perf_counter() - start
            if log and (run.step % max(1, total // 10) == 0 or run.step == total):
                log(f"step {run.step}/{total} [{phase.name}] loss {loss:.5f}")
            if run.step % config.ckpt_every == 0 or run.step == stop:
                run.checkpoint().save(ckpt)
    set_trainable(run.net, config, True)
    if not ckpt.exists():
        run.checkpoint().save(ckpt)
    final = run.history[-1][2] if run.history else float("nan")
    if run.step < total:
        return TrainResult(out, run.step, final, run.elapsed)
    # steps: where the schedule ends; trained_steps: the optimiser steps taken (early stopping skips the rest)
    meta = {
        **run.meta,
        "seconds": run.elapsed,
        "steps": run.step,
        "trained_steps": len(run.history),
        "schedule": [dataclasses.asdict(p) for p in schedule],
        "validation": run.stopper.log,
    }  # (step, phase, validation MSE, best so far) rows
    atomic_write_text(out / RUN_JSON, json.dumps(meta, indent=2, default=str))
    return TrainResult(out, run.step, final, run.elapsed)


def load_run(run: str | Path, device: str = "auto") -> tuple[VideoConfig, NoetherVideo, dict]:
    """(config, trained net in eval mode, run metadata) of a run directory."""
    run = Path(run)
    if not (run / CHECKPOINT).exists():
        raise NoetherError(f"'{run}' has no {CHECKPOINT}; train it first")
    dev = resolve_device(device)
    state = Checkpoint.load(run / CHECKPOINT, dev)
    meta = state.meta
    config = VideoConfig.from_dict(meta["config"])
    law = law_from_expression(meta["law"]) if meta.get("law") else None
    net = build_net(config, meta["channels"], meta["action_dim"], meta["size"], law).to(dev)
    net.load_state_dict(state.net)
    meta = {
        **meta,
        "step": state.step,
        "trained_steps": len(state.history),
        "history": state.history,
        "seconds": state.seconds,
        "validation": (state.early_stop or {}).get("log"),
    }
    return config, net.eval(), meta
