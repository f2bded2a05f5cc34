"""Tailoring stage (see DESIGN.md): the Noether loss (Eq. 2), the per-query inner step (Eq. 3, torch.func; or
the Gauss-Newton step of ``mlp_tailor``),
HNN's baseline MLP and HNN, meta-tailoring with a law (App. C: screen + meta_tailor) and the long-term
evaluation shared by every method (``compare_methods`` runs them over seeds)."""

from .compare import CompareConfig, Comparison, compare_methods
from .evaluate import IntegratorConfig, LongTerm, long_term, mlp_field, module_field, tailored_field
from .hnn import HNN
from .inner import InnerConfig, tailor, tailor_batch
from .loss import noether_loss
from .meta import NEWTON_ALPHAS, PAPER_LRS, MetaConfig, MetaResult, ScreenConfig, ScreenResult, law_inner_loss, meta_tailor, screen
from .mlp import MLP, params_of
from .mlp_tailor import newton_rate, tailor_mlp
from .train import TrainConfig, TrainResult, train_baseline

__all__ = [
    "noether_loss", "InnerConfig", "tailor", "tailor_batch",
    "MLP", "HNN", "params_of", "TrainConfig", "TrainResult", "train_baseline",
    "PAPER_LRS", "NEWTON_ALPHAS", "tailor_mlp", "newton_rate", "law_inner_loss", "ScreenConfig", "ScreenResult", "screen", "MetaConfig", "MetaResult", "meta_tailor",
    "IntegratorConfig", "LongTerm", "long_term", "mlp_field", "tailored_field", "module_field",
    "CompareConfig", "Comparison", "compare_methods",
]
