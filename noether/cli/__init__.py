"""The ``noether`` command line: a thin shell over the Python API. Every command is registered here, explicitly;
errors from bad input print one line on stderr and exit 2."""

from __future__ import annotations

import sys

import click
import pint

from ..errors import NoetherError
from ..version import __version__
from .data import describe_command, systems_command
from .discover import discover_command, export_command
from .dsl import dsl_group
from .video import video_group

__all__ = ["cli", "main"]


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


for command in (systems_command, describe_command, dsl_group, discover_command, export_command, video_group):
    cli.add_command(command)


INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def main() -> None:
    """The console entry point: exit 2 on bad input (one line), 130 on Ctrl-C."""
    try:
        code = cli.main(prog_name="noether", standalone_mode=False)
    except click.exceptions.Abort:  # click turns KeyboardInterrupt into Abort
        click.echo("interrupted", err=True)
        sys.exit(INTERRUPTED)
    except click.ClickException as exc:  # usage errors: click's own message, its exit code (2)
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
