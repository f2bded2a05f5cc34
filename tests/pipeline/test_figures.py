"""The report's figures, checked on the data they plot (the lines and points on the axes), not on pixels: the
pendulum's energy is flat along test trajectories while random sequences spread; an approximate law's trend;
level sets or a projection; the filter at a glance; report.md links them, and ``figures=False`` writes none."""

import numpy as np
import pytest

import noether
from noether.discovery import AcceptanceRule
from noether.pipeline import DiscoverConfig, discover
from noether.pipeline.figures import draw_filter, draw_law, filter_view, law_view, sample_states
from noether.systems import Trajectories
from noether.units import resolve_units


def plotted(ax, gid=None) -> list[np.ndarray]:
    """The y data of the lines on an axes (those with ``gid`` when given, else those without one)."""
    return [np.asarray(line.get_ydata(), float) for line in ax.lines if line.get_gid() == gid]


def within_spread(curves: list[np.ndarray]) -> float:
    """Mean standard deviation of a law's value along each curve."""
    return float(np.mean([c.std() for c in curves]))


def test_pendulum_energy_is_flat_on_test_trajectories_and_spreads_on_random_sequences():
    traj = noether.load_system("pendulum")
    sample = sample_states(traj)
    assert sample.part == "test" and len(sample.runs) == 8
    energy = noether.Law.reference(traj.meta["hamiltonian"], traj.names)
    fig = draw_law(law_view(energy, sample, {"verdict": "conserved"}, rank=1))
    data, rand, portrait = fig.axes[:3]
    on_data, on_random = plotted(data), plotted(rand)
    assert len(on_data) == len(on_random) == 8
    for curve, states in zip(on_data, sample.runs):  # what is drawn is the law on the test states
        np.testing.assert_allclose(curve, energy.numpy(states))
    assert data.get_shared_y_axes().joined(data, rand)  # one scale
    assert not plotted(data, "trend")  # a conserved law has no trend drawn
    flat, spread = within_spread(on_data), within_spread(on_random)
    assert flat < 0.5 * spread
    # flat up to the measurement noise (sigma on q and p) propagated through dH = 2p dp + 3 sin(q) dq
    sigma = traj.meta["noise"]
    x = np.concatenate(sample.runs)
    noise = np.sqrt(np.mean((2 * x[:, 1] * sigma) ** 2 + (3 * np.sin(x[:, 0]) * sigma) ** 2))
    assert flat == pytest.approx(noise, rel=0.35)
    # a quantity that is not conserved wanders on the trajectories as on random sequences
    angle = noether.Law.reference("q", traj.names)
    fig = draw_law(law_view(angle, sample, {"verdict": "rejected"}))
    assert within_spread(plotted(fig.axes[0])) > 0.8 * within_spread(plotted(fig.axes[1]))
    assert "conserved" in fig.get_suptitle() or "rejected" in fig.get_suptitle()
    assert portrait.get_xlabel() == "q" and portrait.get_ylabel() == "p" and portrait.collections  # level sets


def oscillator(n_traj=12, steps=40, rate=0.2, noise=0.0) -> Trajectories:
    """q'' + 2 rate q' + q = 0 (lightly damped: q**2 + p**2 decays along every trajectory); the first half of
    the trajectories train, the rest test."""
    rng = np.random.default_rng(1)
    t = np.linspace(0, 6, steps)
    r, phase = rng.uniform(0.5, 1.5, (n_traj, 1)), rng.uniform(0, 2 * np.pi, (n_traj, 1))
    env = r * np.exp(-rate * t)
    x = np.stack([env * np.cos(t + phase), -env * np.sin(t + phase)], -1) + noise * rng.normal(size=(n_traj, steps, 2))
    train = np.arange(n_traj)[:, None] < n_traj // 2 * np.ones((1, steps), bool)
    return Trajectories(
        x,
        np.broadcast_to(t, (n_traj, steps)),
        ("q", "p"),
        resolve_units(("q", "p"), {"q": "m", "p": "m"}),
        train_mask=train,
        name="oscillator",
    )


def test_an_approximate_law_shows_its_trend_per_trajectory():
    traj = oscillator()
    sample = sample_states(traj)
    law = noether.Law.parse("q**2 + p**2", traj.names, {"q": "m", "p": "m"})
    view = law_view(law, sample, {"verdict": "approximate", "trend_p": 1e-9}, rank=2)
    fig = draw_law(view)
    trends = plotted(fig.axes[0], "trend")
    assert len(trends) == len(sample.runs) == 8  # 6 test trajectories, cut into windows as the filter cuts them
    for (slope, intercept), t, g, line in zip(view.trends, sample.times, view.values, trends):
        assert slope < 0  # the energy decays
        np.testing.assert_allclose(line, slope * t + intercept)
        np.testing.assert_allclose((slope, intercept), np.polyfit(t, g, 1), rtol=1e-9)
    assert "law 2, approximate" in fig.get_suptitle() and "trend p 1e-09" in fig.get_suptitle()
    assert fig.axes[0].get_ylabel() == f"law's value [{law.unit}]" and "m" in law.unit


def test_more_than_two_states_are_projected_on_the_two_the_law_depends_on_most():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 20, 4)) * np.array([1.0, 5.0, 1.0, 0.01])  # x2 varies most, but the law ignores it
    names = ("x1", "x2", "x3", "x4")
    traj = Trajectories(
        x,
        np.broadcast_to(np.arange(20.0), (10, 20)),
        names,
        resolve_units(names, {n: "dimensionless" for n in names}),
        name="four",
    )
    law = noether.Law.reference("x1**2 + 3*x3 + x4", names)  # x4 enters, but barely moves over the data
    view = law_view(law, sample_states(traj), {"verdict": "conserved"})
    assert view.portrait.axes == (0, 2) and view.portrait.grid is None
    assert view.sample.part == "train"  # no test split: the training trajectories are shown
    ax = draw_law(view).axes[2]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x3")
    np.testing.assert_allclose(ax.collections[0].get_offsets(), view.portrait.points)


@pytest.fixture(scope="module")
def oscillator_run():
    return discover(oscillator(n_traj=30, rate=0.0, noise=0.01), DiscoverConfig(depth=5, stage="filter"))


def test_the_filter_at_a_glance_marks_the_accepted_and_draws_the_rule(oscillator_run):
    filt = oscillator_run.filter
    view = filter_view(filt)
    assert len(view.s_true) + len(view.unfitted) + view.hidden == len(filt.table)
    ax = draw_filter(view, "oscillator").axes[0]
    points = {c.get_gid(): c.get_offsets() for c in ax.collections}
    accepted = filt.table[filt.table.accepted]
    assert "conserved" in set(accepted.verdict)
    for verdict in set(accepted.verdict):
        rows = accepted[accepted.verdict == verdict]
        np.testing.assert_allclose(np.sort(points[verdict][:, 1]), np.sort(rows.s_random.to_numpy()))
    assert len(points["rejected"]) == int((view.verdict == "rejected").sum())
    rule = AcceptanceRule()
    for ratio in (rule.paper_ratio, rule.noisy_ratio):  # the boundary S_random = ratio x S_true
        (line,) = [ln for ln in ax.lines if ln.get_gid() == f"ratio={ratio:g}"]
        np.testing.assert_allclose(line.get_ydata(), ratio * np.asarray(line.get_xdata()))
    fixed = filter_view(type(filt)(**{**filt.__dict__, "rule": AcceptanceRule(min_ratio=100)}))
    assert [ln.get_gid() for ln in draw_filter(fixed).axes[0].lines] == ["ratio=100"]


def test_report_links_the_figures_and_figures_false_writes_none(oscillator_run, tmp_path):
    written = oscillator_run.write(tmp_path / "with")
    report = (tmp_path / "with" / "report.md").read_text()
    pngs = [p for p in written if p.suffix == ".png"]
    n_laws = len(oscillator_run.laws())
    assert n_laws >= 1 and len(pngs) == 1 + n_laws
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({p.parent.name}/{p.name})" in report
    assert not list((tmp_path / "with" / "figures").glob(".*"))  # no temporary file left behind
    bare = oscillator_run.write(tmp_path / "without", figures=False)
    assert not [p for p in bare if p.suffix == ".png"] and not (tmp_path / "without" / "figures").exists()
    assert "![" not in (tmp_path / "without" / "report.md").read_text()


def test_group_data_and_infinite_values(tmp_path):
    from dataclasses import replace

    traj = replace(oscillator(rate=0.0), ordered=False)  # sets of states without time order
    law = noether.Law.reference("q**2 + p**2", traj.names)
    view = law_view(law, sample_states(traj), {"verdict": "approximate"})  # no trend without time
    assert view.trends is None
    for t in view.sample.times:
        np.testing.assert_array_equal(t, np.arange(len(t)))
    fig = draw_law(view)
    assert fig.axes[0].get_xlabel() == "sample" and "groups" in fig.axes[0].get_title()
    blows_up = noether.Law.reference("exp(1000*q)", traj.names)  # inf where q > 0.71: gaps, not an error
    view = law_view(blows_up, sample_states(traj))
    values = np.concatenate(view.values)
    assert np.isnan(values).any() and np.isfinite(values).any() and not np.isinf(values).any()
    draw_law(view).savefig(tmp_path / "inf.png")
