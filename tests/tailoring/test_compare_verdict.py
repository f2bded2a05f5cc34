"""Comparison.versus: each method against the MLP on the same seeds, with a verdict that the seeds' spread backs."""

import numpy as np

from noether.tailoring.compare import Comparison, MethodRun


def comparison(table: dict[str, list[float]]) -> Comparison:
    runs = [
        MethodRun(method, seed, rmse, np.zeros(3), None, False, {})
        for method, values in table.items()
        for seed, rmse in enumerate(values)
    ]
    return Comparison(runs, np.arange(3.0))


def test_verdicts_follow_the_paired_spread():
    ev = comparison(
        {
            "mlp": [0.10, 0.12, 0.11],
            "noether": [0.08, 0.10, 0.09],
            "hnn": [0.13, 0.15, 0.14],
            "oracle": [0.09, 0.13, 0.11],
        }
    )
    vs = ev.versus("mlp").set_index("method")
    assert vs.loc["noether", "verdict"] == "better"  # 0.02 lower on every seed: paired, no spread
    assert vs.loc["hnn", "verdict"] == "worse"
    assert vs.loc["oracle", "verdict"] == "no clear difference"  # -0.01, +0.01, 0: the mean is 0
    assert np.isclose(vs.loc["noether", "relative"], -0.02 / 0.11)
    assert list(vs["n"]) == [3, 3, 3]


def test_one_seed_has_no_spread_and_says_so_and_no_mlp_gives_nothing():
    vs = comparison({"mlp": [0.10], "noether": [0.12]}).versus("mlp")
    assert vs.verdict.tolist() == ["worse (one seed: no spread)"]
    assert comparison({"noether": [0.1]}).versus("mlp").empty
