"""The candidates of a formula space as the fitters see them: parameters C [n, K] -> (values [n, N], finite [n]) on
fixed states, able to restrict itself to a subset of candidates (the Newton iterations drop converged ones)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from torch import Tensor

from ..dsl import CandidateSpace


@dataclass(frozen=True, eq=False)
class SpaceEvaluator:
    """Every candidate of ``space`` on the states ``x`` [N, d], evaluated in chunks of ``memory_mb``."""

    space: CandidateSpace
    x: Tensor
    memory_mb: float

    def __call__(self, c: Tensor) -> tuple[Tensor, Tensor]:
        ev = self.space.evaluate(self.x, c, memory_mb=self.memory_mb)
        return ev.values, ev.finite.to(ev.values.device)

    def restrict(self, keep: Tensor) -> SpaceEvaluator:
        """The same for the candidates ``keep`` (bool [n]) alone."""
        return replace(self, space=self.space.subset(np.flatnonzero(keep.cpu().numpy())))
