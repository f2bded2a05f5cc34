"""``noether --help`` and ``--version`` start without torch & co.: the top-level group lists its commands from static
short help strings and imports a command's module only when that command is resolved. Fresh interpreters
(subprocesses) check what gets imported; no timing asserts (benchmarks/cli_startup.py measures the time)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from noether import __version__
from noether.cli import COMMANDS, NoetherGroup, cli

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "scipy", "sympy", "pandas", "pint", "matplotlib")

#: runs ``cli.main(ARGS, standalone_mode=False)`` and prints exit code, output and the heavy modules it loaded
SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys
    from noether.cli import cli

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            code = cli.main(json.loads(sys.argv[1]), prog_name="noether", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
    heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
    print(json.dumps({{"code": code, "output": buf.getvalue(), "heavy": heavy}}))
""").format(heavy=HEAVY)


def fresh(args: list[str]) -> dict:
    """Run the CLI with ``args`` in a fresh interpreter: its exit code, output and loaded heavy modules."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def noether(*args: str) -> subprocess.CompletedProcess:
    """``python -m noether ARGS``, the installed command's code path (``main()`` and its exit codes)."""
    return subprocess.run([sys.executable, "-m", "noether", *args], capture_output=True, text=True, cwd=ROOT)


def test_help_lists_every_command_without_heavy_imports():
    res = fresh(["--help"])
    assert res["code"] == 0 and res["heavy"] == [], res
    for name in COMMANDS:
        assert f"\n  {name} " in res["output"], (name, res["output"])


def test_version_without_heavy_imports():
    res = fresh(["--version"])
    assert res["code"] == 0 and res["heavy"] == [], res
    assert res["output"].strip() == f"noether, version {__version__}"


def test_python_m_noether_help_and_version():
    helped = noether("--help")
    assert helped.returncode == 0 and "Commands:" in helped.stdout and "discover" in helped.stdout
    version = noether("--version")
    assert version.returncode == 0 and __version__ in version.stdout


def test_an_invoked_command_runs_through_the_lazy_group():
    res = noether("systems")
    assert res.returncode == 0, res.stderr
    assert "pendulum" in res.stdout and "real-pendulum" in res.stdout


def test_an_unknown_command_is_clicks_usage_error():
    res = noether("nope")
    assert res.returncode == 2
    assert "No such command 'nope'" in res.stderr and "Usage: noether" in res.stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_static_short_help_is_the_commands_own(name):
    """The listed help cannot drift from the command's docstring (its first sentence, what click shortens)."""
    spec = COMMANDS[name]
    command = getattr(importlib.import_module(f"noether.cli{spec.module}"), spec.attr)
    assert command.name == name
    assert spec.help == command.get_short_help_str(limit=10_000)


@pytest.mark.parametrize("width", [60, 80, 200])
def test_lazy_help_reads_exactly_as_the_eager_one(width):
    """``noether --help`` from the static strings is character for character what the loaded commands give."""
    lazy = NoetherGroup("noether", lazy_commands=COMMANDS, help=cli.help)
    eager = click.Group("noether", help=cli.help)
    for name, spec in COMMANDS.items():
        eager.add_command(getattr(importlib.import_module(f"noether.cli{spec.module}"), spec.attr), name)

    def text(group: click.Group) -> str:
        with click.Context(group, info_name="noether", terminal_width=width, max_content_width=width) as ctx:
            return group.get_help(ctx)

    assert text(lazy) == text(eager)
    assert lazy.commands == {}  # listing loaded nothing


@pytest.mark.parametrize("group", ["dsl", "video"])
def test_subgroup_help_loads_its_module(group):
    lazy = NoetherGroup("noether", lazy_commands=COMMANDS)
    res = CliRunner().invoke(lazy, [group, "--help"])
    assert res.exit_code == 0, res.output
    assert f"Usage: noether {group}" in res.output and "Commands:" in res.output
    assert set(lazy.commands) == {group}
