"""The composite search's options, shared by ``discover`` and ``composite``: the default policy unless a library
option is given, ``--no-composite`` off, ``--auto-inputs`` the derived-input families, ``--ops`` the enumerated
operators; bad values are one line and exit 2."""

import pytest
from click.testing import CliRunner

from noether.cli import cli
from noether.discovery.composite import CompositeConfig, DefaultPolicy
from noether.errors import NoetherError


def _config(monkeypatch, tmp_path, *flags):
    """The DiscoverConfig that ``noether discover --system spring FLAGS`` hands to the pipeline."""
    import noether.cli.discover as command

    seen = {}

    def fake_discover(traj, config, **kwargs):
        seen["config"] = config
        raise NoetherError("stopped")

    monkeypatch.setattr(command, "discover", fake_discover)
    res = CliRunner().invoke(cli, ["discover", "--system", "spring", *flags, "--no-cache", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "stopped" in res.stderr, res.output
    return seen["config"]


def test_discover_runs_the_default_search_unless_told_otherwise(monkeypatch, tmp_path):
    config = _config(monkeypatch, tmp_path)
    assert isinstance(config.composite, DefaultPolicy) and config.composite.inputs.families == (
        "distance",
        "log",
        "angle",
    )
    assert _config(monkeypatch, tmp_path, "--no-composite").composite is None
    assert _config(monkeypatch, tmp_path, "--auto-inputs", "").composite.inputs.families == ()
    expert = _config(monkeypatch, tmp_path, "--term-depth", "2", "--composite-ops", "mul,square").composite
    assert isinstance(expert, CompositeConfig) and expert.term_depth == 2 and expert.ops == ("mul", "square")
    assert _config(monkeypatch, tmp_path, "--ops", "add,mul,log").ops == ("add", "mul", "log")


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--auto-inputs", "radius"), "unknown derived-input families radius"),
        (("--ops", "add,tan"), "--ops: unknown operator(s) tan"),
        (("--composite-ops", "tan"), "--composite-ops: unknown operator(s) tan"),
    ],
)
def test_bad_composite_options_are_one_line(tmp_path, flags, message):
    res = CliRunner().invoke(cli, ["discover", "--system", "spring", *flags, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and message in res.stderr
    assert not (tmp_path / "o").exists()


def test_composite_command_reports_its_libraries(tmp_path):
    res = CliRunner().invoke(cli, ["composite", "--system", "spring", "--noise", "0"])
    assert res.exit_code == 0, res.output
    assert "forms:" in res.output and "sums:" in res.output and "functionally independent" in res.output
