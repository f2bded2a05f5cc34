"""The stage cache is keyed by what decides a stage's result: how the work is run (threads) does not key it, a
setting of the result does, and an unreadable entry is recomputed with one warning."""

import warnings
from dataclasses import replace

import pytest

import noether
from noether.discovery import FilterConfig, GradientConfig
from noether.pipeline import DiscoverConfig, discover
from noether.pipeline.cache import CacheWarning

FAST = FilterConfig(gradient=GradientConfig(restarts=1, steps=4, fit_points=128, polish_steps=1))


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    traj = noether.load_system("spring")
    config = DiscoverConfig(depth=4, stage="filter", filter=FAST, cache_dir=str(cache))
    return traj, config, discover(traj, config)


def test_changing_only_the_threads_reuses_the_cached_filter(first):
    traj, config, result = first
    again = discover(traj, replace(config, filter=replace(FAST, jobs=2, memory_mb=64)))
    assert result.cached == () and again.cached == ("filter",)
    assert again.filter.table.equals(result.filter.table)


def test_a_setting_of_the_result_is_another_key(first):
    traj, config, _ = first
    assert discover(traj, replace(config, filter=replace(FAST, window=10))).cached == ()
    assert discover(traj, replace(config, seed=1)).cached == ()


def test_an_unreadable_entry_is_recomputed_with_one_warning(first, tmp_path):
    traj, _, result = first
    config = DiscoverConfig(depth=4, stage="filter", filter=FAST, cache_dir=str(tmp_path))
    discover(traj, config)
    outputs = list(tmp_path.rglob("output.pkl"))
    assert outputs
    for path in outputs:
        path.write_bytes(path.read_bytes()[:20])  # truncated, as by a full disk or a killed write
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = discover(traj, config)
    ours = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(ours) == 1 and "filter" in str(ours[0].message)
    assert again.cached == ()  # reported as computed, not as read from the cache
    assert again.filter.table.equals(result.filter.table)
    assert discover(traj, config).cached == ("filter",)  # and stored again
