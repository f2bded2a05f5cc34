"""A PNG strip of one sample's frames, for eyeballing a dataset or a prediction."""

from __future__ import annotations

import os

import numpy as np
import torch

from ...io import atomic_path


def save_strip(
    frames: torch.Tensor | np.ndarray,
    path: str | os.PathLike,
    *,
    rows: int = 1,
    title: str | None = None,
    n_cond: int | None = None,
    scale: float = 1.2,
) -> None:
    """Save frames [T, C, H, W] (float in [0, 1]) side by side in ``rows`` rows to a PNG, atomically.

    Frames before ``n_cond`` get a green border (the conditioning frames), the others a grey one.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = torch.as_tensor(frames).detach().cpu().float().clamp(0, 1).numpy()
    if frames.ndim != 4:
        raise ValueError(f"frames must be [T, C, H, W], got shape {frames.shape}")
    t = len(frames)
    cols = -(-t // rows)
    fig, axes = plt.subplots(rows, cols, figsize=(scale * cols, scale * rows + (0.4 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= t:
            ax.axis("off")
            continue
        image = frames[i].transpose(1, 2, 0)
        ax.imshow(
            image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1, interpolation="nearest"
        )
        ax.set_title(str(i), fontsize=7, pad=2)
        colour = "tab:green" if n_cond is not None and i < n_cond else "0.6"
        for spine in ax.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(2)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
