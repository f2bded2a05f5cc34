"""Atomic writes: nothing half-written on failure, and files get the mode a normal write gives (umask applied)."""

import os

import pytest

from noether.io import atomic_path, atomic_write_text


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_respect_the_umask(tmp_path, umask):
    before = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("x")
    finally:
        os.umask(before)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == (tmp_path / "plain.txt").stat().st_mode & 0o777
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "b.json") as tmp:
            tmp.write_text("half")
            raise RuntimeError("stage failed")
    assert list(tmp_path.iterdir()) == []


def test_the_tests_cache_is_private(tmp_path_factory):
    from noether.io import cache_root

    assert str(cache_root()).startswith(str(tmp_path_factory.getbasetemp()))
