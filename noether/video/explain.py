"""What the Noether embedding looks at (paper §4.2, Fig. 5; App. F, Fig. 7): PCA of the embedding over test frames,
then Grad-CAM (Selvaraju et al. 2017) per PCA dimension on the embedding CNN's last convolutional layer.

A PCA coordinate is signed and its sign is a convention (flip the axis and it flips), so Grad-CAM's ReLU would
blank a map by the convention alone: the maps here are the magnitude |Σ_c w_c A_c|, which is Grad-CAM of the
coordinate plus Grad-CAM of its negative -- the pixels that move the coordinate either way. The figures are drawn
only for an embedding whose inner loss separates the true frames from the model's predictions
(:func:`noether.video.evaluate.conservation_check`); otherwise the embedding is inert and there is nothing to
explain.

Frame embeddings expose ``pairs(seq [B, T, C, H, W]) -> [B, T-1, k]`` (:mod:`noether.video.embeddings`); pair t is
frames (t, t+1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ..io import save_figure


@dataclass
class EmbeddingPCA:
    """PCA of embeddings e [.., k]: rows of ``components`` are principal axes, by decreasing explained variance."""

    mean: Tensor  # [k]
    components: Tensor  # [k, k], orthonormal rows
    explained_variance_ratio: Tensor  # [k], sums to 1 (all 0 if the embedding is constant)
    projected: Tensor  # [B, T-1, k]: the test sequences' embeddings in the PCA basis

    def project(self, e: Tensor) -> Tensor:
        """Embeddings [.., k] -> coordinates in the PCA basis [.., k] (centred, then rotated)."""
        return (e - self.mean.to(e)) @ self.components.to(e).T


def _device(module: nn.Module) -> torch.device:
    """The device of a module's first parameter (CPU for a parameter-free module)."""
    return next(module.parameters(), torch.empty(0)).device


@torch.no_grad()
def embedding_pca(embedding: nn.Module, sequences: Tensor, batch_size: int = 16) -> EmbeddingPCA:
    """Fit PCA to the embeddings of all frame pairs of ``sequences`` [B, T, C, H, W] (the paper's test frames)."""
    dev = _device(embedding)
    e = torch.cat(
        [embedding.pairs(sequences[i : i + batch_size].to(dev)).cpu() for i in range(0, len(sequences), batch_size)]
    )
    flat = e.reshape(-1, e.shape[-1]).double()
    mean = flat.mean(0)
    centred = flat - mean
    cov = centred.T @ centred / max(len(flat) - 1, 1)
    values, vectors = torch.linalg.eigh(cov)  # full basis even with fewer samples than dimensions
    order = values.argsort(descending=True)
    values, comps = values[order].clamp(min=0), vectors[:, order].T
    signs = comps.gather(1, comps.abs().argmax(1, keepdim=True)).sign()
    comps = comps * torch.where(signs == 0, 1.0, signs)  # deterministic sign: largest entry positive
    total = values.sum()
    ratio = values / total if total > 0 else torch.zeros_like(values)
    pca = EmbeddingPCA(mean.to(e.dtype), comps.to(e.dtype), ratio.to(e.dtype), e.new_empty(0))
    pca.projected = pca.project(e)
    return pca


def last_conv_layer(module: nn.Module) -> nn.Module:
    """The last nn.Conv2d in ``module``, or the ReLU right after it in its nn.Sequential (Grad-CAM's usual target)."""
    names = {id(m): n for n, m in module.named_modules()}
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(module).__name__} has no nn.Conv2d layer for Grad-CAM")
    conv = convs[-1]
    parent_name, _, child = names[id(conv)].rpartition(".")
    parent = module.get_submodule(parent_name)
    if isinstance(parent, nn.Sequential) and child.isdigit() and int(child) + 1 < len(parent):
        after = parent[int(child) + 1]
        if isinstance(after, nn.ReLU):
            return after
    return conv


def grad_cam(
    embedding: nn.Module,
    seq: Tensor,
    pca: EmbeddingPCA,
    dims: Sequence[int],
    times: Sequence[int],
    target_layer: nn.Module | None = None,
) -> Tensor:
    """Grad-CAM maps [len(times), len(dims), H, W] in [0, 1] of PCA coordinate d of the embedding of the pair
    (t, t+1) of one sequence ``seq`` [T, C, H, W], on ``target_layer`` (default: the last convolutional layer);
    the magnitude of the channel-weighted activations, so the map does not depend on the axis' sign."""
    T, H, W = seq.shape[0], seq.shape[-2], seq.shape[-1]
    if any(not 0 <= t < T - 1 for t in times) or any(not 0 <= d < pca.components.shape[0] for d in dims):
        raise ConfigError(f"times must lie in [0, {T - 2}] and dims in [0, {pca.components.shape[0] - 1}]")
    layer = target_layer if target_layer is not None else last_conv_layer(embedding)
    captured: list[Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out))
    was_training = embedding.training
    embedding.eval()
    try:
        with torch.enable_grad():
            pairs = torch.stack([seq[t : t + 2] for t in times]).to(_device(embedding)).requires_grad_(True)
            coords = pca.project(embedding.pairs(pairs)[:, 0])  # [n_t, k]; the pairs are independent samples
            acts = captured[-1]  # [n_t, c, h, w]
            maps = []
            for d in dims:
                (grads,) = torch.autograd.grad(coords[:, d].sum(), acts, retain_graph=True)
                weights = grads.mean((2, 3), keepdim=True)
                maps.append((weights * acts).sum(1).abs().detach())
    finally:
        handle.remove()
        embedding.train(was_training)
    cam = F.interpolate(torch.stack(maps, 1), size=(H, W), mode="bilinear", align_corners=False).clamp(min=0)
    peak = cam.amax((2, 3), keepdim=True)
    return torch.where(peak > 0, cam / peak.clamp(min=1e-12), torch.zeros_like(cam)).cpu()


def _image(frame: Tensor):
    """A frame [C, H, W] (values in [0, 1]) -> an array matplotlib shows: [H, W, 3] or [H, W] for one channel."""
    img = frame.detach().float().clamp(0, 1).cpu()
    return img[0].numpy() if img.shape[0] == 1 else img[:3].permute(1, 2, 0).numpy()


def plot_grad_cam(
    frames: Tensor,
    maps: Tensor,
    dims: Sequence[int],
    times: Sequence[int],
    explained: Sequence[float] | Tensor,
    path: str | Path,
    title: str = "",
) -> None:
    """Fig. 5: rows = time steps, columns = PCA dims; each cell is frame t+1 of ``frames`` [T, C, H, W] with the
    Grad-CAM map of pair (t, t+1) overlaid (jet); ``explained`` is indexed by dim (the full variance ratio)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(times), len(dims), figsize=(1.8 * len(dims), 1.8 * len(times) + 0.4), squeeze=False)
    for i, t in enumerate(times):
        for j, d in enumerate(dims):
            ax = axes[i, j]
            ax.imshow(_image(frames[t + 1]), cmap="gray", vmin=0, vmax=1)
            ax.imshow(maps[i, j].detach().cpu().numpy(), cmap="jet", alpha=0.5, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"PC{d + 1} ({float(explained[d]):.1%})", fontsize=8)
            if j == 0:
                ax.set_ylabel(f"t = {t + 1}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_pca_trajectory(pca: EmbeddingPCA, path: str | Path, title: str = "", n_components: int = 3) -> None:
    """The first PCA coordinates along the test sequences' time (one thin line per sequence), and a bar chart of
    the explained variance ratio (App. F: the embedding encodes few dimensions)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(n_components, pca.projected.shape[-1])
    proj = pca.projected.detach().cpu().numpy()
    ratio = pca.explained_variance_ratio.detach().cpu().numpy()
    fig, axes = plt.subplots(1, n + 1, figsize=(3.4 * (n + 1), 3.0))
    steps = range(1, proj.shape[1] + 1)
    for d, ax in enumerate(axes[:n]):
        for traj in proj:
            ax.plot(steps, traj[:, d], lw=0.7, alpha=0.6)
        ax.set_title(f"PC{d + 1} ({ratio[d]:.1%})", fontsize=9)
        ax.set_xlabel("time step (pair t-1, t)")
        ax.grid(alpha=0.3)
    axes[-1].bar(range(1, len(ratio) + 1), ratio)
    axes[-1].set_xlabel("PCA dimension")
    axes[-1].set_ylabel("explained variance ratio")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


@dataclass(frozen=True)
class Explanation:
    """The figures of one run: the PCA trajectory plot, one Grad-CAM grid per example sequence, and the share
    of variance each PCA dimension explains on the test frames; none when the embedding is inert (``check``: the
    conservation check that decided)."""

    pca_png: Path | None
    cam_pngs: list[Path]
    explained: list[float]
    check: dict

    @property
    def inert(self) -> bool:
        return self.pca_png is None


def explain_run(
    run: str | Path,
    out: str | Path,
    *,
    sequences: int = 32,
    dims: int = 6,
    times: int = 3,
    examples: int = 2,
    device: str = "cpu",
    data_root=None,
    even_if_inert: bool = False,
) -> Explanation:
    """Figs. 5 and 7 for a trained run with a frame embedding: PCA over ``sequences`` test sequences, then a
    Grad-CAM grid (``times`` evenly spaced pairs x the first ``dims`` PCA dimensions) for ``examples`` of them.
    Nothing is drawn for an inert embedding (its inner loss does not separate truth from prediction) unless
    ``even_if_inert``."""
    from ..errors import NoetherError
    from .data import load_video_dataset
    from .evaluate import conservation_check
    from .train import collate, load_run

    config, net, meta = load_run(run, device)
    embedding = net.embedding
    if embedding is None or not hasattr(embedding, "pairs") or getattr(embedding, "reads_actions", False):
        raise NoetherError(
            f"'{run}' has no frame embedding to explain (a {config.method} run on {config.dataset}; "
            "the controlled pendulum's learned g reads LSTM outputs, its law also the actions)"
        )
    check = conservation_check(run, device=device, max_sequences=sequences, data_root=data_root)
    if not check.separates and not even_if_inert:
        return Explanation(None, [], [], check.to_dict())
    data = load_video_dataset(config.dataset, preset=config.preset, seed=meta["seed"], root=data_root, size=config.size)
    n = max(1, min(sequences, len(data.test)))
    seqs = collate(data.test, torch.arange(n), data.n_cond + data.n_pred)["frames"]
    pca = embedding_pca(embedding, seqs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pca_png = out / "embedding_pca.png"
    plot_pca_trajectory(pca, pca_png, title=f"{config.method} on {config.dataset}: embedding PCA, {n} test sequences")
    k = pca.components.shape[0]
    chosen_dims = list(range(min(dims, k)))
    T = seqs.shape[1]
    chosen_times = sorted({round(i * (T - 2) / max(times - 1, 1)) for i in range(times)})
    pngs = []
    for i in range(min(examples, n)):
        maps = grad_cam(embedding, seqs[i], pca, chosen_dims, chosen_times)
        png = out / f"grad_cam_{i}.png"
        plot_grad_cam(
            seqs[i],
            maps,
            chosen_dims,
            chosen_times,
            pca.explained_variance_ratio,
            png,
            title=f"test sequence {i}: Grad-CAM per embedding PCA dimension",
        )
        pngs.append(png)
    return Explanation(pca_png, pngs, pca.explained_variance_ratio.tolist(), check.to_dict())
