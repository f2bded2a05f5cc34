"""What the paper reports about each built-in system, in one place (reports and ``noether dsl count`` quote it).

Numbers are from Alet et al., NeurIPS 2021: formula counts after unit and commutativity pruning (§5.1), survivors
of the 100x random-sequence rule (§4.2), the discovered laws and long-term RMSEs (Tables 1-2; Figure 2 gives the
real pendulum only as a plot), and the hand-coded energy HNN's authors fitted to the real pendulum (App. C).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaperFacts:
    """dsl_count: depth-7 formulas after units + commutativity; survivors: accepted by the 100x rule; law: the
    discovered law (SymPy text); rmse: long-term test RMSE per method; hand_coded: a hand-written reference law."""

    dsl_count: int | None = None
    survivors: int | None = None
    law: str | None = None
    rmse: dict[str, float] = field(default_factory=dict)
    hand_coded: str | None = None


PAPER: dict[str, PaperFacts] = {
    "pendulum": PaperFacts(
        dsl_count=41_460,
        survivors=210,
        law="p**2 - 2.99*cos(q)",
        rmse={"mlp": 0.0563, "noether": 0.0423, "oracle": 0.0422},
    ),
    "spring": PaperFacts(
        dsl_count=72_372,
        survivors=219,
        law="q**2 + 1.002*p**2",
        rmse={"mlp": 0.0174, "noether": 0.0165, "oracle": 0.0166},
    ),
    "real-pendulum": PaperFacts(law="p**2 - 2.39*cos(q)", hand_coded="p**2 - 2.4*cos(q)"),
}


def paper_facts(system: str | None) -> PaperFacts:
    """The paper's figures for a built-in system (``Trajectories.system``); an empty record for None (user
    data) or a system the paper does not report."""
    return PAPER.get(system, PaperFacts()) if system else PaperFacts()
