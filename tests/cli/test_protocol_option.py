"""``--protocol paper|hnn``: the data the run gets, and one-line errors (exit 2) for a protocol that cannot apply."""

import pytest
from click.testing import CliRunner

from noether.cli import cli
from noether.errors import DataError


def _data_of(monkeypatch, tmp_path, *args):
    """The Trajectories `noether discover ARGS` hands the pipeline (which is stopped there)."""
    import noether.cli.discover as command

    seen = []

    def stop(traj, config, **kwargs):
        seen.append(traj)
        raise DataError("stopped before the stages")

    monkeypatch.setattr(command, "discover", stop)
    res = CliRunner().invoke(cli, ["discover", *args, "--no-cache", "--out", str(tmp_path / "o")])
    return res, seen


@pytest.mark.parametrize("protocol,noise", [("paper", 0.0), ("hnn", 0.1)])
def test_protocol_sets_the_data(monkeypatch, tmp_path, protocol, noise):
    res, seen = _data_of(monkeypatch, tmp_path, "--system", "pendulum", "--protocol", protocol, "--data-seed", "2")
    assert "stopped before the stages" in res.stderr
    traj = seen[0]
    assert traj.meta["protocol"] == protocol and traj.meta["noise"] == noise and traj.meta["seed"] == 2


@pytest.mark.parametrize(
    "args,message",
    [
        (["--system", "pendulum", "--protocol", "paper", "--noise", "0"], "not both"),
        (["--system", "kepler", "--protocol", "paper"], "applies to spring and pendulum only"),
        (["--system", "spring", "--protocol", "noisy"], "'noisy' is not one of"),
    ],
)
def test_a_protocol_that_cannot_apply_is_exit_2(monkeypatch, tmp_path, args, message):
    res, seen = _data_of(monkeypatch, tmp_path, *args)
    assert res.exit_code == 2 and message in res.output and not seen
    assert not (tmp_path / "o").exists()
