"""The unit-typed DSL of candidate conservation laws (paper §4.1): grammar, enumeration, dedup, evaluation, Law."""

from .dedup import DedupConfig
from .evaluate import Evaluation
from .grammar import OPERATORS, Formula, Operator
from .space import CandidateSpace, SpaceReport, enumerate_space, space_for

__all__ = [
    "CandidateSpace", "SpaceReport", "Evaluation", "Formula", "Operator", "OPERATORS", "DedupConfig",
    "enumerate_space", "space_for",
]
