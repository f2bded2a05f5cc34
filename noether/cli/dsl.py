"""``noether dsl count``: the size of the formula space after each pruning step, per formula size."""

from __future__ import annotations

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..dsl import enumerate_space
from ..systems import paper_facts
from ..units import unit_label
from .options import data_options


@click.group("dsl")
def dsl_group() -> None:
    """The unit-typed formula language: enumerate and count candidate conservation laws."""


@dsl_group.command("count")
@data_options
@click.option("--depth", type=int, default=7, show_default=True, help="Maximum number of nodes.")
@click.option("--max-params", type=int, default=2, show_default=True, help="Parameters per formula.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the probe points.")
@click.option(
    "--force",
    is_flag=True,
    help="Enumerate even when the formula space's estimated memory is over half the available memory.",
)
def count(traj, depth: int, max_params: int, seed: int, force: bool) -> None:
    """Count the formulas after each pruning step, per size (number of nodes)."""
    space = enumerate_space(traj.names, traj.units, depth=depth, max_params=max_params, seed=seed, force=force)
    print_report(space, traj.name, system=traj.system)


def print_report(space, name: str, console: Console | None = None, system: str | None = None) -> None:
    """The count table of ``space`` (titled with the data's ``name``), beside the paper's count when ``system``
    is a built-in one the paper counted."""
    console = console or Console(highlight=False)
    report = space.report
    units = ", ".join(f"{n} [{unit_label(u)}]" for n, u in zip(space.names, space.units))
    table = Table(
        title=escape(
            f"formula space of {name}: {units}; depth {report.depth}, "
            f"max {report.max_params} parameters; columns: formula size (nodes)"
        ),
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    table.add_column("after step", no_wrap=True)
    for s in range(1, report.depth + 1):
        table.add_column(str(s), justify="right", no_wrap=True)
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    for step, total, per_size in report.steps:
        table.add_row(step, *(str(per_size.get(s, 0)) for s in range(1, report.depth + 1)), f"{total:,}")
    console.print(table)
    paper = paper_facts(system).dsl_count
    if paper and report.depth == 7:
        console.print(f"paper (units + commutativity): {paper:,}; here: {report.count('commutativity'):,}")
    for step, note in report.notes.items():
        console.print(f"{step}: {note}")
    secs = ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items())
    console.print(f"{len(space):,} candidates ({secs})")
