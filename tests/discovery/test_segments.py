"""Sequences of different lengths (``score.Segments``): on equal lengths every statistic equals the fast reshaped
path, and on thinned data -- unequal lengths, irregular times -- the filter finds the same law as on the whole."""

import numpy as np
import pytest
import torch

from noether.discovery import FilterConfig, filter_candidates
from noether.discovery.drift import null_excess, spikiness, trend_pvalue
from noether.discovery.score import (
    Segments,
    conservation_score,
    noise_excess,
    scatter_matrices,
    sequence_index,
    sequence_set,
    white_noise_variance,
    white_scatter,
    within_variance,
)
from noether.dsl import Law, space_for
from noether.systems import Trajectories

M, L = 6, 12


@pytest.fixture
def values():
    return torch.randn(4, M * L, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).cumsum(-1)


def test_segments_of_equal_length_give_the_fast_paths_figures(values):
    seg = Segments.contiguous([L] * M)
    for fn in (conservation_score, white_noise_variance, within_variance, noise_excess, spikiness):
        torch.testing.assert_close(fn(values, seg), fn(values, L))
    torch.testing.assert_close(trend_pvalue(values, seg), trend_pvalue(values, L))
    feats = values.reshape(2, 2, M * L)
    for a, b in zip(scatter_matrices(feats, seg), scatter_matrices(feats, sequence_index(M, L))):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(white_scatter(feats, seg), white_scatter(feats, sequence_index(M, L)))
    assert null_excess(M, L, 0.01, draws=2000) == null_excess(M, L, 0.01, draws=2000, lengths=(L,) * M)


def test_unequal_segments_weigh_every_point_once():
    lengths = [3, 5, 4]
    g = torch.tensor([[1.0, 1, 1, 2, 2, 2, 2, 2, 0, 1, 0, 1]], dtype=torch.float64)
    seg = Segments.contiguous(lengths)
    # within: only the last sequence varies: 4 x 0.25 = 1; total: sum of squares about the grand mean 17/12
    grand = g.mean()
    assert conservation_score(g, seg).item() == pytest.approx(1.0 / float((g - grand).square().sum()))
    shuffled = Segments.shuffled(lengths, seed=1)
    assert shuffled.lengths.tolist() == lengths and sorted(shuffled.flatten().tolist()) == list(range(12))


def test_thinned_data_keeps_unequal_sequences_whole_and_finds_the_same_law(oscillator):
    whole = oscillator(noise=0.01)
    thin = whole.thinned(0.6, seed=0)
    seq = sequence_set(thin)
    assert not seq.equal and seq.lengths.sum() == thin.train_mask.sum()  # no point dropped, none truncated
    config = FilterConfig()
    truth = Law.reference("q**2 + p**2", ["q", "p"])
    states = thin.states[thin.valid]
    for data in (whole, thin):
        res = filter_candidates(space_for(data, depth=5, max_params=1), data, config)
        best = res.independent[0]
        corr = abs(np.corrcoef(best.numpy(states), truth.numpy(states))[0, 1])
        assert corr > 0.999, (data.name, best.display())
        assert res.verdict(res.independent_indices[0]) == "conserved"


def test_group_data_without_time_finds_the_same_law_and_refuses_the_time_stages(oscillator, tmp_path):
    from noether.errors import DataError
    from noether.pipeline import DiscoverConfig, discover

    whole = oscillator(noise=0.0)
    rng = np.random.default_rng(0)
    rows = []
    for i, k in enumerate(whole.lengths):  # each trajectory's states, shuffled, under a group id, no time
        for j in rng.permutation(k):
            rows.append(f"g{i},{float(whole.states[i, j, 0])!r},{float(whole.states[i, j, 1])!r}")
    path = tmp_path / "groups.csv"
    path.write_text("group,q,p\n" + "\n".join(rows) + "\n")
    groups = Trajectories.from_file(path, "q,p", {"q": "dimensionless", "p": "dimensionless"})
    assert not groups.ordered and "30 groups x 40 states" in groups.describe()
    assert "groups of states without time order" in groups.describe() and "none (no time order)" in groups.describe()
    found = {}
    for data in (whole, groups):
        res = filter_candidates(space_for(data, depth=5, max_params=1), data, FilterConfig())
        found[data.ordered] = sorted(str(law.display()) for law in res.independent)
    assert found[True] == found[False] == ["p**2 + q**2"]
    assert set(res.table.verdict) == {"accepted (no time order)", "rejected"}
    with pytest.raises(DataError, match="group data.*--stage filter"):
        discover(groups, DiscoverConfig(depth=5, max_params=1))


def test_noisy_group_data_needs_the_measurement_noise_to_keep_the_noise_aware_rule(oscillator):
    import dataclasses

    whole = oscillator(noise=0.1)  # noisy: the laws pass on the noise-aware branch (ratio ~10 < 100)
    groups = dataclasses.replace(whole, ordered=False)
    space = space_for(whole, depth=5, max_params=1)
    timed = filter_candidates(space, whole, FilterConfig())
    blind = filter_candidates(space, groups, FilterConfig())
    told = filter_candidates(space, groups, FilterConfig(noise_std={"q": 0.1, "p": 0.1}))
    assert timed.n_accepted > 0 and blind.n_accepted == 0  # no time, no noise floor: the ratio rule alone
    assert told.independent_indices == timed.independent_indices
    assert list(told.accepted_indices) == list(timed.accepted_indices)
    acc = timed.accepted_indices
    # the propagated noise floor agrees with the one measured along time (within 20%)
    np.testing.assert_allclose(told.table.excess.to_numpy()[acc], timed.table.excess.to_numpy()[acc], rtol=0.2)
    with pytest.raises(ValueError, match="unknown state"):
        filter_candidates(space, groups, FilterConfig(noise_std={"x": 0.1}))


def test_cli_noise_std_reaches_the_filter(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import noether.cli.discover as command
    from noether.cli import cli

    seen = {}

    def fake(traj, config, **kwargs):
        seen["noise"] = dict(config.filter.noise_std)
        raise SystemExit(0)

    monkeypatch.setattr(command, "discover", fake)
    CliRunner().invoke(
        cli,
        [
            "discover",
            "--system",
            "spring",
            "--noise-std",
            "q=0.1",
            "--noise-std",
            "p=0.2",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert seen["noise"] == {"q": 0.1, "p": 0.2}
    bad = CliRunner().invoke(cli, ["discover", "--system", "spring", "--noise-std", "q", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "NAME=SIGMA" in bad.output
