"""Training as the paper's code does it: the summed task loss, CN layers restarted at the identity, posterior z on
the conditioning frames, and early stopping on the validation split (the ``pilot`` presets)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from noether.video.config import preset_config
from noether.video.noether_net import Query, task_loss
from noether.video.train import CHECKPOINT, RUN_JSON, load_run, train_run, validation_loss


def test_task_loss_sums_the_frames_as_svg(ramp_net, ramp_query):
    net = ramp_net("svg")
    q = ramp_query(net, T=5)
    r = net.rollout(q)
    per_frame = (r.frames - q.frames[:, 1:]).square().flatten(2).mean(2)  # [B, T-1]
    torch.testing.assert_close(task_loss(q, r, 0.0, "paper"), per_frame.sum(1).mean())
    torch.testing.assert_close(task_loss(q, r, 0.0, "mean"), per_frame.mean(1).mean())
    assert torch.allclose(task_loss(q, r, 0.5) - task_loss(q, r, 0.0), 0.5 * r.kl.mean())


def test_conditioning_frames_set_z_through_the_posterior(ramp_net, ramp_query):
    """At test time the prediction of frame 1 (a conditioning frame's successor) reads frame 1 through the
    posterior; with ``cond_z="prior"`` it cannot."""
    for cond_z, depends in (("posterior", True), ("prior", False)):
        net = ramp_net("svg")
        net.predictor.config = type(net.predictor.config)(**{**net.predictor.config.__dict__, "cond_z": cond_z})
        q = ramp_query(net, T=5, teacher_forcing=False)
        q = Query(q.frames, 3, eps=torch.ones_like(q.eps), teacher_forcing=False)
        other = q.frames.clone()
        other[:, 1] = torch.rand_like(other[:, 1])
        a = net.rollout(q).frames[:, 0]
        b = net.rollout(Query(other, 3, eps=q.eps, teacher_forcing=False)).frames[:, 0]
        assert (not torch.allclose(a, b)) == depends


def test_cn_layers_restart_at_the_identity_and_are_not_trained(tmp_path):
    for start, moved in (("identity", False), ("learned", True)):
        cfg = preset_config("ramp", "noether", "ci", steps=2, cn_start=start)
        train_run(cfg, tmp_path / start, device="cpu")
        _, net, _ = load_run(tmp_path / start, "cpu")
        cn = net.predictor.theta_cn()
        at_identity = all(
            torch.equal(v, torch.ones_like(v) if k.endswith("gamma") else torch.zeros_like(v)) for k, v in cn.items()
        )
        assert cn and at_identity != moved


def test_early_stopping_keeps_the_best_validation_weights(tmp_path):
    cfg = preset_config("pendulum-controlled", "svg", "ci", steps=6, val_every=1, patience=2)
    out = tmp_path / "run"
    result = train_run(cfg, out, device="cpu")
    log = json.loads((out / RUN_JSON).read_text())["validation"]
    assert result.steps == cfg.total_steps  # a stopped phase jumps to its end: the run counts as finished
    assert [row[0] for row in log][0] == 0 and len(log) >= 2
    best = min(row[2] for row in log)
    from noether.video.data import load_video_dataset

    _, net, meta = load_run(out, "cpu")
    data = load_video_dataset(cfg.dataset, preset=cfg.preset, seed=0)
    assert abs(validation_loss(net, cfg, data, "cpu", False) - best) <= 1e-6 * best
    bad, expected_end = 0, cfg.steps  # where the phase must end: two scores in a row without improvement
    for (step, _, value, _), previous_best in zip(log[1:], [r[3] for r in log]):
        bad = 0 if value < previous_best else bad + 1
        if bad >= 2:
            expected_end = step
            break
    assert log[-1][0] == expected_end
    assert (out / CHECKPOINT).exists()
    # the steps taken, not the budget the early stop jumped to
    assert json.loads((out / RUN_JSON).read_text())["trained_steps"] == expected_end == meta["trained_steps"]


def test_frozen_base_tailoring_keeps_the_svg_weights_and_trains_only_the_embedding(tmp_path):
    """pendulum-pixels protocol: the law plug-in and the learned embedding start from a finished svg run, fit
    (the law's readout, then) the embedding with Algorithm 1 while f_θ stays the svg run's; svg-more trains on."""
    from noether.video.schedule import phases

    svg = preset_config("pendulum-pixels", "svg", "ci", steps=2)
    train_run(svg, tmp_path / "svg", device="cpu")
    _, base, _ = load_run(tmp_path / "svg", "cpu")
    for method, extra in (("noether-law", {"law_expr": "p**2 - 2.4*cos(q)"}), ("noether", {}), ("svg-more", {})):
        cfg = preset_config("pendulum-pixels", method, "ci", steps=2, tune_steps=2, freeze_base=True)
        assert phases(cfg, 20, 20)[0].name == "base" and cfg.total_steps == 2 + 2
        train_run(cfg, tmp_path / method, device="cpu", init=tmp_path / "svg", **extra)
        _, net, meta = load_run(tmp_path / method, "cpu")
        same = all(torch.equal(v, base.predictor.state_dict()[k]) for k, v in net.predictor.state_dict().items())
        assert same == (method != "svg-more"), method
        assert meta["step"] == cfg.total_steps + (cfg.readout_steps if method == "noether-law" else 0)


def test_free_running_training_reads_its_own_predictions(ramp_net, ramp_query):
    """teacher_forcing=False: the training rollout's later predictions do not read the true later frames."""
    net = ramp_net("svg")
    q = ramp_query(net, T=5, teacher_forcing=False)
    other = q.frames.clone()
    other[:, 3:] = torch.rand_like(other[:, 3:])
    free = net.rollout(Query(other, 2, eps=q.eps, teacher_forcing=False)).frames
    assert torch.allclose(net.rollout(Query(q.frames, 2, eps=q.eps, teacher_forcing=False)).frames, free)
    forced = net.rollout(Query(other, 2, eps=q.eps, teacher_forcing=True)).frames
    assert not torch.allclose(forced[:, 3:], free[:, 3:])


def test_free_running_phase_follows_the_base_and_what_builds_on_it_starts_after_it(tmp_path):
    from noether.video.schedule import phases

    svg = preset_config("pendulum-controlled", "svg", "ci", steps=2, free_steps=2)
    assert [(p.name, p.steps, p.free) for p in phases(svg, 10, 26)] == [("base", 2, False), ("free", 2, True)]
    assert svg.total_steps == 4
    more = preset_config("pendulum-controlled", "svg-more", "ci", steps=2, free_steps=2, tune_steps=3)
    assert [(p.name, p.steps) for p in phases(more, 10, 26)] == [("base", 2), ("free", 2), ("more", 3)]
    train_run(svg, tmp_path / "svg", device="cpu")
    noether = preset_config("pendulum-controlled", "noether", "ci", steps=2, free_steps=2, tune_steps=2)
    assert phases(noether, 10, 26)[-1].free
    result = train_run(noether, tmp_path / "noether", device="cpu", init=tmp_path / "svg")
    assert result.steps == 6
    no_free = preset_config("pendulum-controlled", "noether", "ci", steps=2, tune_steps=2)
    train_run(preset_config("pendulum-controlled", "svg", "ci", steps=1), tmp_path / "short", device="cpu")
    with pytest.raises(Exception, match="not a finished svg run"):
        train_run(no_free, tmp_path / "refused", device="cpu", init=tmp_path / "short")


@pytest.mark.parametrize("free_steps", [0, 2])
def test_every_method_trains_on_the_same_predicted_frames_per_phase(free_steps):
    """App. D: the continuations of the svg run (svg-more's extra steps, the Noether tune phase, the law's) train on
    the windows of the svg run's last phase, and every method's shared phases are the svg run's."""
    from noether.video.catalog import METHODS
    from noether.video.schedule import phases

    schedules = {
        m: phases(preset_config("pendulum-controlled", m, "ci", steps=2, free_steps=free_steps, tune_steps=3), 10, 26)
        for m in METHODS
    }
    svg = [(p.name, p.frames, p.free) for p in schedules["svg"]]
    for method, schedule in schedules.items():
        assert [(p.name, p.frames, p.free) for p in schedule[: len(svg)]] == svg, method
    continuations = [schedules[m][-1] for m in METHODS if m != "svg"]
    assert {(p.frames, p.free, p.steps, p.selected) for p in continuations} == {(svg[-1][1], svg[-1][2], 3, False)}
    assert svg[0][1] == 10 and svg[-1][1] == (26 if free_steps else 10)


def test_svg_more_trains_exactly_its_fixed_extra_steps_from_the_svg_run(tmp_path):
    """svg-more: exactly tune_steps optimiser steps after the svg run, none skipped by early stopping and no
    earlier checkpoint chosen, even when validation gets worse (lr 0.1, validated every step, patience 1)."""
    kw = dict(steps=2, tune_steps=5, val_every=1, patience=1, lr=0.1)
    train_run(preset_config("pendulum-controlled", "svg", "ci", **kw), tmp_path / "svg", device="cpu")
    more = preset_config("pendulum-controlled", "svg-more", "ci", **kw)
    train_run(more, tmp_path / "more", device="cpu", init=tmp_path / "svg")
    history = torch.load(tmp_path / "more" / CHECKPOINT, weights_only=False)["history"]
    extra = [row for row in history if row[1] == "more"]
    assert [row[0] for row in extra] == list(range(2, 7))  # five steps, each trained and recorded
    opt = torch.load(tmp_path / "more" / CHECKPOINT, weights_only=False)["opt_theta"]["state"]
    base_opt = torch.load(tmp_path / "svg" / CHECKPOINT, weights_only=False)["opt_theta"]["state"]
    assert int(next(iter(opt.values()))["step"]) == int(next(iter(base_opt.values()))["step"]) + 5
    log = json.loads((tmp_path / "more" / RUN_JSON).read_text())["validation"]
    assert all(row[1] != "more" for row in log)  # the extra steps are not validated, so nothing is selected


def test_the_free_phase_adds_the_teacher_forced_loss_at_its_weight(tmp_path):
    plain = preset_config("pendulum-controlled", "svg", "ci", steps=2, free_steps=2)
    train_run(plain, tmp_path / "plain", device="cpu")
    mixed = dataclasses.replace(plain, free_tf_weight=1.0)
    train_run(mixed, tmp_path / "mixed", device="cpu")
    h_plain = torch.load(tmp_path / "plain" / CHECKPOINT, weights_only=False)["history"]
    h_mixed = torch.load(tmp_path / "mixed" / CHECKPOINT, weights_only=False)["history"]
    assert [h[2] for h in h_plain[:2]] == [h[2] for h in h_mixed[:2]]  # the base is the same
    assert h_mixed[2][1] == "free" and h_mixed[2][2] > h_plain[2][2]  # same weights, one more (positive) term
    with pytest.raises(ValueError, match="free_tf_weight"):
        dataclasses.replace(plain, free_tf_weight=-1.0)


def test_the_geometric_validation_score_weighs_each_horizon_s_relative_error_alike():
    from noether.video.early_stop import horizon_score

    errors = torch.tensor([1e-4, 1e-2])
    assert horizon_score(errors, "mean") == pytest.approx(5.05e-3)
    assert horizon_score(errors, "geometric") == pytest.approx(1e-3)
    near, far = torch.tensor([0.5e-4, 1e-2]), torch.tensor([1e-4, 0.5e-2])
    assert horizon_score(near, "geometric") == pytest.approx(horizon_score(far, "geometric"))
    assert horizon_score(near, "mean") > horizon_score(far, "mean")
    with pytest.raises(ValueError, match="metric"):
        horizon_score(errors, "median")
    with pytest.raises(ValueError, match="val_metric"):
        preset_config("pendulum-controlled", "svg", "ci", val_metric="median")


def test_a_checkpoint_from_before_a_new_field_resumes_with_its_default(tmp_path):
    cfg = preset_config("pendulum-controlled", "svg", "ci", steps=4)
    train_run(cfg, tmp_path / "run", device="cpu", max_steps=2)
    state = torch.load(tmp_path / "run" / CHECKPOINT, weights_only=False)
    del state["meta"]["config"]["free_steps"]  # as written before the field existed
    torch.save(state, tmp_path / "run" / CHECKPOINT)
    assert train_run(cfg, tmp_path / "run", device="cpu").steps == 4
    with pytest.raises(Exception, match="different configuration"):
        train_run(
            preset_config("pendulum-controlled", "svg", "ci", steps=4, free_steps=1), tmp_path / "run", device="cpu"
        )


def test_a_law_with_a_fixed_readout_meta_learns_only_its_scale(tmp_path):
    cfg = preset_config(
        "pendulum-pixels", "noether-law", "ci", steps=2, readout_steps=2, tune_steps=3, train_readout=False, emb_lr=1e-2
    )
    law = {"law_expr": "p**2 - 3*cos(q)"}
    train_run(cfg, tmp_path / "law", device="cpu", max_steps=4, **law)  # base and readout fit only
    fitted = torch.load(tmp_path / "law" / CHECKPOINT, weights_only=False)["net"]
    train_run(cfg, tmp_path / "law", device="cpu", **law)
    tuned = torch.load(tmp_path / "law" / CHECKPOINT, weights_only=False)["net"]
    readout = [k for k in tuned if ".readout." in k]
    assert readout and all(torch.equal(tuned[k], fitted[k]) for k in readout)
    assert not torch.equal(tuned["embedding.log_scale"], fitted["embedding.log_scale"])


def test_the_law_scale_starts_at_the_grid_value_validation_prefers():
    import math

    from noether.video.train import start_scale

    emb = torch.nn.Module()
    emb.log_scale = torch.nn.Parameter(torch.zeros(()))
    best = 0.1
    rows = start_scale(emb, (1.0, 0.3, 0.1, 0.03), lambda: abs(float(emb.log_scale) - math.log(best)))
    assert [s for s, _ in rows] == [1.0, 0.3, 0.1, 0.03]
    assert math.isclose(float(emb.log_scale.exp()), best, rel_tol=1e-6)


def test_the_law_tune_phase_records_its_scale_search(tmp_path):
    cfg = preset_config(
        "pendulum-pixels",
        "noether-law",
        "ci",
        steps=1,
        readout_steps=1,
        tune_steps=2,
        train_readout=False,
        scale_grid=(1.0, 0.1),
        val_every=1,
        patience=2,
    )
    train_run(cfg, tmp_path / "law", device="cpu", law_expr="p**2 - 3*cos(q)")
    rows = json.loads((tmp_path / "law" / RUN_JSON).read_text())["scale_search"]
    assert [s for s, _ in rows] == [1.0, 0.1] and all(v > 0 for _, v in rows)


def test_the_base_phase_is_not_stopped_before_min_base_steps(tmp_path):
    """At lr 0.1 the validation MSE gets worse after one step: patience 1 stops the phase there, unless the floor
    says not before step 6."""
    last = {}
    for floor in (0, 6):
        cfg = preset_config(
            "pendulum-controlled", "svg", "ci", steps=8, val_every=1, patience=1, min_base_steps=floor, lr=0.1
        )
        train_run(cfg, tmp_path / str(floor), device="cpu")
        last[floor] = json.loads((tmp_path / str(floor) / RUN_JSON).read_text())["validation"][-1][0]
    assert last[0] < 6 <= last[6]
