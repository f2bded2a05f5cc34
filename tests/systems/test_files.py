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


@pytest.mark.parametrize("text,msg", [
    ("", "empty"),
    ("trajectory,time,q,p\n", "no rows"),
    (GOOD.replace("q,p", "q,r"), r"missing column.*'p'"),
    # every error about a cell names the file's line (header = line 1): i = 1 is line 3, i = 4 line 6
    (GOOD.replace("0.1,", "nan,", 1), r"NaN cell in column 'q' \(line 3\)"),
    (GOOD.replace("0.4,", "inf,", 1), r"non-finite value inf in column 'q' \(line 6, trajectory '1'\)"),
    (GOOD.replace("0.1,", "abc,", 1), r"non-numeric value 'abc' in column 'q' \(line 3\)"),
    (GOOD.replace("0,2,", "0,0.5,", 1), "time is not increasing in trajectory '0'"),
    ("trajectory,time,q,p\n0,0,1,1\n0,1,1,1\n1,0,1,1\n1,1,1,1\n1,2,1,1\n", "trajectory '0' has 2 point"),
    (GOOD + "1,4,1,1\n", "different lengths"),
])
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
