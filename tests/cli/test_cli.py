"""CLI skeleton: version, systems listing, and bad input as one line with a non-zero exit."""

import pytest
from click.testing import CliRunner

from noether import __version__
from noether.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_version_and_systems():
    assert __version__ in run("--version").output
    res = run("systems")
    assert res.exit_code == 0
    for name in ("spring", "pendulum", "real-pendulum"):
        assert name in res.output
    # not cut at 80 columns when stdout is not a terminal (CliRunner's is not)
    assert "measured pendulum, Schmidt & Lipson 2009 (damped)" in res.output
    assert "q [rad], p [kg*m**2/s]" in res.output and "trajectories x steps" in res.output
    assert "real-pendulum: 1 trajectory x 555 steps" in run("describe", "--system", "real-pendulum").output


def test_describe_a_user_file(tmp_path):
    from noether.systems import load_system

    path = tmp_path / "p.csv"
    load_system("spring").to_file(path)
    res = run("describe", "--data", str(path), "--state", "q,p", "--unit", "q=m", "--unit", "p=kg*m/s")
    assert res.exit_code == 0, res.output
    assert "50 trajectories" in res.output


def test_bad_inputs_exit_non_zero_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("trajectory,time,q\n0,0,1\n0,1,nan\n0,2,1\n")
    cases = [
        (("describe", "--system", "nope"), "unknown system 'nope'"),
        (("describe", "--data", str(bad), "--state", "q"), "NaN cell in column 'q'"),
        (("describe", "--data", str(bad), "--state", "q", "--unit", "q=furlongz"), "unknown unit 'furlongz'"),
        (("describe", "--data", str(bad), "--state", "q", "--unit", "q"), "--unit expects NAME=UNIT"),
        (("describe",), "exactly one of --system NAME or --data PATH"),
        (("discover", "--system", "spring", "--device", "tpu", "--out", str(tmp_path / "o")), "'tpu' is not one of"),
        (("video", "train", "ramp", "--device", "gpu", "--out", str(tmp_path / "v")), "'gpu' is not one of"),
    ]
    for args, message in cases:
        res = run(*args)
        assert res.exit_code == 2, (args, res.output)
        assert "Traceback" not in res.output
        assert message in res.output, (args, res.output)


def test_malformed_unit_and_output_inside_a_file_fail_before_any_work(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("trajectory,time,x\n0,0,1\n0,1,2\n0,2,3\n")
    res = run("describe", "--data", str(data), "--state", "x", "--unit", "x=m/")
    assert res.exit_code == 2 and "unknown unit 'm/'" in res.output and "Traceback" not in res.output
    blocker = tmp_path / "somefile"
    blocker.write_text("x")
    res = run("discover", "--system", "spring", "--out", str(blocker / "sub"))
    assert res.exit_code == 2 and "lies inside the file" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "somefile"]


def test_ctrl_c_exits_130(monkeypatch, capsys):
    import sys

    import noether.cli as cli_pkg
    from noether.cli import discover as discover_cmd

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(discover_cmd, "discover", interrupted)
    monkeypatch.setattr(
        sys, "argv", ["noether", "discover", "--system", "spring", "--stage", "filter", "--no-cache", "--out", "unused"]
    )
    with pytest.raises(SystemExit) as exit_info:
        cli_pkg.main()
    assert exit_info.value.code == 130 and "interrupted" in capsys.readouterr().err


@pytest.mark.parametrize(
    "pair, message", [("rx=x1 + x2", "must be a difference of two states"), ("rx", "--relative expects NAME=A-B")]
)
def test_a_bad_relative_coordinate_is_one_line_and_a_nonzero_exit(pair, message):
    res = run("composite", "--system", "two-body", "--relative", pair)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_composite_finds_the_spring_energy_and_counts_it():
    """The success path of ``noether composite``: the spring's energy q² + p² (k = m = 1 up to the fitted
    coefficient, HNN's spring) is the one starred, conserved law, and the system has one invariant."""
    import re

    res = run("composite", "--system", "spring", "--term-depth", "3", "--max-terms", "2")
    assert res.exit_code == 0, res.output
    starred = [line for line in res.output.splitlines() if re.search(r"\d \*", line)]
    assert len(starred) == 1 and "conserved" in starred[0], res.output
    coefficient = re.search(r"([\d.]+)\*p\*\*2 \+ q\*\*2|p\*\*2 \+ ([\d.]+)\*q\*\*2", starred[0])
    assert coefficient and float(coefficient.group(1) or coefficient.group(2)) == pytest.approx(1.0, abs=0.05)
    assert "functionally independent conserved laws (*): 1 (the system has 1)" in res.output
