"""Progress: plain timestamped lines with a percentage and an ETA when stderr is not a terminal, a path for nested
stages, nothing with NOETHER_PROGRESS=0."""

import re

import pytest

from noether import progress


@pytest.fixture
def clock(monkeypatch):
    """A fake monotonic clock the test moves by hand; the watcher thread is off (the test calls it)."""
    now = {"t": 1000.0}
    monkeypatch.setattr(progress.time, "monotonic", lambda: now["t"])
    monkeypatch.setattr(progress, "WATCHING", False)
    return now


def test_plain_lines_show_percentage_eta_and_the_nested_path(monkeypatch, capsys, clock):
    monkeypatch.setenv("NOETHER_PROGRESS", "plain")
    with progress.stage("evaluate"):
        with progress.stage("train mlp (seed 0)", 10, "epochs") as advance:
            for _ in range(10):
                clock["t"] += 6.0
                advance()
    lines = capsys.readouterr().err.strip().splitlines()
    assert re.search(r"evaluate: started$", lines[0])
    middle = [line for line in lines if "train mlp" in line]
    assert len(middle) == 9  # one per 10% (6 s apart > MIN_GAP_S), none at 100%: the stage's end says it
    assert "evaluate > train mlp (seed 0): 10% (1/10 epochs) | 6.0 s elapsed | ETA 54.0 s" in middle[0]
    assert "50% (5/10 epochs) | 30.0 s elapsed | ETA 30.0 s" in middle[4]
    assert re.search(r"evaluate: done in 1m 00s$", lines[-1])


def test_plain_lines_are_throttled_but_never_silent_for_long(monkeypatch, capsys, clock):
    monkeypatch.setenv("NOETHER_PROGRESS", "plain")
    with progress.stage("fit", 1000, "candidates") as advance:
        for _ in range(1000):  # 1000 quick steps: a line per 10% only when 5 s apart
            clock["t"] += 0.001
            advance()
    assert capsys.readouterr().err.strip().endswith("fit: done in 1.0 s")  # the only line
    with progress.stage("meta-tailor", 3, "epochs") as advance:
        clock["t"] += 200.0  # a slow epoch: the heartbeat prints even within one 10% step
        advance(0.1)
    err = capsys.readouterr().err
    assert "meta-tailor: 3% (0.1/3 epochs) | 3m 20s elapsed | ETA 1h 36m" in err


def test_a_step_that_never_advances_still_prints_a_line_a_minute(monkeypatch, capsys, clock):
    monkeypatch.setenv("NOETHER_PROGRESS", "plain")
    with progress.stage("filter"), progress.stage("fit", 10, "candidates"):
        progress._plain.heartbeat()  # what the watcher thread does twice a second
        assert capsys.readouterr().err == ""  # not even 'started' before a second has passed
        clock["t"] += 30
        progress._plain.heartbeat()
        assert capsys.readouterr().err.strip().endswith("filter: started")
        clock["t"] += 61
        progress._plain.heartbeat()
        assert "filter > fit: 0% (0/10 candidates) | 1m 31s elapsed" in capsys.readouterr().err


def test_bad_input_that_stops_a_stage_at_once_prints_no_progress(monkeypatch, capsys, clock):
    monkeypatch.setenv("NOETHER_PROGRESS", "plain")
    with pytest.raises(ValueError), progress.stage("enumerate"):
        progress._plain.heartbeat()
        raise ValueError("depth 100 is too deep")
    assert capsys.readouterr().err == ""


def test_off_prints_nothing_and_an_unknown_total_shows_elapsed_time(monkeypatch, capsys, clock):
    monkeypatch.setenv("NOETHER_PROGRESS", "0")
    with progress.stage("filter", 10) as advance:
        advance(5)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("NOETHER_PROGRESS", "plain")
    with pytest.raises(RuntimeError), progress.stage("screen"):
        clock["t"] += 61
        progress._plain.heartbeat()  # announced after a second: its stop is reported too
        raise RuntimeError("boom")
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("screen: stopped in 1m 01s")


def test_mode_follows_the_environment(monkeypatch):
    for flag, expected in (("0", "off"), ("off", "off"), ("plain", "plain"), ("rich", "rich")):
        monkeypatch.setenv("NOETHER_PROGRESS", flag)
        assert progress.mode() == expected
    monkeypatch.delenv("NOETHER_PROGRESS")
    assert progress.mode() == "plain"  # pytest's stderr is not a terminal
    assert progress.duration(3725) == "1h 02m" and progress.duration(59.94) == "59.9 s"


def test_a_stage_opened_long_after_the_last_line_does_not_print_at_once(monkeypatch, capsys, clock):
    """The heartbeat counts quiet time from the later of the last line and the stage's start: a process whose
    last line is minutes old (a test session, a notebook) must not print a bad-input run's stage."""
    monkeypatch.setenv("NOETHER_PROGRESS", "plain")
    monkeypatch.setattr(progress._plain, "last_emit", clock["t"] - 1000.0)
    with pytest.raises(ValueError), progress.stage("enumerate"):
        progress._plain.heartbeat()
        raise ValueError("depth 100 is too deep")
    assert capsys.readouterr().err == ""
