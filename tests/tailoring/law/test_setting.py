"""InnerSetting: one set of defaults, the rate grid that goes with the step, one clear error per bad value."""

import pytest

from noether.tailoring import InnerSetting
from noether.tailoring.law.setting import NEWTON_ALPHAS, PAPER_LRS


def test_default_rate_grid_follows_the_inner_step():
    assert InnerSetting().grid == NEWTON_ALPHAS
    assert InnerSetting(kind="sgd").grid == PAPER_LRS
    assert InnerSetting(rates=(0.5,)).grid == (0.5,)
    paper = InnerSetting.paper()
    assert (paper.kind, paper.dt_scales, paper.law_lr, paper.grid) == ("sgd", (1.0,), 0.0, PAPER_LRS)


def test_pairs_cover_the_grid_dt_scale_major():
    pairs = InnerSetting(rates=(0.5, 1.0), dt_scales=(0.01, 0.1)).pairs()
    assert pairs == [(0.01, 0.5), (0.01, 1.0), (0.1, 0.5), (0.1, 1.0)]


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(kind="adam"), "inner step"),
        (dict(adapt="first"), "adapt"),
        (dict(dt_scales=()), "dt_scales"),
        (dict(dt_scales=(0.1, -1.0)), "dt_scales"),
        (dict(law_lr=-1e-3), "law_lr"),
        (dict(rates=(-1.0,)), "inner rates"),
        (dict(rates=()), "inner rates"),
    ],
)
def test_bad_settings_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        InnerSetting(**bad)
