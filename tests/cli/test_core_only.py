"""A core-only install (no ``[video]`` extra): the CLI starts, discover / export / dsl / systems work, and every
``noether video`` command says in one line which extra to install and exits 2. The extras are hidden from a fresh
interpreter by an import hook, so this runs in the full test environment too (CI also checks a real core-only
venv, see the Makefile's ``smoke-core``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

EXTRAS = ("gymnasium", "pymunk", "skimage", "torchmetrics", "pygame")

HIDE = textwrap.dedent(f"""
    import importlib.abc, importlib.machinery, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {EXTRAS!r}:
                raise ModuleNotFoundError(f"No module named '{{name}}' (hidden: core-only test)")
            return None

    sys.meta_path.insert(0, Hide())
    importlib.machinery.PathFinder.invalidate_caches()
    import importlib.util
    _find = importlib.util.find_spec
    importlib.util.find_spec = lambda name, package=None: None if name.split(".")[0] in {EXTRAS!r} else _find(name, package)
""")


def noether(*args: str, cwd=None) -> subprocess.CompletedProcess:
    code = HIDE + "\nimport sys\nfrom noether.cli import main\nsys.argv = ['noether', *sys.argv[1:]]\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd,
                          env={**__import__("os").environ, "NOETHER_PROGRESS": "0"})


def test_the_cli_starts_and_loads_no_extra():
    code = HIDE + "\nimport sys, noether.cli\nprint(sorted(m for m in sys.modules if m.split('.')[0] in " \
        f"{EXTRAS!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    res = noether("--help")
    assert res.returncode == 0 and "discover" in res.stdout and "video" in res.stdout


@pytest.mark.parametrize("args", [("make-data", "ramp"), ("train", "ramp", "--out", "x"), ("evaluate", "x")])
def test_video_commands_name_the_extra_and_exit_2(args, tmp_path):
    res = noether("video", *args, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'noether[video]'" in lines[0] and "torchmetrics" in lines[0], lines
    assert not any(tmp_path.iterdir())  # nothing written


def test_discover_and_export_run_without_the_extra(tmp_path):
    out = tmp_path / "run"
    res = noether("discover", "--system", "spring", "--stage", "filter", "--no-cache", "--out", str(out))
    assert res.returncode == 0, res.stderr
    laws = json.loads((out / "laws.json").read_text())["laws"]
    assert laws and "s_true" in laws[0]
    exported = noether("export", str(out / "laws.json"), "--format", "python")
    assert exported.returncode == 0 and "def law(q, p)" in exported.stdout
    assert noether("dsl", "count", "--system", "spring", "--depth", "3").returncode == 0
