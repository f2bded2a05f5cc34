"""A core-only install (no ``[video]`` extra): the CLI starts without loading any extra, discover / export / dsl
work, and every ``noether video`` command says in one line which extra to install and exits 2 without writing.

The extras are hidden from a fresh interpreter by an import hook, so this runs in the full test environment; one
interpreter runs every command (with click's CliRunner) and reports back as JSON. CI also checks a real core-only
venv built from the wheel (the Makefile's ``smoke``, ``.ci/smoke.sh``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

EXTRAS = ("gymnasium", "pymunk", "skimage", "torchmetrics", "pygame")

SCRIPT = textwrap.dedent("""
    import importlib.abc, importlib.util, json, sys

    EXTRAS = {extras!r}

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in EXTRAS:
                raise ModuleNotFoundError(f"No module named '{{name}}' (hidden: core-only test)")
            return None

    sys.meta_path.insert(0, Hide())
    _find = importlib.util.find_spec
    importlib.util.find_spec = lambda name, package=None: None if name.split(".")[0] in EXTRAS else _find(name, package)

    from click.testing import CliRunner
    from noether.cli import cli

    report = {{"loaded_extras": sorted(m for m in sys.modules if m.split(".")[0] in EXTRAS), "runs": []}}
    for args in json.loads(sys.argv[1]):
        res = CliRunner().invoke(cli, args)
        report["runs"].append({{"args": args, "code": res.exit_code, "stdout": res.stdout, "stderr": res.stderr,
                               "exception": None if res.exception is None or isinstance(res.exception, SystemExit)
                               else repr(res.exception)}})
    print(json.dumps(report))
""").format(extras=EXTRAS)


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    """Every command of the test, run once in one interpreter without the extras."""
    tmp = tmp_path_factory.mktemp("core")
    out = tmp / "run"
    commands = [
        ["--help"],
        ["video", "make-data", "ramp", "--cache-dir", str(tmp / "video")],
        ["video", "train", "ramp", "--out", str(tmp / "train")],
        ["video", "evaluate", str(tmp / "train")],
        ["discover", "--system", "spring", "--stage", "filter", "--max-params", "1", "--no-cache", "--out", str(out)],
        ["export", str(out / "laws.json"), "--format", "python"],
        ["dsl", "count", "--system", "spring", "--depth", "3"],
    ]
    env = {**os.environ, "NOETHER_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report, {tuple(r["args"][:2]): r for r in report["runs"]}, tmp


def test_the_cli_starts_and_loads_no_extra(core):
    report, runs, _ = core
    assert report["loaded_extras"] == []
    assert runs[("--help",)]["code"] == 0 and "video" in runs[("--help",)]["stdout"]


@pytest.mark.parametrize("command", ["make-data", "train", "evaluate"])
def test_video_commands_name_the_extra_and_exit_2(core, command):
    _, runs, tmp = core
    run = runs[("video", command)]
    assert run["code"] == 2 and run["exception"] is None, run
    lines = run["stderr"].strip().splitlines()
    assert len(lines) == 1 and "pip install 'noether-networks[video]'" in lines[0] and "torchmetrics" in lines[0], lines
    assert not (tmp / "video").exists() and not (tmp / "train").exists()  # nothing written


def test_discover_export_and_dsl_run_without_the_extra(core):
    _, runs, tmp = core
    for key in (("discover", "--system"), ("export", str(tmp / "run" / "laws.json")), ("dsl", "count")):
        assert runs[key]["code"] == 0, runs[key]
    laws = json.loads((tmp / "run" / "laws.json").read_text())["laws"]
    assert laws and "s_true" in laws[0]
    assert "def law(q, p)" in runs[("export", str(tmp / "run" / "laws.json"))]["stdout"]
