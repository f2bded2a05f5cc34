"""``noether discover --depth 100`` is refused at once with the space's estimate: one line, exit 2, no files."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from noether.cli import cli
from noether.errors import NoetherError


@pytest.fixture(autouse=True)
def as_in_a_log(monkeypatch):
    monkeypatch.setenv("NOETHER_PROGRESS", "plain")  # progress lines on: a refused run still prints one line


def test_discover_depth_100_is_refused_with_the_estimate(tmp_path, monkeypatch):
    import noether.dsl.space as space

    def never(*args, **kwargs):
        raise AssertionError("the enumeration started")

    monkeypatch.setattr(space, "enumerate_raw", never)
    out = tmp_path / "run"
    res = CliRunner().invoke(
        cli, ["discover", "--system", "pendulum", "--depth", "100", "--no-cache", "--out", str(out)]
    )
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: depth 100"), res.stderr
    assert "1.2e+88 formulas" in lines[0] and "GiB" in lines[0] and "--force" in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_dsl_count_is_guarded_too():
    res = CliRunner().invoke(cli, ["dsl", "count", "--system", "spring", "--depth", "60"])
    assert res.exit_code == 2 and "pass --force" in res.stderr


def test_force_reaches_the_pipeline(monkeypatch, tmp_path):
    import noether.cli.discover as command

    seen = {}

    def fake_discover(traj, config, **kwargs):
        seen["config"] = config
        raise NoetherError("stopped before enumerating")

    monkeypatch.setattr(command, "discover", fake_discover)
    for flag, force in (([], False), (["--force"], True)):
        res = CliRunner().invoke(
            cli,
            ["discover", "--system", "pendulum", "--depth", "100", *flag, "--no-cache", "--out", str(tmp_path / "x")],
        )
        assert res.exit_code == 2 and "stopped before enumerating" in res.stderr
        assert seen["config"].depth == 100 and seen["config"].force is force


def test_nonsense_depth_is_one_line(tmp_path):
    res = CliRunner().invoke(cli, ["discover", "--system", "pendulum", "--depth", "0", "--out", str(tmp_path / "y")])
    assert res.exit_code == 2 and res.stderr.strip() == "error: depth must be >= 1, got 0"
