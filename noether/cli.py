"""The ``noether`` command line: a thin shell over the Python API. Errors from bad input print one line, exit 2."""

from __future__ import annotations

import functools
import sys

import click
import pint
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .errors import NoetherError
from .systems import SYSTEMS, Trajectories, load_system

out = Console(highlight=False)


class NoetherGroup(click.Group):
    """A click group that turns project errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (NoetherError, pint.errors.PintError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=NoetherGroup)
@click.version_option(__version__, prog_name="noether")
def cli() -> None:
    """Discover conserved quantities of dynamical systems and tailor predictions to them."""


def data_options(func):
    """--system NAME | --data PATH --state a,b --unit a=UNIT ...: the data source of every command."""

    @click.option("--system", "system", default=None, help="Built-in system (see `noether systems`).")
    @click.option("--data", "data", type=click.Path(dir_okay=False), default=None,
                  help="Your own trajectories: CSV, Parquet or NPZ, one row per sample.")
    @click.option("--state", default=None, help="State columns in order, e.g. q,p (with --data).")
    @click.option("--unit", "units", multiple=True, metavar="NAME=UNIT",
                  help="pint unit of a state, e.g. --unit q=rad (repeatable). States without one get an "
                       "independent dimension of their own.")
    @click.option("--trajectory-col", default="trajectory", show_default=True)
    @click.option("--time-col", default="time", show_default=True)
    @click.option("--noise", type=float, default=None, help="Observation noise of ideal systems [default 0.1].")
    @click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of generated systems.")
    @functools.wraps(func)
    def wrapper(*args, system, data, state, units, trajectory_col, time_col, noise, data_seed, **kwargs):
        traj = resolve_data(system, data, state, units, trajectory_col, time_col, noise, data_seed)
        return func(*args, traj=traj, **kwargs)

    return wrapper


def resolve_data(system, data, state, units, trajectory_col="trajectory", time_col="time", noise=None,
                 seed=0) -> Trajectories:
    """Build Trajectories from the CLI's data options, with a clear error when they conflict."""
    if (system is None) == (data is None):
        raise click.UsageError("give exactly one of --system NAME or --data PATH")
    if system is not None:
        if state or units:
            raise click.UsageError("--state/--unit apply to --data only")
        return load_system(system, noise=noise, seed=seed)
    if not state:
        raise click.UsageError("--data needs --state, e.g. --state q,p")
    return Trajectories.from_file(data, state, parse_unit_options(units), trajectory_col=trajectory_col,
                                  time_col=time_col)


def parse_unit_options(pairs: tuple[str, ...]) -> dict[str, str]:
    """('q=rad', 'p=kg*m**2/s') -> {'q': 'rad', 'p': 'kg*m**2/s'}."""
    units = {}
    for pair in pairs:
        name, sep, unit = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--unit expects NAME=UNIT, got '{pair}'")
        units[name.strip()] = unit.strip()
    return units


@cli.command()
def systems() -> None:
    """List the built-in systems with their sizes, states and units."""
    table = Table(title="built-in systems")
    for col in ("name", "description", "trajectories x steps", "train/test points", "states [units]", "dt"):
        table.add_column(col, no_wrap=col == "name")
    for name, spec in SYSTEMS.items():
        s = load_system(name).summary()
        states = ", ".join(f"{k} [{v}]" for k, v in s["units"].items())
        cells = (name, spec.description, f"{s['n_traj']} x {s['n_steps']}",
                 f"{s['train_points']}/{s['test_points']}", states, f"{s['dt']:.4g}")
        table.add_row(*map(escape, cells))
    out.print(table)


@cli.command()
@data_options
def describe(traj: Trajectories) -> None:
    """Load a system or a data file, validate it, and describe it."""
    out.print(traj.describe(), markup=False)


# --- subcommands --- (each line registers a command group defined in its own module)
from .systems.video.cli import video_group; cli.add_command(video_group)  # noqa: E402, E702
from .tailoring.video import cli as _video_models_cli  # noqa: E402, F401  (adds video train / evaluate)
from .dsl.cli import dsl_group; cli.add_command(dsl_group)  # noqa: E402, E702
from .discovery.command import discover_command, export_command  # noqa: E402
cli.add_command(discover_command)
cli.add_command(export_command)
# --- end subcommands ---


def main() -> None:
    cli(prog_name="noether")


if __name__ == "__main__":
    sys.exit(main())
