"""Noether Networks for video (paper §3, Algorithm 1): a predictor f_θ tailored per sequence to conserve g_φ.

PREDICTSEQUENCE: roll out x̃ with f_θ, take the inner step of Eq. 3 on the Noether loss of Eq. 2 -- adapting either
the CN layers' γ, β (CNGRAD, App. E; ``adapt="cn"``) or the LSTM's future outputs (App. D; ``adapt="outputs"``) --
and predict x̂ with the tailored tensors. With ``adapt="outputs"``, g reads the LSTM outputs (App. D's MLP) or,
for an embedding over frames (a law over a state readout), the frames the adapted outputs decode to. Every query
in a batch is tailored separately in one pass: the tailored tensors are per-example ([B, ...]) and the inner loss
is the sum of the per-example losses, so each example's gradient only involves its own loss (exact for SGD and for
Adam, which are elementwise).

Inner-loss reduction (``reduction``): ``"paper"`` (default) is the official code's ``inner_crit``: per example,
the squared change of g is averaged over the k embedding dimensions and summed over time. The official code
adapts one shared γ, β per batch on the batch mean; tailored per example, the same formula gives each query the
step that code gives a batch of one, whatever the batch size. ``"sum"`` sums over k too (k times larger steps at
the same lr; this project's behaviour before the paper's was made the default).
Training (Algorithm 1) backpropagates the task loss of x̂ through the inner step (second order) into θ and φ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ..errors import ConfigError
from ..tailoring.inner import InnerConfig, tailor
from ..tailoring.loss import noether_loss
from .cn import per_example
from .models import Rollout, VideoPredictor

REDUCTIONS = ("paper", "sum")  # inner loss over the embedding's k dimensions: mean (paper) or sum
TASK_REDUCTIONS = ("paper", "mean")  # task loss over predicted frames: sum (paper, SVG's ELBO) or mean


@dataclass(frozen=True)
class Query:
    """A batch of sequences: ``frames`` [B, T, C, H, W], ``actions`` [B, T, a] or None, ``eps`` [T-1, B, z] or None."""

    frames: Tensor
    n_cond: int
    actions: Tensor | None = None
    eps: Tensor | None = None
    teacher_forcing: bool = True


class NoetherVideo(nn.Module):
    """f_θ (``predictor``) with a Noether embedding g_φ (``embedding``; None = the plain SVG baseline)."""

    def __init__(
        self,
        predictor: VideoPredictor,
        embedding: nn.Module | None = None,
        *,
        adapt: str = "cn",
        form: str = "b",
        inner: InnerConfig = InnerConfig(lr=1e-4),
        reduction: str = "paper",
    ):
        super().__init__()
        if adapt not in ("cn", "outputs"):
            raise ConfigError(f"adapt must be 'cn' or 'outputs', got '{adapt}'")
        if reduction not in REDUCTIONS:
            raise ConfigError(f"inner-loss reduction must be one of {', '.join(REDUCTIONS)}, got '{reduction}'")
        if adapt == "cn" and embedding is not None and not predictor.theta_cn():
            raise ConfigError("adapt='cn' needs a predictor with CN layers (ModelConfig.cn=True)")
        self.predictor, self.embedding = predictor, embedding
        self.adapt, self.form, self.inner, self.reduction = adapt, form, inner, reduction

    def _reduce(self, e_ref: Tensor, e_seq: Tensor) -> Tensor:
        """Eq. 2 per example [B], over the k dimensions as ``reduction`` says (see the module docstring)."""
        value = noether_loss(e_ref, e_seq, self.form)
        return value / e_seq.shape[-1] if self.reduction == "paper" else value

    # --- pieces of PREDICTSEQUENCE ----------------------------------------------------------------------------
    def rollout(self, q: Query, cn: dict[str, Tensor] | None = None) -> Rollout:
        kwargs = dict(actions=q.actions, teacher_forcing=q.teacher_forcing, eps=q.eps)
        if cn is None:
            return self.predictor(q.frames, q.n_cond, **kwargs)
        return functional_call(self.predictor, cn, (q.frames, q.n_cond), kwargs)

    def sequence(self, q: Query, predicted: Tensor) -> Tensor:
        """x̃_0 … x̃_{T-1}: the conditioning frames (ground truth) followed by the predicted future [B, T, C, H, W]."""
        return torch.cat([q.frames[:, : q.n_cond], predicted[:, q.n_cond - 1 :]], 1)

    def frame_inner_loss(self, q: Query, predicted: Tensor) -> Tensor:
        """Eq. 2 over frame pairs: g_ref = g(x_{c-2}, x_{c-1}) (ground truth), g_seq = g of the predicted pairs
        -> [B]."""
        if q.n_cond < 2:
            raise ValueError("a frame-pair Noether embedding needs n_cond >= 2")
        seq = self.sequence(q, predicted)
        e = (
            self.embedding.pairs(seq, q.actions)
            if getattr(self.embedding, "reads_actions", False)
            else self.embedding.pairs(seq)
        )  # [B, T-1, k], pair j = frames (j, j+1)
        return self._reduce(e[:, q.n_cond - 2], e[:, q.n_cond - 1 :])

    def output_inner_loss(self, q: Query, outputs: Tensor) -> Tensor:
        """Eq. 2 over LSTM outputs (App. D): e_j = g(o_{j-1}, o_j, a_j); g_ref from the history's outputs -> [B]."""
        if q.n_cond < 3:
            raise ValueError("the LSTM-output Noether embedding needs n_cond >= 3")
        e = self.embedding.sequence(outputs, q.actions[:, : outputs.shape[1]])  # e[:, j-1] = g(o_{j-1}, o_j, a_j)
        return self._reduce(e[:, q.n_cond - 3], e[:, q.n_cond - 2 :])

    # --- PREDICTSEQUENCE ----------------------------------------------------------------------------------------
    def forward(
        self, q: Query, inner: InnerConfig | None = None, monitor: Callable[[Rollout, Tensor], None] | None = None
    ) -> Rollout:
        """x̂ for a batch of queries; tailored when there is an embedding. ``monitor(rollout, inner_loss [B])`` is
        called at every inner step (for the inner-steps study, Fig. 6)."""
        inner = self.inner if inner is None else inner
        if self.embedding is None:
            return self.rollout(q)
        B = q.frames.shape[0]
        if self.adapt == "cn":

            def loss(cn):
                r = self.rollout(q, cn)
                value = self.frame_inner_loss(q, r.frames)
                if monitor is not None:
                    monitor(r, value)
                return value.sum()

            cn = tailor(per_example(self.predictor.theta_cn(), B), loss, inner)
            return self.rollout(q, cn)
        r = self.rollout(q)
        c = q.n_cond

        reads_frames = hasattr(self.embedding, "pairs")  # a law over a readout of the decoded frames

        def loss_out(adapted):
            outputs = torch.cat([r.outputs[:, : c - 1], adapted["out"]], 1)
            frames = None
            if reads_frames or monitor is not None:
                frames = torch.cat([r.frames[:, : c - 1], self.predictor.decode(adapted["out"], r.skips)], 1)
            value = self.frame_inner_loss(q, frames) if reads_frames else self.output_inner_loss(q, outputs)
            if monitor is not None:
                monitor(Rollout(frames, outputs, r.kl, r.skips), value)
            return value.sum()

        out = tailor({"out": r.outputs[:, c - 1 :]}, loss_out, inner)["out"]
        outputs = torch.cat([r.outputs[:, : c - 1], out], 1)
        return Rollout(
            torch.cat([r.frames[:, : c - 1], self.predictor.decode(out, r.skips)], 1), outputs, r.kl, r.skips
        )


def task_loss(q: Query, r: Rollout, beta: float = 0.0, reduction: str = "paper") -> Tensor:
    """L_task, mean over the batch: SVG-LP's ELBO at teacher forcing. ``"paper"``: the per-frame MSE (mean over
    pixels) summed over the predicted frames 1 … T-1, plus β times the KL summed over them (SVG's and the
    official code's ``svg_crit``); ``"mean"``: the MSE averaged over frames instead, against the same summed KL."""
    if reduction not in TASK_REDUCTIONS:
        raise ConfigError(f"task-loss reduction must be one of {', '.join(TASK_REDUCTIONS)}, got '{reduction}'")
    mse = (r.frames - q.frames[:, 1:]).square().flatten(2).mean(2)  # [B, T-1]
    mse = mse.sum(1) if reduction == "paper" else mse.mean(1)
    return (mse + beta * r.kl).mean()
