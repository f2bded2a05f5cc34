"""The filter stage of the pipeline (paper §4.2, App. C): fit every candidate's parameters for conservation,
compare with random sequences, keep the approximately conserved laws and report the functionally independent ones. It
knows formulas and data, nothing of tailoring or of the pipeline that runs it."""

from .drift import Drift, DriftRule, measure_drift
from .filter import FilterConfig, FilterResult, filter_candidates
from .fit_exact import ExactFit, solve_pencil
from .fit_gradient import GradientConfig, GradientFit, fit_gradient
from .independence import functional_classes, independent_set
from .null import AcceptanceRule, shuffled_index
from .score import conservation_score, sequences

__all__ = [
    "filter_candidates",
    "FilterConfig",
    "FilterResult",
    "AcceptanceRule",
    "GradientConfig",
    "DriftRule",
    "Drift",
    "measure_drift",
    "conservation_score",
    "sequences",
    "solve_pencil",
    "ExactFit",
    "fit_gradient",
    "GradientFit",
    "shuffled_index",
    "independent_set",
    "functional_classes",
]
