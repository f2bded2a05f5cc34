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
from ..io import atomic_path, atomic_write_text
from ..progress import stage
from ..tailoring.inner import InnerConfig
from .config import VideoConfig
from .early_stop import EarlyStop, horizon_score
from .embeddings import FramePairEmbedding, LawEmbedding, OutputEmbedding, StateReadout
from .laws import law_columns, law_from_expression, law_from_json
from .models import VideoPredictor
from .noether_net import NoetherVideo, Query, task_loss

CHECKPOINT, RUN_JSON = "checkpoint.pt", "run.json"


def build_net(config: VideoConfig, channels: int, action_dim: int, size: int = 64, law=None) -> NoetherVideo:
    """f_θ and (for Noether methods) g_φ as the config says."""
    predictor = VideoPredictor(config.model, channels, action_dim if config.adapt == "outputs" else 0)
    embedding: nn.Module | None = None
    if config.method == "noether":
        if config.adapt == "outputs":
            embedding = OutputEmbedding(config.model.g_dim, action_dim, config.mlp_hidden, config.mlp_layers,
                                        config.mlp_out)
        else:
            embedding = FramePairEmbedding(channels, size, config.emb_filters, config.emb_dim)
    elif config.method == "noether-law":
        if law is None:
            raise NoetherError("method noether-law needs a law (--law laws.json or --law-expr EXPR)")
        embedding = LawEmbedding(law, law_columns(law), StateReadout(channels, size, config.readout_width))
    return NoetherVideo(predictor, embedding, adapt=config.adapt, form=config.form, inner=config.inner,
                        reduction=config.reduction)


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


def phases(config: VideoConfig) -> list[tuple[str, int]]:
    """The run's schedule: (phase, steps) with phase in base (SVG loss), free (SVG loss on its own predictions over
    every frame, ``free_steps``), tune (Alg. 1, θ frozen), meta (Alg. 1), readout (fit the law's state readout on
    known states)."""
    base = [("base", config.steps)] + ([("free", config.free_steps)] if config.free_steps else [])
    if config.method == "svg":
        return base
    if config.method == "svg-more":  # the svg run's last phase, trained on
        return base[:-1] + [(base[-1][0], base[-1][1] + config.tune_steps)]
    if config.method == "noether" and config.freeze_base:
        return base + [("tune", config.tune_steps)]
    if config.method == "noether-law" and config.freeze_base:
        return base + [("readout", config.readout_steps), ("tune", config.tune_steps)]
    if config.method == "noether-law":
        return [("readout", config.readout_steps), ("meta", config.steps)]
    return [("meta", config.steps)]


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


def make_query(net: NoetherVideo, batch: dict[str, Tensor], n_cond: int, device, generator, *,
               teacher_forcing: bool) -> Query:
    frames = batch["frames"].to(device)
    B, T = frames.shape[:2]
    actions = batch["actions"].to(device).float() if net.predictor.action_dim else None
    eps = net.predictor.noise(B, T - 1, generator, device) if net.predictor.config.z_dim else None
    return Query(frames, n_cond, actions=actions, eps=eps, teacher_forcing=teacher_forcing)


def free_running(config: VideoConfig, phase: str) -> bool:
    """Whether ``phase`` trains on the model's own predictions over every predicted frame (``free_steps``): the free
    phase and what builds on it."""
    return config.free_steps > 0 and phase in ("free", "tune")


def full_horizon(config: VideoConfig, phase: str) -> bool:
    """Whether ``phase`` trains and is scored on every predicted frame: the free-running phases, and the tune
    phase, because the inner loss sums over the predicted frames, so the inner step's size depends on how many
    (tuning the embedding and its scale on fewer frames than a query predicts mis-sizes the step at test time)."""
    return free_running(config, phase) or phase == "tune"


def validation_loss(net: NoetherVideo, config: VideoConfig, data, device, tailored: bool,
                    horizon: int | None = None, metric: str = "mean") -> float:
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
        err = (r.frames[:, q.n_cond - 1:].detach() - q.frames[:, q.n_cond:]).square().flatten(2).mean(2)
        total += err.sum(0).double().cpu()
    return horizon_score(total / len(data.val), metric)


def forced_loss(net: NoetherVideo, config: VideoConfig, batch: dict[str, Tensor], n_cond: int, n_pred: int,
                device, generator) -> Tensor:
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


def _load_law(law_path, law_expr):
    if law_path and law_expr:
        raise NoetherError("give either --law FILE or --law-expr EXPR, not both")
    if law_path:
        return law_from_json(law_path)
    if law_expr:
        return law_from_expression(law_expr)
    return None


def train_run(config: VideoConfig, out: str | Path, *, seed: int = 0, device: str = "auto", data_root=None,
              law_path=None, law_expr=None, init: str | Path | None = None, max_steps: int | None = None,
              log=None) -> TrainResult:
    """Train (or resume) one run of ``config`` into directory ``out``.

    init: a finished ``svg`` run of the same dataset/model whose base phase this run reuses (controlled pendulum:
    ``noether`` and ``svg-more`` start from it, as in the paper's protocol).
    max_steps: stop (checkpointed) after this many steps in this call; a later call resumes.
    """
    from .data import load_video_dataset

    dev = resolve_device(device)
    out = Path(out)
    law = _load_law(law_path, law_expr)
    if config.method == "noether-law" and law is None:
        raise NoetherError("method noether-law needs a law (--law laws.json or --law-expr EXPR)")
    data = load_video_dataset(config.dataset, preset=config.preset, seed=seed, root=data_root)
    channels, size, _ = data.frame_shape
    action_dim = data.train[0]["actions"].shape[-1] if "actions" in data.train[0] else 0
    torch.manual_seed(seed)
    net = build_net(config, channels, action_dim, size, law).to(dev)
    set_trainable(net, config, True)
    opt_theta = torch.optim.Adam([p for p in net.predictor.parameters() if p.requires_grad], lr=config.lr)
    opt_phi = (torch.optim.Adam(outer_parameters(net, config), lr=config.emb_lr)
               if net.embedding is not None else None)
    opt_read = (torch.optim.Adam(net.embedding.readout.parameters(), lr=config.readout_lr)
                if config.method == "noether-law" else None)
    meta = {"config": config.to_dict(), "seed": seed, "dataset": data.summary(), "channels": channels,
            "size": size, "action_dim": action_dim, "n_cond": data.n_cond, "n_pred": data.n_pred,
            "law": None if law is None else str(getattr(law, "expression", law)), "device": str(dev)}
    step, history, elapsed = 0, [], 0.0
    stopper = EarlyStop(config.patience)
    validating = config.val_every > 0
    if validating and data.val is None:
        raise NoetherError(f"{config.dataset} [{config.preset}] has no validation split for val_every; use the "
                           f"pilot preset or val_every=0")
    ckpt = out / CHECKPOINT
    if ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=False)
        # read through the dataclass: a checkpoint from before a field was added compares with its default
        if VideoConfig.from_dict(state["meta"]["config"]).to_dict() != meta["config"] or state["meta"]["seed"] != seed:
            raise NoetherError(f"'{out}' holds a run with a different configuration or seed; use another --out")
        step, history, elapsed = state["step"], state["history"], state["seconds"]
        if "scale_search" in state["meta"]:
            meta["scale_search"] = state["meta"]["scale_search"]
        stopper = EarlyStop.from_state(config.patience, state.get("early_stop"))
        net.load_state_dict(state["net"])
        for opt, key in ((opt_theta, "opt_theta"), (opt_phi, "opt_phi"), (opt_read, "opt_read")):
            if opt is not None and state.get(key):
                opt.load_state_dict(state[key])
    elif init is not None:
        base = torch.load(Path(init) / CHECKPOINT, map_location=dev, weights_only=False)
        bcfg = base["meta"]["config"]
        if (bcfg["method"], bcfg["dataset"], bcfg["model"], base["meta"]["seed"]) != (
                "svg", config.dataset, meta["config"]["model"], seed) or base["step"] < config.base_steps:
            raise NoetherError(f"--init '{init}' is not a finished svg run of this dataset, model and seed")
        net.predictor.load_state_dict({k[len("predictor."):]: v for k, v in base["net"].items()
                                       if k.startswith("predictor.")})
        opt_theta.load_state_dict(base["opt_theta"])
        step, history = config.base_steps, list(base["history"][:config.base_steps])

    def save():
        state = {"net": net.state_dict(), "opt_theta": opt_theta.state_dict(), "step": step, "history": history,
                 "early_stop": stopper.state(),
                 "opt_phi": opt_phi.state_dict() if opt_phi else None, "seconds": elapsed,
                 "opt_read": opt_read.state_dict() if opt_read else None, "meta": meta}
        with atomic_path(ckpt) as tmp:
            torch.save(state, tmp)

    n_train = config.train_pred or data.n_pred_train  # frames the base phase predicts

    def length(phase: str) -> int:
        return data.n_cond + (data.n_pred if full_horizon(config, phase) else n_train)

    def validate(phase: str) -> float:
        tailored = phase in ("tune", "meta")
        full = full_horizon(config, phase)
        return validation_loss(net, config, data, dev, tailored, data.n_pred if full else None,
                               config.val_metric if full else "mean")
    schedule = phases(config)
    total = sum(n for _, n in schedule)
    start = time.perf_counter() - elapsed
    with stage(f"train {config.method} on {config.dataset} [{config.preset}]", total) as advance:
        advance(step)
        ends = [sum(n for _, n in schedule[:i + 1]) for i in range(len(schedule))]
        stop = total if max_steps is None else min(total, step + max_steps)
        while step < stop:
            phase, end = next((p, end) for (p, _), end in zip(schedule, ends) if step < end)
            scored = validating and phase != "readout"
            if scored and stopper.best is None:  # the phase's starting point is a candidate too
                if phase == "tune" and config.method == "noether-law" and config.scale_grid:
                    meta["scale_search"] = start_scale(net.embedding, config.scale_grid, lambda: validate(phase))
                    if log:
                        log(f"law scale search (scale, validation MSE): {meta['scale_search']}")
                stopper.score(step, phase, validate(phase), net)
            gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
            data.train.set_epoch(step)
            idx = torch.randint(len(data.train), (config.batch_size,), generator=gen)
            batch = collate(data.train, idx, length(phase))
            free = free_running(config, phase)
            q = make_query(net, batch, data.n_cond, dev, gen, teacher_forcing=config.teacher_forcing and not free)
            if phase == "readout":
                loss = readout_loss(net.embedding.readout, q.frames, batch["states"])
                opt_read.zero_grad()
                loss.backward()
                opt_read.step()
            else:
                tailored = phase in ("tune", "meta")
                set_trainable(net, config, phase != "tune")
                r = net(q) if tailored else net.rollout(q)
                loss = task_loss(q, r, config.beta, config.task_reduction)
                if phase == "free" and config.free_tf_weight:
                    loss = loss + config.free_tf_weight * forced_loss(net, config, batch, data.n_cond, n_train,
                                                                      dev, gen)
                opt_theta.zero_grad()
                if opt_phi:
                    opt_phi.zero_grad()
                loss.backward()
                if not torch.isfinite(loss):
                    raise NoetherError(f"training diverged at step {step} (loss {loss.item()}); lower the lr")
                if phase != "tune":
                    opt_theta.step()
                if tailored:
                    opt_phi.step()
            history.append((step, phase, float(loss.detach())))
            step += 1
            advance()
            if scored and ((step - (end - dict(schedule)[phase])) % config.val_every == 0 or step == end):
                value = validate(phase)
                if log:
                    log(f"step {step} [{phase}] validation MSE {value:.5f}")
                stop_now = stopper.score(step, phase, value, net) and not (
                    phase == "base" and step < config.min_base_steps)
                if stop_now or step == end:
                    stopper.restore(net)
                    if step < end and log:
                        log(f"early stop of {phase} at step {step}: best validation MSE {stopper.log[-1][3]:.5f}")
                    advance(end - step)
                    step = end
                    stopper.reset()
                    save()
            elapsed = time.perf_counter() - start
            if log and (step % max(1, total // 10) == 0 or step == total):
                log(f"step {step}/{total} [{phase}] loss {float(loss.detach()):.5f}")
            if step % config.ckpt_every == 0 or step == stop:
                save()
    set_trainable(net, config, True)
    if not ckpt.exists():
        save()
    if step < total:
        return TrainResult(out, step, history[-1][2] if history else float("nan"), elapsed)
    meta["seconds"] = elapsed
    meta["steps"] = step
    meta["validation"] = stopper.log  # (step, phase, validation MSE, best so far) rows
    atomic_write_text(out / RUN_JSON, json.dumps(meta, indent=2, default=str))
    return TrainResult(out, step, history[-1][2] if history else float("nan"), elapsed)


def load_run(run: str | Path, device: str = "auto") -> tuple[VideoConfig, NoetherVideo, dict]:
    """(config, trained net in eval mode, run metadata) of a run directory."""
    run = Path(run)
    if not (run / CHECKPOINT).exists():
        raise NoetherError(f"'{run}' has no {CHECKPOINT}; train it first")
    dev = resolve_device(device)
    state = torch.load(run / CHECKPOINT, map_location=dev, weights_only=False)
    meta = state["meta"]
    config = VideoConfig.from_dict(meta["config"])
    law = law_from_expression(meta["law"]) if meta.get("law") else None
    net = build_net(config, meta["channels"], meta["action_dim"], meta["size"], law).to(dev)
    net.load_state_dict(state["net"])
    meta = {**meta, "step": state["step"], "history": state["history"], "seconds": state["seconds"],
            "validation": (state.get("early_stop") or {}).get("log")}
    return config, net.eval(), meta
