"""TailorConfig: the inner-step settings of the pipeline are validated up front, with one clear error each."""

import pytest

from noether.discovery.tailor_stages import TailorConfig
from noether.tailoring.meta import NEWTON_ALPHAS, PAPER_LRS


def test_default_rate_grid_follows_the_inner_step():
    assert TailorConfig().inner_lrs == NEWTON_ALPHAS
    assert TailorConfig(inner_step="sgd").inner_lrs == PAPER_LRS
    assert TailorConfig(lrs=(0.5,)).inner_lrs == (0.5,)
    screen = TailorConfig(dt_scales=(0.05,)).screen_config()
    assert screen.dt_scales == (0.05,) and screen.step == "newton" and screen.lrs == NEWTON_ALPHAS


@pytest.mark.parametrize("bad, match", [
    (dict(inner_step="adam"), "inner step"),
    (dict(adapt="first"), "adapt"),
    (dict(dt_scales=()), "dt_scales"),
    (dict(dt_scales=(0.1, -1.0)), "dt_scales"),
    (dict(law_lr=-1e-3), "law_lr"),
    (dict(eval_lr_select="test"), "eval_lr_select"),
    (dict(lrs=(-1.0,)), "inner rates"),
])
def test_bad_settings_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        TailorConfig(**bad)
