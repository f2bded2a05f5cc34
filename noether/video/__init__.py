"""Noether Networks on video (paper §4.1-4.2, App. D, E), a sibling of the symbolic pipeline that shares only the
tailoring core: datasets (``data``), SVG predictors with CN layers, Noether embeddings (learned CNN / MLP, or a
discovered law over a state readout), Algorithm-1 training with early stopping, per-horizon evaluation against
sanity baselines, paired comparisons with intervals, and what an embedding attends to (Grad-CAM, PCA).

It needs the optional ``[video]`` extra (gymnasium, pymunk, scikit-image, torchmetrics). The names below load on
first use, so ``import noether.video`` (and the catalog of names) works on a core-only install.
"""

from __future__ import annotations

import importlib

from .catalog import DATASETS, LAW_DATASETS, METHOD_SPECS, METHODS, PRESETS, MissingExtraError, require_video

_EXPORTS = {
    "cn": ("CondNorm", "NormCN", "cn_parameters", "per_example"),
    "config": ("VideoConfig", "preset_config"),
    "embeddings": ("FramePairEmbedding", "LawEmbedding", "OutputEmbedding", "StateReadout"),
    "evaluate": (
        "HorizonMetrics",
        "InnerStudy",
        "evaluate_baseline",
        "evaluate_run",
        "frame_metrics",
        "inner_steps_study",
    ),
    "compare": (
        "Difference",
        "SeedComparison",
        "difference",
        "holm",
        "is_trained",
        "plot_differences",
        "primary_endpoint",
        "seed_difference",
        "t_interval",
    ),
    "explain": ("EmbeddingPCA", "Explanation", "embedding_pca", "explain_run", "grad_cam"),
    "models": ("ModelConfig", "Rollout", "VideoPredictor"),
    "noether_net": ("NoetherVideo", "Query", "task_loss"),
    "train": ("EarlyStop", "TrainResult", "build_net", "load_run", "train_run", "validation_loss"),
    "schedule": ("Phase", "phases"),
    "checkpoint": ("Checkpoint",),
    "data": ("load_video_dataset", "VideoDataset"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "DATASETS",
    "LAW_DATASETS",
    "METHOD_SPECS",
    "METHODS",
    "PRESETS",
    "MissingExtraError",
    "require_video",
    *_WHERE,
]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'noether.video' has no attribute '{name}'")
    require_video()
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
