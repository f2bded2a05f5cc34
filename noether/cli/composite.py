"""``noether composite``: conserved sums of enumerated terms (laws beyond the depth the filter can enumerate)."""

from __future__ import annotations

from dataclasses import replace

import click
from rich.markup import escape
from rich.table import Table

from ..discovery.composite import CompositeConfig, DefaultPolicy, composite_search
from ..systems import SYSTEMS, Trajectories
from .options import composite_options, data_options, out


@click.command("composite")
@data_options
@composite_options("--ops")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random sequences.")
def composite_command(traj: Trajectories, composite: CompositeConfig | DefaultPolicy, seed) -> None:
    """Find conserved sparse sums of enumerated terms, and how many are functionally independent. By default the
    libraries and derived inputs are chosen from the data and its units; any library option gives one expert
    library instead."""
    if isinstance(composite, DefaultPolicy):
        config: CompositeConfig | DefaultPolicy = replace(composite, base=replace(composite.base, seed=seed))
    else:
        config = replace(composite, seed=seed)
    res = composite_search(traj, config)
    for note in res.notes:
        out.print(escape(note))
    table = Table(
        title=f"composite laws of {traj.name} ({len(res.library)} library terms, {res.searched} supports scored)"
    )
    for col in ("#", "verdict", "law", "terms", "S_true", "ratio"):
        table.add_column(col)
    for i, law in enumerate(res.laws, 1):
        mark = " *" if i - 1 in res.independent else ""
        table.add_row(
            f"{i}{mark}",
            law.verdict,
            escape(law.expression),
            str(len(law.terms)),
            f"{law.s_true:.3g}",
            f"{law.ratio:.3g}",
        )
    out.print(table)
    truth = SYSTEMS[traj.system].independent if traj.system in SYSTEMS else None
    out.print(
        f"functionally independent conserved laws (*): {len(res.independent)}"
        + (f" (the system has {truth})" if truth is not None else "")
    )
    out.print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items()))
