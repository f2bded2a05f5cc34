"""Run-wide settings are declared once and handed down: the seed to the filter and the composite search, the
filter's window, rule and drift test to the composite search; the same setting given differently twice is an error."""

from dataclasses import replace

import pytest

import noether
from noether.discovery import AcceptanceRule, FilterConfig
from noether.discovery.composite import CompositeConfig
from noether.errors import ConfigError
from noether.pipeline import DiscoverConfig
from noether.pipeline import run as pipeline_run
from noether.pipeline.config import TailorConfig
from noether.tailoring import IntegratorConfig, MetaConfig


def test_the_seed_window_and_rule_reach_every_stage():
    rule = AcceptanceRule(min_ratio=50)
    config = DiscoverConfig(seed=3, filter=FilterConfig(window=20, rule=rule), composite=CompositeConfig())
    assert config.filter_stage.seed == 3
    comp = config.composite_stage
    assert (comp.seed, comp.window, comp.rule) == (3, 20, rule)
    # rebuilding from a config (dataclasses.replace) keeps working: the user's sub-configs are stored as given
    assert replace(config, seed=4).composite_stage.seed == 4


@pytest.mark.parametrize(
    "make",
    [
        lambda: DiscoverConfig(seed=1, filter=FilterConfig(seed=2)),
        lambda: DiscoverConfig(filter=FilterConfig(window=20), composite=CompositeConfig(window=30)),
        lambda: DiscoverConfig(
            filter=FilterConfig(rule=AcceptanceRule(min_ratio=50)),
            composite=CompositeConfig(rule=AcceptanceRule(min_ratio=80)),
        ),
    ],
)
def test_a_setting_given_twice_differently_is_an_error(make):
    with pytest.raises(ConfigError, match="set it once"):
        make()


def test_the_integrator_is_handed_to_meta_tailoring_not_overwritten():
    traj = noether.load_system("spring")
    rk = IntegratorConfig(backend="scipy", method="DOP853")
    assert TailorConfig(integrator=rk).meta_config(traj).integrator == rk
    with pytest.raises(ConfigError, match="integrator"):
        TailorConfig(integrator=rk, meta=MetaConfig(integrator=IntegratorConfig(backend="scipy"))).meta_config(traj)


@pytest.mark.slow
def test_window_reaches_the_composite_search(monkeypatch, tmp_path):
    """``--window 20 --composite``: the composite laws are scored on 20-step windows, as the filter's are."""
    from click.testing import CliRunner

    import noether.discovery.composite.search as composite_mod
    from noether.cli import cli

    seen = []
    real = composite_mod.sequence_set

    def spy(traj, part, window=None):
        got = real(traj, part, window)
        seen.append((window, set(got.lengths.tolist())))
        return got

    monkeypatch.setattr(composite_mod, "sequence_set", spy)
    configs = []
    real_laws = pipeline_run.composite_search
    monkeypatch.setattr(pipeline_run, "composite_search", lambda traj, cfg: configs.append(cfg) or real_laws(traj, cfg))
    res = CliRunner().invoke(
        cli,
        [
            "discover",
            "--system",
            "kepler",
            "--depth",
            "3",
            "--stage",
            "filter",
            "--composite",
            "--term-depth",
            "3",
            "--window",
            "20",
            "--no-cache",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert configs and configs[0].window == 20
    assert seen and all(w == 20 and lengths == {20} for w, lengths in seen)
