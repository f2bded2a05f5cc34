"""``noether video train`` / ``evaluate`` end to end on the ci preset; checkpoints resume deterministically."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from noether.cli import cli
from noether.dsl import Law
from noether.pipeline import RankedLaw, write_laws
from noether.video.config import preset_config
from noether.video.train import CHECKPOINT, train_run


def _run(*args):
    result = CliRunner().invoke(cli, ["video", *map(str, args)])
    return result


@pytest.mark.slow
def test_train_and_evaluate_ramp_with_inner_steps_study(tmp_path):
    for method in ("svg", "noether"):
        r = _run("train", "ramp", "--method", method, "--preset", "ci", "--out", tmp_path / method)
        assert r.exit_code == 0, r.output
        assert (tmp_path / method / CHECKPOINT).exists() and (tmp_path / method / "run.json").exists()
    r = _run("evaluate", tmp_path / "svg", tmp_path / "noether", "--out", tmp_path / "eval", "--study-steps", "2")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    labels = [run["label"] for run in doc["runs"]]
    assert labels == ["svg", "noether"]
    for run in doc["runs"]:
        for metric in ("mse", "psnr", "ssim"):
            arr = torch.tensor(run[metric])
            assert arr.shape[1] == 20 and torch.isfinite(arr).all()
    study = next(iter(doc["inner_steps"].values()))
    assert len(study["inner"]) == len(study["outer"]) == 3
    assert (tmp_path / "eval" / "horizon.png").stat().st_size > 0
    # Figs. 5/7 of the trained Noether run: PCA of its embedding, Grad-CAM grids; svg has no embedding to explain
    # drawn only for an embedding that separates truth from prediction (>= 75% of windows), else said inert
    r = _run("explain", tmp_path / "noether", "--sequences", "2", "--dims", "3", "--examples", "1")
    assert r.exit_code == 0, r.output
    share = float(r.output.split("higher on ")[1].split("%")[0]) / 100
    assert ("inert" in r.output) == (share < 0.75) == (not (tmp_path / "noether" / "explain").exists())
    r = _run("explain", tmp_path / "noether", "--sequences", "2", "--dims", "3", "--examples", "1", "--even-if-inert")
    assert r.exit_code == 0 and "explained variance" in r.output, r.output
    assert [p.name for p in sorted((tmp_path / "noether" / "explain").iterdir())] == [
        "embedding_pca.png",
        "grad_cam_0.png",
    ]
    r = _run("explain", tmp_path / "svg")
    assert r.exit_code != 0 and "no frame embedding" in r.output
    # re-running a finished run resumes (nothing left to do); a different config in its directory is refused
    again = _run("train", "ramp", "--method", "svg", "--preset", "ci", "--out", tmp_path / "svg")
    assert again.exit_code == 0 and "2 steps" in again.output
    other = _run("train", "ramp", "--method", "svg", "--preset", "ci", "--steps", "3", "--out", tmp_path / "svg")
    assert other.exit_code == 2 and "different configuration" in other.output


@pytest.mark.slow
def test_law_plug_in_and_controlled_pendulum_from_the_cli(tmp_path):
    laws = tmp_path / "laws.json"  # as the discover pipeline writes it: formula tree, units, fitted parameter
    law = Law.parse("p**2 - c*cos(q)", ["q", "p"], {"q": "rad", "p": "rad/s"}, params={"c": 3.0})
    write_laws(laws, [RankedLaw(1, law)], {})
    r = _run("train", "pendulum-pixels", "--method", "noether-law", "--law", laws, "--out", tmp_path / "law")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "law" / "run.json").read_text())["law"].replace(" ", "") in (
        "p**2-3*cos(q)",
        "-3*cos(q)+p**2",
    )
    missing = _run("train", "pendulum-pixels", "--method", "noether-law", "--out", tmp_path / "x")
    assert missing.exit_code == 2 and "needs --law laws.json" in missing.output
    r = _run("train", "pendulum-controlled", "--method", "svg", "--out", tmp_path / "svg")
    assert r.exit_code == 0, r.output
    r = _run(
        "train", "pendulum-controlled", "--method", "noether", "--init", tmp_path / "svg", "--out", tmp_path / "noether"
    )
    assert r.exit_code == 0, r.output
    r = _run("evaluate", tmp_path / "svg", tmp_path / "noether", tmp_path / "law", "--out", tmp_path / "eval")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert [len(run["mse"][0]) for run in doc["runs"]] == [26, 26, 20]


def test_resumed_training_equals_uninterrupted_training(tmp_path):
    cfg = preset_config("pendulum-pixels", "svg", "ci", steps=3, ckpt_every=1)
    train_run(cfg, tmp_path / "full", device="cpu")
    train_run(cfg, tmp_path / "split", device="cpu", max_steps=1)
    assert torch.load(tmp_path / "split" / CHECKPOINT, weights_only=False)["step"] == 1
    assert not (tmp_path / "split" / "run.json").exists()
    train_run(cfg, tmp_path / "split", device="cpu")
    a = torch.load(tmp_path / "full" / CHECKPOINT, weights_only=False)
    b = torch.load(tmp_path / "split" / CHECKPOINT, weights_only=False)
    assert a["step"] == b["step"] == 3
    for k in a["net"]:
        assert torch.equal(a["net"][k], b["net"][k]), k


def test_the_law_plug_in_on_the_controlled_pendulum_and_its_errors(tmp_path):
    laws = tmp_path / "laws.json"
    write_laws(
        laws,
        [
            RankedLaw(1, Law.reference("p**2 + 30*cos(q) - 6*w", ["q", "p", "w"])),
            RankedLaw(2, Law.reference("p**2 + 30*cos(q)", ["q", "p"])),
        ],
        {},
    )
    assert _run("train", "pendulum-controlled", "--out", tmp_path / "svg").exit_code == 0
    r = _run(
        "train",
        "pendulum-controlled",
        "--method",
        "noether-law",
        "--law",
        laws,
        "--law-rank",
        "2",
        "--init",
        tmp_path / "svg",
        "--out",
        tmp_path / "law",
    )
    assert r.exit_code == 0, r.output
    assert "w" not in json.loads((tmp_path / "law" / "run.json").read_text())["law"]
    refused = _run("train", "pendulum-controlled", "--method", "svg", "--law", laws, "--out", tmp_path / "x")
    assert refused.exit_code == 2 and refused.output.strip().count("\n") == 0 and "takes no law" in refused.output
    assert not (tmp_path / "x").exists()
    lacking = _run("train", "pendulum-pixels", "--method", "noether-law", "--law", laws, "--out", tmp_path / "y")
    assert lacking.exit_code == 2 and "only gives ['q', 'p']" in lacking.output
    ramp = _run("train", "ramp", "--method", "noether-law", "--law-expr", "p**2", "--out", tmp_path / "z")
    assert ramp.exit_code == 2 and "known states" in ramp.output
    help_text = " ".join(_run("train", "--help").output.split())
    assert "pendulum-controlled (q, p, w); pendulum-pixels (q, p)" in help_text
