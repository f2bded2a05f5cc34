"""Evaluation of video predictors on held-out sequences (paper §4.2, Figures 3, 4 and 6).

Per-horizon MSE, PSNR and SSIM of the predicted future frames (torchmetrics; data range 1). LPIPS, the paper's
fourth metric, needs pretrained network weights that cannot be fetched here, so it is left out.
Noether runs are evaluated with their tailoring (one inner step, as trained) unless ``tailored=False``.
Stochastic (SVG-LP) models draw z from the learned prior with noise fixed by ``seed``, the same for every method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from ..errors import ConfigError
from ..tailoring.inner import InnerConfig
from .train import inner_at_test, load_run, make_query, window_batches

METRICS = ("mse", "psnr", "ssim")


@dataclass(frozen=True)
class HorizonMetrics:
    """Per-sequence, per-horizon metrics of one run: each array is [N sequences, H horizons] (horizon h = 1 … H)."""

    label: str
    dataset: str
    seed: int
    mse: np.ndarray
    psnr: np.ndarray
    ssim: np.ndarray
    meta: dict = field(default_factory=dict, compare=False)

    def curve(self, metric: str) -> np.ndarray:
        """Mean over sequences per horizon: [H]."""
        return getattr(self, metric).mean(0)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "dataset": self.dataset,
            "seed": self.seed,
            "meta": self.meta,
            **{m: getattr(self, m).tolist() for m in METRICS},
        }

    @classmethod
    def from_dict(cls, d: dict) -> HorizonMetrics:
        return cls(d["label"], d["dataset"], d["seed"], *(np.asarray(d[m]) for m in METRICS), meta=d.get("meta", {}))


def frame_metrics(pred: torch.Tensor, true: torch.Tensor) -> dict[str, torch.Tensor]:
    """pred, true: [B, H, C, Hpx, Wpx] in [0, 1] -> {metric: [B, H]} (MSE per pixel, PSNR in dB, SSIM)."""
    B, H = pred.shape[:2]
    p, t = pred.reshape(B * H, *pred.shape[2:]).clamp(0, 1), true.reshape(B * H, *true.shape[2:])
    mse = torch.nn.functional.mse_loss(p, t, reduction="none").flatten(1).mean(1)
    psnr = peak_signal_noise_ratio(p, t, data_range=1.0, reduction="none", dim=(1, 2, 3))
    ssim = structural_similarity_index_measure(p, t, data_range=1.0, reduction="none")
    return {"mse": mse.reshape(B, H), "psnr": psnr.reshape(B, H), "ssim": ssim.reshape(B, H)}


def _test_batches(config, net, meta, data, device, max_sequences, batch_size, seed):
    n = len(data.test) if not max_sequences else min(max_sequences, len(data.test))
    for start, batch in window_batches(data.test, n, data.n_cond + data.n_pred, batch_size):
        gen = torch.Generator().manual_seed(seed * 7919 + start)
        yield make_query(net, batch, data.n_cond, device, gen, teacher_forcing=False)


def evaluate_run(
    run: str | Path,
    *,
    device: str = "auto",
    max_sequences: int | None = None,
    tailored: bool = True,
    inner: InnerConfig | None = None,
    seed: int = 0,
    data_root=None,
    label: str | None = None,
) -> HorizonMetrics:
    """Metrics per horizon of a trained run on its dataset's test split (the run's own data seed)."""
    from .data import load_video_dataset

    config, net, meta = load_run(run, device)
    dev = next(net.parameters()).device
    net.requires_grad_(False)
    data = load_video_dataset(config.dataset, preset=config.preset, seed=meta["seed"], root=data_root, size=config.size)
    inner = inner_at_test(inner or config.inner, tailored)
    max_sequences = config.eval_sequences if max_sequences is None else max_sequences
    parts = []
    for q in _test_batches(config, net, meta, data, dev, max_sequences, config.eval_batch, seed):
        r = net(q, inner)
        future = r.frames[:, q.n_cond - 1 :].detach()
        parts.append({k: v.cpu() for k, v in frame_metrics(future, q.frames[:, q.n_cond :]).items()})
    arrays = {m: torch.cat([p[m] for p in parts]).double().numpy() for m in METRICS}
    n = len(arrays["mse"])
    return HorizonMetrics(
        label or config.method,
        config.dataset,
        meta["seed"],
        **arrays,
        meta={
            "tailored": tailored and net.embedding is not None,
            "inner": inner.__dict__,
            "run": str(run),
            "train_seconds": meta["seconds"],
            "steps": meta["step"],
            "trained_steps": meta["trained_steps"],
            "episodes": data.test.windows[:n, 0].tolist(),
            "validation": meta.get("validation"),
        },
    )


BASELINES = {"copy-last": "copy last frame", "mean-frame": "mean training frame"}


def evaluate_baseline(
    dataset: str,
    kind: str,
    *,
    preset: str = "ci",
    seed: int = 0,
    max_sequences: int = 0,
    batch_size: int = 32,
    data_root=None,
    size: int = 64,
) -> HorizonMetrics:
    """The sanity baselines on a dataset's test windows, per horizon: ``copy-last`` repeats the last conditioning
    frame; ``mean-frame`` predicts the mean training frame at every step. A model that does not beat copy-last at
    horizon 1 has not learned the motion."""
    from .data import load_video_dataset

    if kind not in BASELINES:
        raise ConfigError(f"unknown baseline '{kind}' (one of {', '.join(BASELINES)})")
    data = load_video_dataset(dataset, preset=preset, seed=seed, root=data_root, size=size)
    mean = None
    if kind == "mean-frame":
        frames = data.train.frames  # uint8 [E, L, H, W, C]; every training window's frames come from these
        used = np.unique(
            np.concatenate([e * frames.shape[1] + s + np.arange(data.train.length) for e, s in data.train.windows])
        )
        flat = frames.reshape(-1, *frames.shape[2:])[used]
        mean = torch.from_numpy(flat.mean(0, dtype=np.float64).transpose(2, 0, 1)).float().div_(255.0)
    n = len(data.test) if not max_sequences else min(max_sequences, len(data.test))
    length, c = data.n_cond + data.n_pred, data.n_cond
    parts = []
    for _, batch in window_batches(data.test, n, length, batch_size):
        frames = batch["frames"]
        truth = frames[:, c:]
        pred = (frames[:, c - 1 : c] if mean is None else mean[None, None]).expand_as(truth)
        parts.append(frame_metrics(pred, truth))
    arrays = {m: torch.cat([p[m] for p in parts]).double().numpy() for m in METRICS}
    return HorizonMetrics(
        BASELINES[kind], dataset, seed, **arrays, meta={"baseline": kind, "episodes": data.test.windows[:n, 0].tolist()}
    )


@dataclass(frozen=True)
class InnerStudy:
    """Fig. 6: mean inner (Noether) loss and outer (task, MSE of the future frames) loss after k inner steps,
    k = 0 … K, on test sequences. ``inner``/``outer``: [K + 1]."""

    steps: np.ndarray
    inner: np.ndarray
    outer: np.ndarray
    config: dict


def inner_steps_study(
    run: str | Path,
    *,
    steps: int = 500,
    lr: float = 1e-4,
    optimizer: str = "adam",
    max_sequences: int = 8,
    device: str = "auto",
    seed: int = 0,
    data_root=None,
) -> InnerStudy:
    """Optimise a Noether run's inner loss for many steps (Adam by default) and track both losses (Fig. 6)."""
    from .data import load_video_dataset

    config, net, meta = load_run(run, device)
    if net.embedding is None:
        raise ConfigError("the inner-steps study needs a Noether run (one with an embedding)")
    dev = next(net.parameters()).device
    net.requires_grad_(False)
    data = load_video_dataset(config.dataset, preset=config.preset, seed=meta["seed"], root=data_root, size=config.size)
    cfg = InnerConfig(lr=lr, steps=steps, optimizer=optimizer, first_order=True)
    inner_sum, outer_sum, count = np.zeros(steps + 1), np.zeros(steps + 1), 0
    for q in _test_batches(config, net, meta, data, dev, max_sequences, config.eval_batch, seed):
        record: list[tuple[float, float]] = []
        c, truth = q.n_cond, q.frames[:, q.n_cond :]

        def monitor(r, value):
            mse = (r.frames[:, c - 1 :].detach() - truth).square().flatten(1).mean(1)
            record.append((float(value.detach().sum()), float(mse.sum())))

        final = net(q, cfg, monitor=monitor)
        record = record[:steps]  # record[k]: losses after k inner steps; the final one is computed below
        last_outer = float((final.frames[:, c - 1 :].detach() - truth).square().flatten(1).mean(1).sum())
        last_inner = _inner_value(net, q, final)
        record.append((last_inner, last_outer))
        inner_sum += np.array([a for a, _ in record])
        outer_sum += np.array([b for _, b in record])
        count += q.frames.shape[0]
    return InnerStudy(
        np.arange(steps + 1),
        inner_sum / count,
        outer_sum / count,
        {"lr": lr, "optimizer": optimizer, "sequences": count, "run": str(run)},
    )


@dataclass(frozen=True)
class ConservationCheck:
    """Is the embedding conserved where it should be? Mean inner (Noether) loss per test window on the true future
    frames, on the untailored prediction and on the tailored one, beside the two predictions' MSE: a law that
    tailoring enforces but the truth does not keep, or a readout that misreads predicted frames, shows here."""

    true: float
    untailored: float
    tailored: float
    mse_untailored: float
    mse_tailored: float
    windows: int
    separation: float = float("nan")  # share of windows whose untailored prediction has the larger inner loss

    @property
    def separates(self) -> bool:
        """Whether the embedding tells predictions from true frames: on at least ``SEPARATES`` of the windows the
        inner loss of the untailored prediction is above the truth's (an inert g scores both alike, ~half)."""
        return self.separation >= SEPARATES

    def to_dict(self) -> dict:
        return {**self.__dict__, "separates": self.separates}


SEPARATES = 0.75  # share of test windows: at 0.5 the inner loss cannot tell prediction from truth


def conservation_check(
    run: str | Path, *, device: str = "auto", max_sequences: int = 0, seed: int = 0, data_root=None
) -> ConservationCheck:
    """The inner loss of a frame-embedding Noether run on truth, prediction and tailored prediction."""
    from .data import load_video_dataset

    config, net, meta = load_run(run, device)
    if net.embedding is None or not hasattr(net.embedding, "pairs"):
        raise ConfigError("the conservation check needs a Noether run whose embedding reads frames")
    dev = next(net.parameters()).device
    net.requires_grad_(False)
    data = load_video_dataset(config.dataset, preset=config.preset, seed=meta["seed"], root=data_root, size=config.size)
    inner = inner_at_test(config.inner)
    sums, n, above = np.zeros(5), 0, 0
    for q in _test_batches(config, net, meta, data, dev, max_sequences, config.eval_batch, seed):
        truth, c = q.frames[:, 1:], q.n_cond
        plain, tailored = net.rollout(q).frames.detach(), net(q, inner).frames.detach()
        mse = [float((x[:, c - 1 :] - truth[:, c - 1 :]).square().flatten(1).mean(1).sum()) for x in (plain, tailored)]
        losses = [net.frame_inner_loss(q, x) for x in (truth, plain, tailored)]
        sums += [float(v.sum()) for v in losses] + mse
        above += int((losses[1] > losses[0]).sum())
        n += q.frames.shape[0]
    return ConservationCheck(*(sums / n).tolist(), windows=n, separation=above / n)


def _inner_value(net, q, rollout) -> float:
    if hasattr(net.embedding, "pairs"):
        return float(net.frame_inner_loss(q, rollout.frames.detach()).sum())
    return float(net.output_inner_loss(q, rollout.outputs.detach()).sum())


def aggregate(results: list[HorizonMetrics], metric: str) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Per label: (mean over seeds of the per-seed mean curve [H], standard error over seeds [H], n seeds)."""
    out = {}
    for label in dict.fromkeys(r.label for r in results):
        curves = np.stack([r.curve(metric) for r in results if r.label == label])
        se = curves.std(0, ddof=1) / np.sqrt(len(curves)) if len(curves) > 1 else np.zeros(curves.shape[1])
        out[label] = (curves.mean(0), se, len(curves))
    return out


def plot_horizon(results: list[HorizonMetrics], path: str | Path, title: str = "") -> None:
    """One panel per metric against horizon, mean ± standard error over seeds (Figs. 3, 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.4))
    for ax, metric in zip(axes, METRICS):
        for label, (mean, se, n) in aggregate(results, metric).items():
            h = np.arange(1, len(mean) + 1)
            ax.plot(h, mean, label=f"{label} (n={n})")
            ax.fill_between(h, mean - se, mean + se, alpha=0.25)
        ax.set_xlabel("prediction horizon (frames)")
        ax.set_ylabel(metric.upper())
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_study(study: InnerStudy, path: str | Path, title: str = "") -> None:
    """Fig. 6: inner and outer loss against the number of inner steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    axes[0].plot(study.steps, study.inner)
    axes[0].set_ylabel("inner (Noether) loss")
    axes[1].plot(study.steps, study.outer)
    axes[1].set_ylabel("outer (task) loss: MSE")
    for ax in axes:
        ax.set_xlabel("inner steps")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
