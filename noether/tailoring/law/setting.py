"""The inner-step setting of law tailoring (App. C, Eq. 3): ONE frozen object, with one set of defaults, that the
screen, meta-tailoring, the comparison and the pipeline all read; the CLI builds it once.

kind: 'newton' (our default: the Gauss-Newton step of ``step.newton_rate``, which removes a fraction alpha
of the law's linearised violation whatever the law's scale) or 'sgd' (the paper's Eq. 3 at rate 10^k);
adapt: the weights the step moves ('all', the paper, or the 'last' layer);
rates: the grid of inner rates every law chooses from (None: ``NEWTON_ALPHAS`` for 'newton', ``PAPER_LRS`` for
'sgd'); dt_scales: the grid of inner-loss steps, each a fraction of the data's time step (the loss compares g(x)
with g(x + f(x) dt_scale dt); 1 is the paper's, smaller values shrink the finite-difference bias that drains the
law along the secant of its level set); law_lr: the relative rate at which meta-tailoring also learns a law's
parameters (0 keeps the filter's fit, as in the paper).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...errors import ConfigError

InnerStep = Literal["sgd", "newton"]
INNER_STEPS: tuple[str, ...] = ("newton", "sgd")
Adapt = Literal["all", "last"]
ADAPTS: tuple[str, ...] = ("all", "last")

#: Inner learning rates of the paper: 10^k for k in {-3, -2.5, ..., 1}.
PAPER_LRS: tuple[float, ...] = tuple(float(10.0**k) for k in np.arange(-3.0, 1.01, 0.5))
#: Fractions alpha of the linearised residual removed by the Gauss-Newton inner step.
NEWTON_ALPHAS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)


def check_step(step: str, adapt: str) -> None:
    """One clear error for an unknown inner step or adapted-weights choice."""
    if step not in INNER_STEPS:
        raise ConfigError(f"unknown inner step '{step}' (use one of {', '.join(INNER_STEPS)})")
    if adapt not in ADAPTS:
        raise ConfigError(f"unknown adapt '{adapt}' (use one of {', '.join(ADAPTS)})")


@dataclass(frozen=True)
class InnerSetting:
    """How a law tailors the MLP at every query (see the module docstring for each field)."""

    kind: InnerStep = "newton"
    adapt: Adapt = "all"
    rates: tuple[float, ...] | None = None
    dt_scales: tuple[float, ...] = (0.01, 0.1)
    law_lr: float = 3e-3

    def __post_init__(self) -> None:
        check_step(self.kind, self.adapt)
        if self.rates is not None:
            object.__setattr__(self, "rates", tuple(float(r) for r in self.rates))
            if not self.rates or min(self.rates) < 0:
                raise ConfigError(f"inner rates must be a non-empty grid of non-negative values, got {self.rates}")
        object.__setattr__(self, "dt_scales", tuple(float(d) for d in self.dt_scales))
        if not self.dt_scales or not all(d > 0 for d in self.dt_scales):
            raise ConfigError(f"dt_scales must be positive, got {self.dt_scales}")
        if not self.law_lr >= 0:
            raise ConfigError(f"law_lr must be >= 0, got {self.law_lr}")

    @classmethod
    def paper(cls) -> InnerSetting:
        """The paper's inner step: SGD on all weights at rates 10^k, the data's own step, fixed law parameters."""
        return cls(kind="sgd", adapt="all", rates=None, dt_scales=(1.0,), law_lr=0.0)

    @property
    def grid(self) -> tuple[float, ...]:
        """The inner-rate grid: ``rates``, or the default one of the step kind."""
        if self.rates is not None:
            return self.rates
        return NEWTON_ALPHAS if self.kind == "newton" else PAPER_LRS

    def pairs(self) -> list[tuple[float, float]]:
        """Every (dt_scale, rate) of the grid, dt_scale-major."""
        return [(d, r) for d in self.dt_scales for r in self.grid]
