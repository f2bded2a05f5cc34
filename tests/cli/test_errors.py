"""Bad input is one line and exit 2; anything else is a bug: a short traceback, an invitation to report it, exit 1."""

from click.testing import CliRunner

from noether.cli import cli
from noether.errors import DataError


def _invoke_with(monkeypatch, tmp_path, exc):
    import noether.cli.discover as command

    def broken(traj, config, **kwargs):
        raise exc

    monkeypatch.setattr(command, "discover", broken)
    return CliRunner().invoke(cli, ["discover", "--system", "spring", "--no-cache", "--out", str(tmp_path / "o")])


def test_an_internal_value_error_is_a_bug_with_a_traceback(monkeypatch, tmp_path):
    res = _invoke_with(monkeypatch, tmp_path, ValueError("operands could not be broadcast together"))
    assert res.exit_code == 1
    assert "Traceback" in res.stderr and "broadcast" in res.stderr and "bug in noether" in res.stderr


def test_an_input_error_is_one_line_and_exit_2(monkeypatch, tmp_path):
    res = _invoke_with(monkeypatch, tmp_path, DataError("trajectory 3 has NaN in column p"))
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: trajectory 3 has NaN in column p"


def test_a_bad_setting_is_an_input_error(tmp_path):
    res = CliRunner().invoke(
        cli, ["discover", "--system", "spring", "--max-screen", "0", "--no-cache", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "max_screen must be >= 1" in res.stderr and "Traceback" not in res.stderr


def test_the_accepted_laws_are_printed_before_the_tailoring_stages(monkeypatch, tmp_path):
    import noether.pipeline.run as pipeline_run
    from noether.errors import NoetherError

    def stop(*args, **kwargs):
        raise NoetherError("stopped at the screen")

    monkeypatch.setattr(pipeline_run, "run_screen", stop)
    res = CliRunner().invoke(
        cli,
        [
            "discover",
            "--system",
            "spring",
            "--noise",
            "0",
            "--max-params",
            "1",
            "--no-cache",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 2 and "stopped at the screen" in res.stderr
    assert "top survivors" in res.stdout and "independent conserved laws (1): " in res.stdout
