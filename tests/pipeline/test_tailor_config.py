"""TailorConfig: one inner setting for stages 3-5, validated up front with one clear error each."""

import pytest

from noether.pipeline import TailorConfig
from noether.tailoring import InnerSetting, MetaConfig, ScreenConfig
from noether.tailoring.law.setting import NEWTON_ALPHAS


def test_the_stages_share_the_one_inner_setting():
    inner = InnerSetting(kind="sgd", dt_scales=(0.05,), law_lr=0.0)
    config = TailorConfig(inner=inner)
    assert config.inner is inner
    assert TailorConfig().inner == InnerSetting() and TailorConfig().inner.grid == NEWTON_ALPHAS
    # the stage configs carry no inner-step fields of their own, so they cannot disagree with it
    for cls in (ScreenConfig, MetaConfig):
        fields = set(cls.__dataclass_fields__)
        assert not fields & {"step", "adapt", "lrs", "dt_scale", "dt_scales", "law_lr"}, cls


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(eval_lr_select="test"), "eval_lr_select"),
        (dict(max_screen=0), "max_screen"),
        (dict(eval_seeds=()), "seed"),
        (dict(device="tpu"), "unknown device"),
    ],
)
def test_bad_settings_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        TailorConfig(**bad)
