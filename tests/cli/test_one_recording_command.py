"""``noether discover`` on one recording: the score it used on the console and in report.md, and the one-line
answer when the data cannot identify a law."""

import numpy as np
from click.testing import CliRunner

from noether.cli import cli
from noether.systems.files import write_columns
from noether.systems.recording import one_recording


def test_one_recording_names_its_score_and_a_still_one_says_why_nothing_can_be_found(tmp_path):
    moving = one_recording("spring", noise=0.01, points=300)
    still = np.array([0.5, -0.2]) + 0.01 * np.random.default_rng(0).standard_normal((1, 300, 2))
    for name, states in (("moving", moving.states), ("still", still)):
        write_columns(("q", "p"), states, moving.times, tmp_path / f"{name}.csv")
    args = [
        "discover",
        "--state",
        "q,p",
        "--unit",
        "q=m",
        "--unit",
        "p=kg*m/s",
        "--stage",
        "filter",
        "--depth",
        "7",
        "--no-cache",
    ]
    res = CliRunner().invoke(cli, [*args, "--data", str(tmp_path / "moving.csv"), "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert "score: derivative" in res.output and "1 recording" in res.output
    assert "derivative score" in (tmp_path / "m" / "report.md").read_text()
    assert "independent conserved laws (1)" in res.output  # the energy
    res = CliRunner().invoke(cli, [*args, "--data", str(tmp_path / "still.csv"), "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    message = [line for line in res.output.splitlines() if line.startswith("no law can be identified")]
    assert len(message) == 1 and "too little motion" in message[0]
    assert "top survivors" not in res.output  # no table of laws
    report = (tmp_path / "s" / "report.md").read_text()
    assert "No law can be identified from these data: too little motion" in report
    forced = CliRunner().invoke(
        cli, [*args, "--data", str(tmp_path / "moving.csv"), "--score", "random-sequence", "--out", str(tmp_path / "r")]
    )
    assert forced.exit_code == 0 and "score: random-sequence" in forced.output
