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
        table.add_column(col, no_wrap=col != "states [units]")  # only the states wrap (8 on the two-body)
    for name, spec in SYSTEMS.items():
        s = load_system(name).summary()
        states = _states_label(s["units"])
        cells = (
            name,
            spec.description,
            f"{s['n_traj']} x {s['n_steps']}",
            f"{s['train_points']}/{s['test_points']}",
            states,
            f"{s['dt']:.4g}",
        )
        table.add_row(*map(escape, cells))
    # a table, not a paragraph: as wide as its rows need, even when stdout is not a terminal (rich assumes 80)
    Console(highlight=False, width=max(out.width, 160)).print(table)


def _states_label(units: dict[str, str]) -> str:
    """'x1, y1 [m], vx1 [m/s]': consecutive states of one unit share their label."""
    groups: list[tuple[list[str], str]] = []
    for name, unit in units.items():
        if groups and groups[-1][1] == unit:
            groups[-1][0].append(name)
        else:
            groups.append(([name], unit))
    return ", ".join(f"{', '.join(names)} [{unit}]" for names, unit in groups)


@click.command("describe")
@data_options
def describe_command(traj: Trajectories) -> None:
    """Load a system or a data file, validate it, and describe it."""
    out.print(traj.describe(), markup=False)
