"""Video datasets: shapes, determinism under a seed, caching, flips, errors and the CLI (ci preset)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from noether.cli import cli
from noether.errors import DataError, UnknownSystemError
from noether.video.data import VIDEO_DATASETS, cache_path, load_video_dataset, save_strip

EXPECTED = {  # name -> (n_cond, n_pred, n_pred_train, extras {key: (trailing shape, dtype)})
    "pendulum-controlled": (4, 26, 10, {"actions": ((1,), torch.float32), "states": ((2,), torch.float64)}),
    "ramp": (2, 20, 20, {}),
    "pendulum-pixels": (2, 20, 20, {"states": ((2,), torch.float64)}),
}


@pytest.fixture(scope="module")
def ci_data():
    return {name: load_video_dataset(name, preset="ci", seed=0, cache=False) for name in VIDEO_DATASETS}


def test_registry_lists_the_three_datasets():
    assert set(VIDEO_DATASETS) == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_samples_have_the_stated_shapes(ci_data, name):
    ds = ci_data[name]
    n_cond, n_pred, n_pred_train, extras = EXPECTED[name]
    assert (ds.name, ds.n_cond, ds.n_pred, ds.n_pred_train) == (name, n_cond, n_pred, n_pred_train)
    assert len(ds.train) > 0 and len(ds.test) > 0
    for split in (ds.train, ds.test):
        for i in (0, len(split) - 1):
            s = split[i]
            assert set(s) == {"frames", *extras}
            assert s["frames"].shape == (n_cond + n_pred, 3, 64, 64)
            assert s["frames"].dtype == torch.float32
            assert 0.0 <= s["frames"].min() and s["frames"].max() <= 1.0
            assert s["frames"].std() > 0.01  # not blank
            for key, (trailing, dtype) in extras.items():
                assert s[key].shape == (n_cond + n_pred, *trailing) and s[key].dtype == dtype
    batch = next(iter(torch.utils.data.DataLoader(ds.train, batch_size=2)))
    assert batch["frames"].shape == (2, n_cond + n_pred, 3, 64, 64)


def test_ci_sizes_and_splits(ci_data):
    pc, ramp, pix = ci_data["pendulum-controlled"], ci_data["ramp"], ci_data["pendulum-pixels"]
    assert (len(pc.train), len(pc.test), len(pc.val)) == (2 * (40 - 30 + 1), 2, 1)  # 2 + 2 + 1 episodes, 40 steps
    assert (len(ramp.train), len(ramp.test)) == (8, 2)  # 10 sequences, 80/20
    assert set(ramp.arrays["train_index"]).isdisjoint(ramp.arrays["test_index"])
    # 6 HNN trajectories of 45 points: 3 train of which the last is validation, 3 test
    assert (len(pix.train), len(pix.test), len(pix.val)) == (2 * (45 - 22 + 1), 3 * 2, 2)


def test_validation_episodes_are_their_own(ci_data):
    """Validation windows come from episodes that neither train nor test windows touch."""
    for ds in (ci_data["pendulum-controlled"], ci_data["pendulum-pixels"]):
        val = set(ds.val.windows[:, 0])
        assert val and val.isdisjoint(ds.train.windows[:, 0]) and val.isdisjoint(ds.test.windows[:, 0])


@pytest.mark.parametrize("name", list(EXPECTED))
def test_generation_is_deterministic_under_a_seed(ci_data, name):
    again = load_video_dataset(name, preset="ci", seed=0, cache=False)
    other = load_video_dataset(name, preset="ci", seed=1, cache=False)
    first = ci_data[name]
    assert first.arrays.keys() == again.arrays.keys()
    for key in first.arrays:
        np.testing.assert_array_equal(first.arrays[key], again.arrays[key], err_msg=key)
    assert not np.array_equal(first.arrays["frames"], other.arrays["frames"])
    assert torch.equal(first.train[3]["frames"], again.train[3]["frames"])


def test_cache_round_trip_is_exact_and_atomic(tmp_path, ci_data):
    ds = load_video_dataset("ramp", preset="ci", seed=0, root=tmp_path)
    path = cache_path("ramp", "ci", 0, 64, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary files left behind
    cached = load_video_dataset("ramp", preset="ci", seed=0, root=tmp_path)
    for key in ds.arrays:
        np.testing.assert_array_equal(ds.arrays[key], cached.arrays[key])
        np.testing.assert_array_equal(ds.arrays[key], ci_data["ramp"].arrays[key])
    assert cached.meta == ds.meta and cached.meta["preset"] == "ci"


def test_a_corrupt_cache_file_is_a_clear_error(tmp_path):
    cache_path("ramp", "ci", 0, 64, tmp_path).write_bytes(b"not an npz")
    with pytest.raises(DataError, match="unreadable"):
        load_video_dataset("ramp", preset="ci", root=tmp_path)


def test_ramp_training_flips_are_seeded_mirrors(ci_data):
    ds = ci_data["ramp"]
    train = ds.train
    flips = [train.flipped(i) for i in range(len(train))]
    for i, flipped in enumerate(flips):
        raw = torch.from_numpy(train.frames[train.windows[i, 0]]).permute(0, 3, 1, 2).float() / 255
        expected = raw.flip(-1) if flipped else raw
        assert torch.equal(train[i]["frames"], expected)
    per_epoch = []
    for epoch in range(6):
        train.set_epoch(epoch)
        per_epoch.append(tuple(train.flipped(i) for i in range(len(train))))
    train.set_epoch(0)
    assert tuple(flips) == per_epoch[0] and len(set(per_epoch)) > 1
    assert not any(ds.test.flipped(i) for i in range(len(ds.test)))


def test_bad_requests_raise_clear_errors():
    with pytest.raises(UnknownSystemError, match="unknown video dataset 'nope'"):
        load_video_dataset("nope")
    with pytest.raises(ValueError, match="preset"):
        load_video_dataset("ramp", preset="huge", cache=False)
    with pytest.raises(ValueError, match="frame size"):
        load_video_dataset("ramp", size=50, cache=False)
    with pytest.raises(IndexError):
        load_video_dataset("ramp", cache=False).test[99]


def test_cli_make_data_caches_and_saves_a_strip(tmp_path):
    runner = CliRunner()
    strip = tmp_path / "strip.png"
    args = [
        "video",
        "make-data",
        "pendulum-pixels",
        "--preset",
        "ci",
        "--size",
        "32",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--strip",
        str(strip),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "pendulum-pixels [ci, seed 0]" in result.output
    assert cache_path("pendulum-pixels", "ci", 0, 32, tmp_path / "cache").exists()
    assert strip.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(cli, ["video", "make-data", "ramp", "--size", "33", "--cache-dir", str(tmp_path)])
    assert bad.exit_code == 2 and "frame size" in bad.output


def test_save_strip_rejects_a_bad_shape(tmp_path):
    with pytest.raises(ValueError, match=r"\[T, C, H, W\]"):
        save_strip(torch.zeros(3, 8, 8), tmp_path / "x.png")
