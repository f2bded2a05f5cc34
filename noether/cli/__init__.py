"""The ``noether`` command line: a thin shell over the Python API. Every command is registered here, explicitly,
by name -> (module, attribute, short help); a command's module (and torch, sympy, pint, ... behind it) is imported
only when that command runs or shows its own help, so ``noether --help`` and ``--version`` start in well under a
second. Errors from bad input (``NoetherError``, pint's) print one line on stderr and exit 2; anything else is a bug:
a short traceback and where to report it, exit 1."""

from __future__ import annotations

import importlib
import sys
import traceback
import warnings
from typing import Any, NamedTuple

import click

from ..errors import NoetherError
from ..version import __version__

__all__ = ["COMMANDS", "LazyCommand", "NoetherGroup", "cli", "main"]


class LazyCommand(NamedTuple):
    """Where a command lives, and its short help for ``noether --help`` (its docstring's first sentence, which
    tests/cli/test_startup.py checks against the real command)."""

    module: str  # relative to this package
    attr: str
    help: str


#: every command of ``noether``, listed (sorted by name, as click lists them) without importing its module
COMMANDS: dict[str, LazyCommand] = {
    "systems": LazyCommand(".data", "systems_command", "List the built-in systems with their sizes, states and units."),
    "describe": LazyCommand(".data", "describe_command", "Load a system or a data file, validate it, and describe it."),
    "dsl": LazyCommand(
        ".dsl", "dsl_group", "The unit-typed formula language: enumerate and count candidate conservation laws."
    ),
    "discover": LazyCommand(
        ".discover",
        "discover_command",
        "Discover conserved quantities: enumerate formulas, fit them, keep the conserved ones, "
        "rank them by how much tailoring with them improves long-term predictions, and compare "
        "against the baselines.",
    ),
    "composite": LazyCommand(
        ".composite",
        "composite_command",
        "Find conserved sparse sums of enumerated terms, and how many are functionally independent.",
    ),
    "export": LazyCommand(
        ".discover", "export_command", "Print one law of a laws.json as SymPy, LaTeX, JSON or a Python function."
    ),
    "video": LazyCommand(
        ".video", "video_group", "Noether Networks on video: datasets (make-data), models (train, evaluate)."
    ),
}


BUG = 1  # exit code of an internal error (a bug), as opposed to bad input (2)


def is_input_error(exc: BaseException) -> bool:
    """An error caused by the user's input: ours (``NoetherError``, raised where input is checked) or pint's
    (checked only once a command has loaded pint, so that starting the CLI does not). Anything else is a bug."""
    if isinstance(exc, NoetherError):
        return True
    pint = sys.modules.get("pint")
    return pint is not None and isinstance(exc, pint.errors.PintError)


class NoetherGroup(click.Group):
    """A click group that loads its commands on first use and turns project errors into one line on stderr and
    exit code 2."""

    def __init__(self, *args: Any, lazy_commands: dict[str, LazyCommand] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module the first time it is asked for."""
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            spec = self.lazy_commands[cmd_name]
            self.add_command(getattr(importlib.import_module(spec.module, __name__), spec.attr), cmd_name)
        return self.commands.get(cmd_name)

    def listed_command(self, cmd_name: str) -> click.Command | None:
        """The command as ``--help`` lists it: the real one once loaded, else a stand-in carrying its short help."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = self.lazy_commands.get(cmd_name)
        return None if spec is None else click.Command(cmd_name, help=spec.help)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own listing (same widths, same shortening), from the short help strings: nothing is imported."""
        commands = [
            (name, cmd)
            for name in self.list_commands(ctx)
            if (cmd := self.listed_command(name)) is not None and not cmd.hidden
        ]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in commands])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: usage errors, --help's exit, Ctrl-C
        except Exception as exc:
            if not is_input_error(exc):
                report_bug(exc)
                ctx.exit(BUG)
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


def report_bug(exc: BaseException, frames: int = 6) -> None:
    """An internal error: the innermost ``frames`` of its traceback and an invitation to report it, on stderr."""
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-frames)
    click.echo("".join(tb).rstrip(), err=True)
    click.echo(
        f"internal error ({type(exc).__name__}): this is a bug in noether, not a problem with your input. "
        "Please report it on the project's issue tracker with the lines above and the command you ran.",
        err=True,
    )


@click.group(cls=NoetherGroup, lazy_commands=COMMANDS)
@click.version_option(__version__, prog_name="noether")
def cli() -> None:
    """Discover conserved quantities of dynamical systems and tailor predictions to them."""


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on the console as one line each (no source line, no file name)."""
    return f"warning: {message}\n"


INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def main() -> None:
    """The console entry point: exit 2 on bad input (one line), 1 on a bug (short traceback), 130 on Ctrl-C."""
    warnings.formatwarning = one_line_warning
    try:
        code = cli.main(prog_name="noether", standalone_mode=False)
    except click.exceptions.Abort:  # click turns KeyboardInterrupt into Abort
        click.echo("interrupted", err=True)
        sys.exit(INTERRUPTED)
    except click.ClickException as exc:  # usage errors: click's own message, its exit code (2)
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
