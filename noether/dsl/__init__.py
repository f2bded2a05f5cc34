"""The unit-typed DSL of candidate conservation laws (paper §4.1): grammar, enumeration, dedup, evaluation, Law."""

from .dedup import DedupConfig
from .estimate import SpaceEstimate, SpaceTooLargeError, check_space, estimate_space
from .evaluate import Evaluation
from .grammar import OPERATORS, Formula, Operator
from .law import FormulaError, Law
from .space import CandidateSpace, SpaceReport, enumerate_space, space_for

__all__ = [
    "CandidateSpace",
    "SpaceReport",
    "Law",
    "FormulaError",
    "Evaluation",
    "Formula",
    "Operator",
    "OPERATORS",
    "DedupConfig",
    "enumerate_space",
    "space_for",
    "estimate_space",
    "check_space",
    "SpaceEstimate",
    "SpaceTooLargeError",
]
