"""A run's phase schedule: which phase trains what, for how many steps, on how many predicted frames.

One rule for every method (App. D: every method predicts the same frames in training): the svg run's phases
(``base`` teacher forced on the dataset's training horizon, then optionally ``free`` on its own predictions over
every frame) are shared by all methods that continue it, and a continuation -- ``more`` (svg-more) or ``tune``
(the Noether embedding on the frozen base) -- trains on exactly the windows of the svg run's last phase (same
frames, same teacher forcing) for exactly ``tune_steps`` steps, with no early stopping and no choice of a best
checkpoint, as the paper's "SVG (more steps)" trains a fixed number of extra epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import METHOD_SPECS
from .config import VideoConfig


@dataclass(frozen=True)
class Phase:
    """One phase of a run: ``steps`` outer steps on windows of ``frames`` predicted frames.

    free: the rollout reads its own predictions (not the true frames); tailored: Algorithm 1's inner step runs;
    theta: the predictor f_θ is trained; readout: the law's state readout is fitted on known states instead;
    selected: when the config validates (``val_every``), the phase is stopped early and keeps its best weights,
    scored on ``val_frames`` predicted frames by ``val_metric``.
    """

    name: str
    steps: int
    frames: int
    free: bool = False
    tailored: bool = False
    theta: bool = True
    readout: bool = False
    selected: bool = False
    val_frames: int = 0
    val_metric: str = "mean"


def phases(config: VideoConfig, n_train: int, n_pred: int) -> list[Phase]:
    """The schedule of ``config`` on a dataset predicting ``n_pred`` frames and training on ``n_train`` of them
    (``config.train_pred`` overrides the latter)."""
    n_train = config.train_pred or n_train
    val = config.val_horizon or n_pred
    svg = [Phase("base", config.steps, n_train, selected=True, val_frames=val)]
    if config.free_steps:
        svg.append(
            Phase(
                "free",
                config.free_steps,
                n_pred,
                free=True,
                selected=True,
                val_frames=n_pred,
                val_metric=config.val_metric,
            )
        )
    method = METHOD_SPECS[config.method]
    readout = (
        [Phase("readout", config.readout_steps, n_train, theta=False, readout=True)]
        if method.embedding == "law"
        else []
    )
    if config.method == "svg":
        return svg
    if method.embedding is not None and not config.freeze_base:  # the ramp: Algorithm 1 from scratch
        return readout + [Phase("meta", config.steps, n_train, tailored=True, selected=True, val_frames=val)]
    last = svg[-1]  # a continuation trains on the svg run's last windows, for a fixed number of steps
    if method.embedding is None:
        return svg + [Phase("more", config.tune_steps, last.frames, free=last.free)]
    return svg + readout + [Phase("tune", config.tune_steps, last.frames, free=last.free, tailored=True, theta=False)]
