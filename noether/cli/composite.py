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
@click.option(
    "--term-depth", type=int, default=CompositeConfig.term_depth, show_default=True, help="Nodes per library term."
)
@click.option("--max-terms", type=int, default=CompositeConfig.max_terms, show_default=True, help="Terms per law.")
@click.option(
    "--products",
    type=int,
    default=CompositeConfig.products,
    show_default=True,
    help="Also products of pairs of terms of at most this many nodes (x**2*y from x**2 and y; 0: none).",
)
@click.option(
    "--beam",
    type=int,
    default=CompositeConfig.beam,
    show_default=True,
    help="Supports kept per size in the beam search.",
)
@click.option(
    "--paths",
    type=int,
    default=CompositeConfig.paths,
    show_default=True,
    help="Backward-elimination paths per ridge (more peel off more laws; the two-body problem's six need 32).",
)
@click.option(
    "--ops",
    default=",".join(DEFAULT_OPERATORS),
    show_default=True,
    help=f"Operators of the library terms, from {', '.join(OPERATORS)}.",
)
@click.option(
    "--derive",
    "derived",
    multiple=True,
    metavar="NAME=FORMULA",
    help="An extra input built from the states, e.g. --derive r='sqrt(x**2 + y**2)' or a relative "
    "coordinate --derive dx='x1 - x2' (repeatable); laws are reported in the states.",
)
@click.option(
    "--relative",
    multiple=True,
    metavar="NAME=A-B",
    help="A relative coordinate of a system translation-invariant in A and B (states of one unit), e.g. "
    "--relative rx='x1 - x2' (repeatable): the library gains terms over these coordinates alone, "
    "with products up to --relative-products nodes (a two-body Runge-Lenz vector).",
)
@click.option(
    "--relative-products",
    type=int,
    default=CompositeConfig.relative_products,
    show_default=True,
    help="Products of pairs of relative-coordinate terms of at most this many nodes.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random sequences.")
def composite_command(
    traj: Trajectories, term_depth, max_terms, products, beam, paths, ops, derived, relative, relative_products, seed
) -> None:
    """Find conserved sparse sums of enumerated terms, and how many are functionally independent."""
    names = tuple(o.strip() for o in ops.split(",") if o.strip())
    unknown = sorted(set(names) - set(OPERATORS))
    if unknown:
        raise click.UsageError(f"unknown operator(s) {', '.join(unknown)}; known: {', '.join(OPERATORS)}")
    config = CompositeConfig(
        term_depth=term_depth,
        max_terms=max_terms,
        products=products,
        beam=beam,
        ops=names,
        paths=paths,
        seed=seed,
        derived=tuple(parse_pairs(derived, "--derive", "FORMULA", str).items()),
        relative=tuple(parse_pairs(relative, "--relative", "A-B", str).items()),
        relative_products=relative_products,
    )
    res = composite_laws(traj, config)
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
