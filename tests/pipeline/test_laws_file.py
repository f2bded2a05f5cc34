"""laws.json from older versions is still read: renamed keys are mapped to today's names (CHANGELOG.md)."""

import json

from noether.pipeline.laws_file import read_laws


def test_an_old_record_s_inner_setting_is_read_under_its_new_name(tmp_path):
    path = tmp_path / "laws.json"
    # a 0.1.x record of 2026-11-25: hand-written expression, the screen's setting under its old keys, no verdict
    record = {"rank": 1, "expression": "p**2 - 3*cos(q)", "inner_lr": 0.25, "inner_dt_scale": 0.1, "ratio": 9.1}
    path.write_text(json.dumps({"version": 1, "laws": [record], "meta": {"versions": {"noether": "0.1.0"}}}))
    (law,), meta = read_laws(path)
    assert law.scores == {"screen_inner_lr": 0.25, "screen_inner_dt_scale": 0.1, "ratio": 9.1}
    assert "verdict" not in law.scores and meta["versions"]["noether"] == "0.1.0"
