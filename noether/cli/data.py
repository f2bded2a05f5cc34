"""``noether systems`` and ``noether describe``: what data there is, and what a data source holds."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..systems import SYSTEMS, Trajectories, load_system
from .options import data_options, out


@click.command("systems")
def systems_command() -> None:
    """List the built-in systems with their sizes, states and units."""
    table = Table(title="built-in systems")
    for col in ("name", "description", "trajectories x steps", "train/test points", "states [units]", "dt"):
        table.add_column(col, no_wrap=True)
    for name, spec in SYSTEMS.items():
        s = load_system(name).summary()
        states = ", ".join(f"{k} [{v}]" for k, v in s["units"].items())
        cells = (name, spec.description, f"{s['n_traj']} x {s['n_steps']}",
                 f"{s['train_points']}/{s['test_points']}", states, f"{s['dt']:.4g}")
        table.add_row(*map(escape, cells))
    # a table, not a paragraph: as wide as its rows need, even when stdout is not a terminal (rich assumes 80)
    Console(highlight=False, width=max(out.width, 160)).print(table)


@click.command("describe")
@data_options
def describe_command(traj: Trajectories) -> None:
    """Load a system or a data file, validate it, and describe it."""
    out.print(traj.describe(), markup=False)
