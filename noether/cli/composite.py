"""``noether composite``: conserved sums of enumerated terms (laws beyond the depth the filter can enumerate)."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from ..discovery.composite import CompositeConfig, composite_laws
from ..dsl.grammar import DEFAULT_OPERATORS, OPERATORS
from ..systems import SYSTEMS, Trajectories
from .options import data_options, out, parse_pairs


@click.command("composite")
@data_options
@click.option("--term-depth", type=int, default=CompositeConfig.term_depth, show_default=True,
              help="Nodes per library term.")
@click.option("--max-terms", type=int, default=CompositeConfig.max_terms, show_default=True,
              help="Terms per law.")
@click.option("--products", type=int, default=CompositeConfig.products, show_default=True,
              help="Also products of pairs of terms of at most this many nodes (x**2*y from x**2 and y; 0: none).")
@click.option("--beam", type=int, default=CompositeConfig.beam, show_default=True,
              help="Supports kept per size in the beam search.")
@click.option("--ops", default=",".join(DEFAULT_OPERATORS), show_default=True,
              help=f"Operators of the library terms, from {', '.join(OPERATORS)}.")
@click.option("--derive", "derived", multiple=True, metavar="NAME=FORMULA",
              help="An extra input built from the states, e.g. --derive r='sqrt(x**2 + y**2)' or a relative "
                   "coordinate --derive dx='x1 - x2' (repeatable); laws are reported in the states.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random sequences.")
def composite_command(traj: Trajectories, term_depth, max_terms, products, beam, ops, derived, seed) -> None:
    """Find conserved sparse sums of enumerated terms, and how many are functionally independent."""
    names = tuple(o.strip() for o in ops.split(",") if o.strip())
    unknown = sorted(set(names) - set(OPERATORS))
    if unknown:
        raise click.UsageError(f"unknown operator(s) {', '.join(unknown)}; known: {', '.join(OPERATORS)}")
    config = CompositeConfig(term_depth=term_depth, max_terms=max_terms, products=products, beam=beam, ops=names,
                             seed=seed,
                             derived=tuple(parse_pairs(derived, "--derive", "FORMULA", str).items()))
    res = composite_laws(traj, config)
    table = Table(title=f"composite laws of {traj.name} ({len(res.library)} library terms, "
                        f"{res.searched} supports scored)")
    for col in ("#", "verdict", "law", "terms", "S_true", "ratio"):
        table.add_column(col)
    for i, law in enumerate(res.laws, 1):
        mark = " *" if i - 1 in res.independent else ""
        table.add_row(f"{i}{mark}", law.verdict, escape(law.expression), str(len(law.terms)), f"{law.s_true:.3g}",
                      f"{law.ratio:.3g}")
    out.print(table)
    truth = SYSTEMS[traj.system].independent if traj.system in SYSTEMS else None
    out.print(f"functionally independent conserved laws (*): {len(res.independent)}"
              + (f" (the system has {truth})" if truth is not None else ""))
    out.print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items()))
