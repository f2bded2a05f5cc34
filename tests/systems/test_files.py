"""User data files: round trips in every format, and one clear error per kind of bad input."""

import numpy as np
import pandas as pd
import pytest

from noether.errors import DataError, UnitError
from noether.systems import Trajectories, load_system, units_of


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npz"])
def test_round_trip(tmp_path, suffix):
    traj = load_system("pendulum")
    path = tmp_path / f"pend{suffix}"
    traj.to_file(path)
    back = Trajectories.from_file(path, ["q", "p"], units_of(traj))
    np.testing.assert_array_equal(back.states, traj.states)
    np.testing.assert_array_equal(back.times, traj.times)
    assert back.units == traj.units
    assert back.n_traj == 50 and (~back.train_mask).any()


def test_state_without_unit_gets_an_independent_dimension(tmp_path):
    path = tmp_path / "d.csv"
    load_system("spring").to_file(path)
    traj = Trajectories.from_file(path, "q,p", {"q": "m"})
    assert dict(traj.unit_of("p").dimensionality) == {"[state_p]": 1}
    assert traj.unit_of("p").dimensionality != traj.unit_of("q").dimensionality


def test_overridable_column_names(tmp_path):
    frame = pd.DataFrame({"run": [0, 0, 0, 1, 1, 1], "t": [0, 1, 2] * 2, "x": np.arange(6.0)})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    traj = Trajectories.from_file(path, ["x"], {"x": "m"}, trajectory_col="run", time_col="t")
    assert traj.states.shape == (2, 3, 1)


def _csv(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


GOOD = "trajectory,time,q,p\n" + "".join(f"{i // 4},{i % 4},{i * 0.1},{i * 0.2}\n" for i in range(8))


@pytest.mark.parametrize(
    "text,msg",
    [
        ("", "empty"),
        ("trajectory,time,q,p\n", "no rows"),
        (GOOD.replace("q,p", "q,r"), r"missing column.*'p'"),
        # every error about a cell names the file's line (header = line 1): i = 1 is line 3, i = 4 line 6
        (GOOD.replace("0.1,", "nan,", 1), r"NaN cell in column 'q' \(line 3\)"),
        (GOOD.replace("0.4,", "inf,", 1), r"non-finite value inf in column 'q' \(line 6, trajectory '1'\)"),
        (GOOD.replace("0.1,", "abc,", 1), r"non-numeric value 'abc' in column 'q' \(line 3\)"),
        (GOOD.replace("0,2,", "0,0.5,", 1), "time is not increasing in trajectory '0'"),
        ("trajectory,time,q,p\n0,0,1,1\n0,1,1,1\n1,0,1,1\n1,1,1,1\n1,2,1,1\n", "trajectory '0' has 2 point"),
        (GOOD.replace("0,2,", "0,1,", 1), r"a duplicate time stamp in trajectory '0' \(1.0 then 1.0, line 4\)"),
    ],
)
def test_bad_input_has_one_clear_error(tmp_path, text, msg):
    with pytest.raises(DataError, match=msg):
        Trajectories.from_file(_csv(tmp_path, text), "q,p", {"q": "rad"})


def test_unknown_unit_passes_pints_message(tmp_path):
    with pytest.raises(UnitError, match="furlongz.*not defined"):
        Trajectories.from_file(_csv(tmp_path, GOOD), "q,p", {"q": "furlongz"})


def test_unit_for_unknown_state_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="unknown state"):
        Trajectories.from_file(_csv(tmp_path, GOOD), "q,p", {"z": "m"})
    with pytest.raises(DataError, match="not found"):
        Trajectories.from_file(tmp_path / "nope.csv", "q,p")
    with pytest.raises(DataError, match="unsupported"):
        Trajectories.from_file(_csv(tmp_path, GOOD).rename(tmp_path / "x.txt"), "q,p")


def test_malformed_npz(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, trajectory=np.zeros(3), time=np.arange(4.0), q=np.zeros(3))
    with pytest.raises(DataError, match="different lengths"):
        Trajectories.from_file(path, "q")


@pytest.mark.parametrize("stem", ["spring", "real-pendulum"])
def test_a_file_named_like_a_built_in_system_inherits_none_of_its_facts(tmp_path, stem):
    from noether.pipeline.stages import reference_laws
    from noether.systems import paper_facts
    from noether.tailoring import TrainConfig

    path = tmp_path / f"{stem}.csv"
    load_system(stem).to_file(path)
    mine = Trajectories.from_file(path, "q,p")
    assert mine.name == stem and mine.system is None and load_system(stem).system == stem
    assert paper_facts(mine.system).law is None and reference_laws(mine, None) == {}
    assert TrainConfig.for_data(mine).weight_decay == 1e-4  # HNN's 1e-5 is for the real pendulum record only


def test_trajectories_of_different_lengths_and_irregular_times_are_kept_whole(tmp_path):
    rows = (
        [(0, t, float(np.sin(t)), float(np.cos(t))) for t in (0.0, 0.1, 0.25, 0.3, 0.5)]
        + [(1, t, float(np.sin(t)), float(np.cos(t))) for t in (0.0, 0.2, 0.3)]
        + [(2, t, float(np.sin(t)), float(np.cos(t))) for t in (0.0, 0.1, 0.2, 0.3)]
    )
    text = "trajectory,time,q,p\n" + "".join(f"{i},{t},{q!r},{p!r}\n" for i, t, q, p in rows)
    traj = Trajectories.from_file(_csv(tmp_path, text), "q,p", test_fraction=0.34)
    assert traj.lengths.tolist() == [5, 3, 4] and traj.ragged and not traj.regular
    assert np.isnan(traj.states[1, 3:]).all() and not traj.valid[1, 3:].any()
    assert traj.train_mask.sum() == 8 and traj.test_mask.sum() == 4  # the last trajectory is the test split
    assert "3-5 steps (median 4)" in traj.describe() and "irregular times" in traj.describe()
    x, dx = traj.points("train")
    assert x.shape == (8, 2) and np.isfinite(dx).all()
    np.testing.assert_allclose(traj.finite_difference()[0, 2], [np.cos(0.25), -np.sin(0.25)], rtol=0.02)
    train, test = traj.split()
    assert train.lengths.tolist() == [5, 3] and test.lengths.tolist() == [4]
    out = tmp_path / "again.csv"
    traj.to_file(out)  # only the samples are written, never the padding
    again = Trajectories.from_file(out, "q,p", test_fraction=0.34)
    assert len(pd.read_csv(out)) == 12 and np.array_equal(again.lengths, traj.lengths)
    np.testing.assert_array_equal(again.states[traj.valid], traj.states[traj.valid])


def test_derivative_columns_are_read_and_estimators_replace_them(tmp_path):
    t = np.linspace(0, 2, 9)
    text = "trajectory,time,q,p,dq,dp\n" + "".join(
        f"{i},{float(s)!r},{float(np.sin(s + i))!r},{float(np.cos(s + i))!r},{float(np.cos(s + i))!r},"
        f"{float(-np.sin(s + i))!r}\n"
        for i in range(2)
        for s in t
    )
    path = _csv(tmp_path, text)
    traj = Trajectories.from_file(path, "q,p", deriv_cols="dq,dp")
    np.testing.assert_array_equal(traj.dxdt()[1, :, 1], -np.sin(t + 1))  # exactly the file's column
    assert "given (columns dq, dp)" in traj.describe()
    spline = traj.with_derivatives("spline")
    assert "estimated (spline)" in spline.describe()
    np.testing.assert_allclose(spline.dxdt(), traj.dxdt(), atol=0.1)  # its end slopes are the loosest
    with pytest.raises(DataError, match="one derivative column per state"):
        Trajectories.from_file(path, "q,p", deriv_cols="dq")
    with pytest.raises(DataError, match=r"missing column.*'dz'"):
        Trajectories.from_file(path, "q,p", deriv_cols="dq,dz")


def test_cli_deriv_options(tmp_path):
    from click.testing import CliRunner

    from noether.cli import cli

    path = tmp_path / "d.csv"
    load_system("spring").select([0, 1, 2]).to_file(path)
    ok = CliRunner().invoke(cli, ["describe", "--data", str(path), "--state", "q,p", "--deriv", "savgol"])
    assert ok.exit_code == 0 and "estimated (savgol)" in ok.output, ok.output
    both = CliRunner().invoke(
        cli, ["describe", "--data", str(path), "--state", "q,p", "--deriv", "savgol", "--deriv-cols", "q,p"]
    )
    assert both.exit_code == 2 and "not both" in both.output
