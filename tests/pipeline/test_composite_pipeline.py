"""A composite law goes through the whole pipeline: found beyond the enumerated depth, screened, meta-tailored,
evaluated, written to laws.json and read back."""

import numpy as np
import pytest

import noether
from noether.discovery.composite import CompositeConfig
from noether.pipeline import DiscoverConfig, TailorConfig, discover, read_laws
from noether.tailoring import MetaConfig, ScreenConfig, TrainConfig
from noether.tailoring.integrate import IntegratorConfig
from noether.tailoring.law.setting import InnerSetting

pytestmark = pytest.mark.slow


def test_kepler_energy_from_the_composite_search_is_tailored_and_evaluated(tmp_path):
    traj = noether.load_system("kepler", noise=0.0).select(list(range(10)) + list(range(42, 50)))
    config = DiscoverConfig(
        depth=3,
        composite=CompositeConfig(derived={"r": "sqrt(x**2 + y**2)"}, term_depth=3, max_terms=3, beam=16),
        tailor=TailorConfig(
            screen=ScreenConfig(top_k=3),
            meta=MetaConfig(epochs=5),
            train=TrainConfig(steps=100),
            eval_seeds=(0,),
            baselines=("mlp",),
            # a looser solve than the default 1e-9: these tests check what the stages do, not the ODE's accuracy
            # (tests/tailoring/test_integrate.py does); it halves meta-tailoring's pick and the evaluation
            # two rows of the inner-rate grid, not eight: the stages run the same code on a shorter list
            inner=InnerSetting(rates=(0.5, 1.0), dt_scales=(0.1,)),
            integrator=IntegratorConfig(rtol=1e-6, atol=1e-6),
        ),
    )
    result = discover(traj, config)
    table = result.filter.table
    composite = table[table["source"] == "composite"]
    assert len(composite) >= 2 and composite["accepted"].all()
    # the energy E = (vx² + vy²)/2 - GM/r (GM = 1), beyond the depth-3 space: some composite law is an affine
    # function of it on the data (|correlation| 1), where any formula with a sqrt would not do
    x = traj.states.reshape(-1, traj.dim)
    energy = (x[:, 2] ** 2 + x[:, 3] ** 2) / 2 - 1 / np.hypot(x[:, 0], x[:, 1])
    filt = result.filter
    corr = [abs(np.corrcoef(filt.space.law(int(i), filt.params[i]).numpy(x), energy)[0, 1]) for i in composite.index]
    assert max(corr) > 1 - 1e-6, corr
    assert "composite" in result.timings and result.evaluation is not None
    assert {"mlp", "noether", "oracle"} <= set(result.evaluation.methods)
    paths = result.write(tmp_path)
    laws, _ = read_laws(tmp_path / "laws.json")
    assert laws[0].law.expression == result.law.expression
    assert any("sqrt" in law.law.expression for law in laws)  # the energy, 1/r included, survived the round trip
    assert "| composite |" in (tmp_path / "report.md").read_text()
    assert all(p.exists() for p in paths)
