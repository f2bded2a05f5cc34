"""The tailoring core (paper §3, App. C), shared by the symbolic pipeline and the video path; it knows nothing of
either. The Noether loss (Eq. 2), the per-query inner step (Eq. 3, torch.func; or the Gauss-Newton step of
``law.step``), one ``InnerSetting`` for law tailoring, HNN's baseline MLP and HNN, meta-tailoring with a law
(``screen`` then ``meta_tailor``) and the long-term evaluation every method shares (``compare_methods``)."""

from .checkpoint import Checkpoint
from .compare import CompareConfig, Comparison, compare_methods
from .evaluate import LongTerm, long_term, mlp_field, module_field, stack_fields, tailored_field
from .hnn import HNN
from .inner import InnerConfig, tailor, tailor_batch
from .integrate import IntegratorConfig
from .law.setting import NEWTON_ALPHAS, PAPER_LRS, InnerSetting
from .law.step import newton_rate, tailor_mlp
from .loss import law_inner_loss, noether_loss
from .meta import MetaConfig, MetaResult, meta_tailor
from .mlp import MLP, params_of
from .screen import ScreenConfig, ScreenResult, screen
from .train import TrainConfig, TrainResult, train_baseline

__all__ = [
    "noether_loss",
    "law_inner_loss",
    "InnerConfig",
    "tailor",
    "tailor_batch",
    "InnerSetting",
    "PAPER_LRS",
    "NEWTON_ALPHAS",
    "MLP",
    "HNN",
    "params_of",
    "TrainConfig",
    "TrainResult",
    "train_baseline",
    "tailor_mlp",
    "newton_rate",
    "ScreenConfig",
    "ScreenResult",
    "screen",
    "MetaConfig",
    "MetaResult",
    "meta_tailor",
    "IntegratorConfig",
    "LongTerm",
    "long_term",
    "mlp_field",
    "tailored_field",
    "module_field",
    "stack_fields",
    "CompareConfig",
    "Comparison",
    "compare_methods",
    "Checkpoint",
]
