"""The law path's inner step (App. C, Eq. 3), apart from the generic per-query step of ``tailoring.inner`` that the
video path uses: ``InnerSetting`` (newton | sgd, adapt all | last, the rate grid) and the batched step on the MLP's
weights that the screen, meta-tailoring and the evaluation share (``step.tailor_mlp``)."""

from .setting import ADAPTS, INNER_STEPS, NEWTON_ALPHAS, PAPER_LRS, InnerSetting
from .step import newton_rate, tailor_mlp

__all__ = ["InnerSetting", "INNER_STEPS", "ADAPTS", "PAPER_LRS", "NEWTON_ALPHAS", "tailor_mlp", "newton_rate"]
