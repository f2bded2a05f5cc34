"""Every decision of the discovery stage, tested on each side of its boundary with constructed data whose answer is
known from a closed form or a plain numpy computation (never from the implementation's own output):
acceptance (``null.py``), conserved / approximate (``drift.py``), functional independence and classes
(``independence.py``). Tiny arrays only: the whole file runs in about a second."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from noether.discovery.drift import DriftRule, measure_drift, null_excess, spikiness, trend_pvalue
from noether.discovery.independence import are_independent, functional_classes, independent_set, state_gradients
from noether.discovery.null import AcceptanceRule, fit_reasons, ratio_of, shuffled_index, unfitted
from noether.discovery.score import Segments, noise_excess, white_noise_variance
from noether.errors import ConfigError

M, L = 200, 50  # sequences x steps of the constructed white-noise data (N = 10 000: sampling error ~2%)


def white(rows: int, seed: int = 0, m: int = M, length: int = L) -> torch.Tensor:
    return torch.randn(rows, m * length, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def centred_step(length: int = L) -> torch.Tensor:
    """t - mean(t) along one sequence, repeated over the M sequences (points in sequence order)."""
    t = torch.arange(length, dtype=torch.float64)
    return (t - t.mean()).repeat(M)


def decide_one(rule: AcceptanceRule, ratio: float, excess: float) -> tuple[bool, str | None]:
    """The rule's verdict on one candidate with S_random = 1 and S_true = 1 / ratio."""
    acc, why = rule.decide(np.array([1 / ratio]), np.array([1.0]), np.array([excess]), [None])
    return bool(acc[0]), why[0]


# --- acceptance: ratio >= 100 (the paper), or ratio >= 3 and within-variance <= 1.5 x white-noise variance ---------


def test_paper_ratio_accepts_at_100_whatever_the_drift():
    rule = AcceptanceRule()
    assert decide_one(rule, 101.0, excess=50.0) == (True, None)  # clean data: the paper's rule alone decides
    assert decide_one(rule, 100.0, excess=50.0) == (True, None)  # ratio >= 100 (the paper's >=)
    accepted, why = decide_one(rule, 99.0, excess=50.0)
    assert not accepted and "drifts" in why


def test_noisy_ratio_bound_is_three():
    rule = AcceptanceRule()
    assert decide_one(rule, 3.05, excess=1.0) == (True, None)
    acc, _ = rule.decide(np.array([0.25]), np.array([0.75]), np.array([1.0]), [None])  # ratio exactly 3: >= holds
    assert acc.dtype == bool and acc.tolist() == [True]
    accepted, why = decide_one(rule, 2.95, excess=1.0)
    assert not accepted and why.startswith("ratio 2.95 < 3")


def ramp_excess(target: float, seed: int) -> float:
    """Within / white-noise variance of unit white noise plus a ramp a·t along each sequence, where a is chosen so
    that the closed form (1 + a²·L(L+1)/12: the ramp's within-sequence variance, denominator L - 1; third
    differences remove the ramp exactly) equals ``target``. Returns the measured excess."""
    a = np.sqrt((target - 1) * 12 / (L * (L + 1)))
    values = white(1, seed) + a * centred_step()
    measured = float(noise_excess(values, L)[0])
    assert measured == pytest.approx(target, rel=0.06), "the constructed case misses its closed form"
    return measured


def test_whiteness_bound_is_one_and_a_half_times_the_white_noise_variance():
    """A conserved quantity measured with noise (excess 1.2 by construction) passes at ratio 10; one whose
    within-sequence variance is twice its white-noise part (excess 2.0) drifts and is rejected."""
    rule = AcceptanceRule()
    assert decide_one(rule, 10.0, ramp_excess(1.2, seed=1)) == (True, None)
    accepted, why = decide_one(rule, 10.0, ramp_excess(2.0, seed=2))
    assert not accepted and "drifts along sequences" in why
    # between 1.5 and 2.9: the surviving mutation moved the bound there
    assert not decide_one(rule, 10.0, 1.6)[0] and not decide_one(rule, 10.0, 2.5)[0]
    assert decide_one(rule, 10.0, 1.5)[0] and decide_one(AcceptanceRule(whiteness=3.0), 10.0, 2.5)[0]


def test_without_time_order_only_the_paper_ratio_accepts():
    rule = AcceptanceRule()
    accepted, why = decide_one(rule, 50.0, excess=np.nan)
    assert not accepted and "no noise floor" in why
    assert decide_one(rule, 100.0, excess=np.nan) == (True, None)


def test_fixed_rule_is_the_ratio_alone():
    rule = AcceptanceRule(min_ratio=20)
    assert decide_one(rule, 20.0, excess=50.0) == (True, None)  # drift does not matter to the paper's rule
    accepted, why = decide_one(rule, 19.0, excess=1.0)
    assert not accepted and why == "ratio 19 < 20"
    assert rule.least_ratio == 20 and AcceptanceRule().least_ratio == 3.0


def test_failures_before_the_ratio_are_reasons():
    rule = AcceptanceRule()
    acc, why = rule.decide(
        np.array([0.01, 0.01, np.nan, 0.01, 0.01, 0.01]),
        np.array([1.0, 1.0, 1.0, 1.0, np.inf, 1.0]),
        np.ones(6),
        ["diverged", None, None, None, None, None],
    )
    assert acc.tolist() == [False, True, False, True, False, True]  # each failure leaves the next candidate alone
    assert why == ["diverged", None, "no finite score on the data", None, "no finite score on random sequences", None]


def test_ratio_of_an_exactly_conserved_quantity_is_infinite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # x / 0 and 0 / 0 are expected here: no RuntimeWarning for them
        ratio = ratio_of(np.array([0.0, 0.0, 0.5, 0.2, -0.0, 1.0]), np.array([0.9, 0.0, 0.9, np.nan, 0.5, 0.5]))
    assert ratio[0] == np.inf and np.isnan(ratio[1]) and ratio[2] == pytest.approx(1.8) and np.isnan(ratio[3])
    assert ratio[4] == np.inf and ratio[5] == 0.5  # S_true = -0.0 is 0 (+inf, not -inf); S_true = 1 is a plain ratio


def test_random_sequences_are_seeded_and_placed():
    assert torch.equal(shuffled_index(4, 5), shuffled_index(4, 5, seed=0))  # the default seed is 0: same every run
    assert not torch.equal(shuffled_index(4, 5, seed=0), shuffled_index(4, 5, seed=1))
    assert shuffled_index(4, 5, device="meta").device.type == "meta"


def test_hopeless_reason_names_the_bound():
    # S_random is at most 1, so S_true >= 1/3 can never give ratio 3: the filter marks it hopeless
    why = fit_reasons(np.array([True, False, True, True]), np.array([0.4, 0.1, np.nan, 0.1]), [True, False] * 2, 3.0)
    assert why[0] == "S_true 0.4 >= 1/3: no random fit can give the ratio the rule needs"
    assert why[1] == "non-finite values" and why[2] == "constant"
    assert why[3] is None


@pytest.mark.parametrize(
    "kwargs, named",
    [
        (dict(min_ratio=1.0), "min_ratio must be > 1, got 1.0"),
        (dict(noisy_ratio=1.0), "need 1 < noisy_ratio <= paper_ratio, got 1.0, 100.0"),
        (dict(noisy_ratio=150.0), "noisy_ratio <= paper_ratio"),
        (dict(whiteness=0.9), "whiteness must be >= 1, got 0.9"),
    ],
)
def test_acceptance_settings_out_of_range_are_config_errors(kwargs, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        AcceptanceRule(**kwargs)
    AcceptanceRule(min_ratio=1.01, noisy_ratio=1.5, whiteness=1.0)  # just inside the bounds
    AcceptanceRule(noisy_ratio=100.0)


# --- drift: excess, trend and spikiness -----------------------------------------------------------------------------


def test_excess_bound_separates_noise_from_slow_variation_without_a_slope():
    """A parabola in time along each sequence adds within-sequence variance (its variance, known in closed form)
    but neither a slope (it is even about the centre) nor third differences (degree 2)."""
    noise = white(2, seed=3)
    tc = centred_step()
    bump = tc**2 - float((tc[:L] ** 2).mean())
    amp = np.sqrt(1.0 / float(bump[:L].square().sum() / (L - 1)))  # adds variance 1: excess 1 + 1 = 2
    values = torch.stack([noise[0], noise[1] + amp * bump])
    rule = DriftRule(whiteness=1.5)
    drift = measure_drift(values, L, np.full(2, 0.5), rule)
    assert drift.excess[1] == pytest.approx(2.0, rel=0.06) and drift.excess[0] == pytest.approx(1.0, rel=0.06)
    assert drift.trend_p[1] > 0.01  # the parabola has no slope: only the excess can reject it
    assert drift.verdicts == ["conserved", "approximate"]
    assert measure_drift(values, L, np.full(2, 0.5), DriftRule(whiteness=2.5)).verdicts == ["conserved"] * 2


def test_default_excess_bound_is_the_white_noise_quantile():
    """Without a fixed whiteness, the bound is white noise's (1 - alpha) quantile for the layout (25 x 45: ~1.18):
    white noise passes it (with probability 1 - alpha), noise plus a slope-free parabola of excess 1.5 does not."""
    m, length = 25, 45
    t = torch.arange(length, dtype=torch.float64)
    bump = ((t - t.mean()) ** 2 - ((t - t.mean()) ** 2).mean()).repeat(m)
    amp = np.sqrt(0.5 / float(bump[:length].square().sum() / (length - 1)))  # adds variance 0.5: excess 1.5
    noise = white(1, seed=4, m=m, length=length)[0]
    values = torch.stack([noise, noise + amp * bump])
    assert 1.0 < null_excess(m, length, 1e-3) < 1.3
    assert measure_drift(values, length, np.full(2, 0.5)).verdicts == ["conserved", "approximate"]


def test_trend_test_is_chi_squared_in_the_slopes():
    """Unit white noise plus a slope b per step: each sequence's least-squares slope, in standard errors, is
    N(b·sqrt(Sxx), 1), so the statistic is noncentral chi-squared with M degrees of freedom and mean
    M·(1 + b²·Sxx). b = 0: p uniform; b²·Sxx = 1: mean 2M, p ~ 1e-20."""
    sxx = float((centred_step()[:L] ** 2).sum())
    slope = 1 / np.sqrt(sxx)
    values = torch.stack([white(1, seed=5)[0], white(1, seed=6)[0] + slope * centred_step()])
    p = trend_pvalue(values, L)
    assert p[0] > 0.01 and p[1] < 1e-10
    loose = DriftRule(whiteness=50.0)  # the excess (1 + 0.0006 here) cannot decide: the trend alone does
    assert measure_drift(values, L, np.full(2, 0.5), loose).verdicts == ["conserved", "approximate"]
    assert (
        measure_drift(values, L, np.full(2, 0.5), DriftRule(whiteness=50.0, alpha=1e-30)).verdicts == ["conserved"] * 2
    )


def slow_spikiness(row: np.ndarray, length: int) -> float:
    """Mean square of third differences over (1.4826 MAD)^2, by plain numpy per sequence."""
    d = np.concatenate([np.diff(seq, n=3) for seq in row.reshape(-1, length)])
    mad = 1.4826 * np.median(np.abs(d - np.median(d)))
    return float((d**2).mean() / mad**2)


def test_spikiness_flags_a_law_whose_variation_is_a_few_points():
    noise = white(2, seed=7)
    spiky = noise[1].clone()
    spiky[L // 2 :: 10 * L] += 60.0  # one spike of 60 sigma mid-way through every tenth sequence
    # third differences of unit noise have variance C(6, 3) = 20; each spike adds 60² x (1 + 9 + 9 + 1) to their sum
    # of squares, so the mean square is 20 + 20 x 72 000 / 9 850 = 166: spikiness ~8 while the MAD stays ~20
    values = torch.stack([noise[0], spiky])
    expected = [slow_spikiness(v, L) for v in values.numpy()]
    assert expected[0] == pytest.approx(1.0, abs=0.1) and expected[1] > 4  # Gaussian: 1; the spikes: far above 4
    np.testing.assert_allclose(spikiness(values, L).numpy(), expected, rtol=1e-2)  # torch's median: lower middle
    drift = measure_drift(values, L, np.full(2, 0.5), DriftRule(whiteness=50.0, alpha=1e-30))
    assert drift.verdicts == ["conserved", "approximate"] and drift.only_spiky.tolist() == [False, True]
    bound = expected[1] * 1.01  # a bound above the law's spikiness lets it pass
    assert (
        measure_drift(values, L, np.full(2, 0.5), DriftRule(whiteness=50.0, alpha=1e-30, spikiness=bound)).verdicts[1]
        == "conserved"
    )


def test_exactness_overrides_the_noise_tests_below_its_spread():
    """A ramp with no noise fails every noise test; it is conserved only when sqrt(S_true) <= exact."""
    ramp = (1.0 + 1e-3 * centred_step())[None]
    rule = DriftRule(exact=1e-6, whiteness=1.5)  # a fixed bound: no Monte Carlo quantile needed
    assert measure_drift(ramp, L, np.array([0.99e-12]), rule).verdicts == ["conserved"]  # spread 0.995e-6
    assert measure_drift(ramp, L, np.array([1.01e-12]), rule).verdicts == ["approximate"]  # spread 1.005e-6


@pytest.mark.parametrize(
    "kwargs", [dict(alpha=1.0), dict(alpha=0.0), dict(whiteness=0.9), dict(exact=1.0), dict(spikiness=0.9)]
)
def test_drift_settings_out_of_range_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        DriftRule(**kwargs)


# --- functional independence: smallest singular value of the stacked unit gradients vs tol (0.1) -------------------


STATES = torch.randn(64, 4, generator=torch.Generator().manual_seed(8), dtype=torch.float64)


def linear(*coefficients: float):
    """g(x) = c · x: its gradient is c at every state, so the stacked unit gradients are known exactly."""
    c = torch.tensor(coefficients, dtype=torch.float64)
    return lambda x: x @ c


def smallest_sv(*rows) -> float:
    """Smallest singular value of the stacked unit vectors (numpy, the plain definition)."""
    a = np.array(rows, dtype=float)
    return float(np.linalg.svd(a / np.linalg.norm(a, axis=1, keepdims=True), compute_uv=False)[-1])


@pytest.mark.parametrize("eps, independent", [(0.04, False), (0.4, True)])
def test_joint_rank_tolerance(eps, independent):
    """x0, x1, then x0 + x1 + eps·x2: no pair is parallel, the third is dependent on the first two up to eps."""
    sv = smallest_sv([1, 0, 0, 0], [0, 1, 0, 0], [1, 1, eps, 0])
    assert (sv > 0.1) == independent and abs(np.log(sv / 0.1)) > np.log(1.9)  # ~0.02 or ~0.19: far from 0.1
    laws = [linear(1, 0, 0, 0), linear(0, 1, 0, 0), linear(1, 1, eps, 0)]
    grads = [state_gradients(f, STATES) for f in laws]
    assert independent_set(grads) == ([0, 1, 2] if independent else [0, 1])
    assert are_independent(grads) == independent
    seeds, member_of = functional_classes(grads)
    assert member_of[2] == (2 if independent else -1)  # dependent on two seeds jointly: no single class


@pytest.mark.parametrize("eps, same_class", [(0.05, True), (0.5, False)])
def test_pairwise_tolerance_puts_near_parallel_laws_in_one_class(eps, same_class):
    sv = smallest_sv([1, 0, 0, 0], [1, eps, 0, 0])  # = sin(angle) / sqrt(2)-ish: ~eps/sqrt(2) for small eps
    assert (sv <= 0.1) == same_class
    grads = [state_gradients(f, STATES) for f in (linear(1, 0, 0, 0), linear(1, eps, 0, 0))]
    seeds, member_of = functional_classes(grads)
    assert (seeds, member_of) == (([0], [0, 0]) if same_class else ([0, 1], [0, 1]))


def test_rank_is_capped_at_d_minus_one_and_by_max_rank():
    """A moving system in d = 4 has at most 3 independent conserved quantities."""
    grads = [state_gradients(linear(*row), STATES) for row in np.eye(4)]
    assert independent_set(grads) == [0, 1, 2]
    assert independent_set(grads, max_rank=2) == [0, 1] and independent_set(grads, max_rank=4) == [0, 1, 2, 3]


@pytest.mark.parametrize("vanishing, usable", [(0.4, True), (0.5, False), (0.6, False)])
def test_a_law_whose_gradient_vanishes_at_most_states_is_skipped(vanishing, usable):
    """g = relu(x0 - c)²-like: zero gradient below the threshold c, set so that a known fraction of states
    (40%, 50% or 60%) has a vanishing gradient; the rule keeps a law usable at more than half of them. An unusable
    law first does not stop the walk: x1 after it is a seed."""
    cut = float(np.quantile(STATES[:, 0].numpy(), vanishing))
    grads = [state_gradients(lambda x: torch.relu(x[:, 0] - cut) ** 2, STATES)]
    assert ((grads[0].norm(dim=-1) == 0).double().mean().item() >= 0.5) == (not usable)
    assert independent_set(grads) == ([0] if usable else [])
    assert are_independent(grads) == usable
    assert independent_set(grads + [state_gradients(linear(0, 1, 0, 0), STATES)]) == ([0, 1] if usable else [1])


def test_tolerance_is_handed_down_and_gradients_are_scale_free():
    """The joint test reads unit gradients: scaling a law (x 1e3 or x 1e-3) changes nothing; tol is the caller's."""
    for scale in (1e3, 1e-3):
        laws = [linear(1, 0, 0, 0), linear(0, 1, 0, 0), linear(scale, scale, 0.4 * scale, 0)]
        assert independent_set([state_gradients(f, STATES) for f in laws]) == [0, 1, 2]
    dependent = [state_gradients(f, STATES) for f in (linear(1, 0, 0, 0), linear(0, 1, 0, 0), linear(1, 1, 0.04, 0))]
    assert independent_set(dependent) == [0, 1] and independent_set(dependent, tol=0.01) == [0, 1, 2]  # sv 0.02


def test_with_zero_tolerance_only_exactly_parallel_laws_are_one_class():
    grads = [state_gradients(f, STATES) for f in (linear(1, 0, 0, 0), linear(2, 0, 0, 0), linear(0, 1, 0, 0))]
    # x0 and 2·x0 have the same unit gradient (smallest singular value exactly 0, which is <= 0); x1 is a new seed
    # after a member: the walk goes on past it
    assert functional_classes(grads, tol=0.0) == ([0, 2], [0, 0, 1])
    assert not are_independent(grads[:2], tol=0.0) and are_independent([grads[0], grads[2]], tol=0.0)
    # x0 + x1 lies exactly in the span of x0 and x1 (joint smallest singular value 0, which is not > 0)
    span = [state_gradients(f, STATES) for f in (linear(1, 0, 0, 0), linear(0, 1, 0, 0), linear(1, 1, 0, 0))]
    assert functional_classes(span, tol=0.0) == ([0, 1], [0, 1, -1])


def test_non_finite_and_unused_gradients_count_as_zero():
    x = torch.tensor([[0.0, 1.0, 0.0, 0.0], [-1.0, 1.0, 0.0, 0.0], [4.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    # d sqrt(x0) / dx0 = +inf at 0, NaN below 0; d(-sqrt(x1)) / dx1 = -inf at 0
    grad = state_gradients(lambda s: torch.sqrt(s[:, 0]) - torch.sqrt(s[:, 1]), x)
    expected = torch.tensor([[0.0, -0.5, 0, 0], [0.0, -0.5, 0, 0], [0.25, 0.0, 0, 0]], dtype=torch.float64)
    assert torch.equal(grad, expected)
    w = torch.ones(1, requires_grad=True)  # a law that does not read the states at all: gradient zero, no error
    assert torch.equal(state_gradients(lambda s: w.expand(len(s)), x), torch.zeros_like(x))


@pytest.mark.parametrize("norm_max, small, usable", [(2.0, 2e-12, False), (0.5, 0.75e-12, True)])
def test_a_gradient_counts_as_vanishing_below_1e_12_of_the_largest(norm_max, small, usable):
    """40% of the states have gradient norm ``norm_max``, 60% a norm ``small``: exactly 1e-12 x the largest
    (vanishing: the law is skipped) or 1.5e-12 x it (usable)."""
    g = torch.zeros(100, 4, dtype=torch.float64)
    g[:40, 0], g[40:, 0] = norm_max, small
    assert independent_set([g]) == ([0] if usable else [])


def test_infinite_gradients_are_not_usable():
    g = torch.zeros(10, 4, dtype=torch.float64)
    g[:, 1] = 1.0
    g[:6, 0] = torch.inf  # 60% of the states: the law is not usable there, so it is skipped
    assert independent_set([g]) == []


def test_states_count_only_where_every_law_is_usable():
    """Laws along e0 and e1 (independent) whose gradients vanish on different 45% of the states: judged on the 10%
    where both are usable; three laws with no state where all are usable are not independent."""

    def masked(direction: int, zero: slice) -> torch.Tensor:
        g = torch.zeros(100, 4, dtype=torch.float64)
        g[:, direction] = 1.0
        g[zero] = 0.0
        return g

    a, b = masked(0, slice(0, 45)), masked(1, slice(45, 90))
    assert independent_set([a, b]) == [0, 1] and are_independent([a, b])
    c = masked(2, slice(0, 40))  # a and b are usable at 55%, c at 60%; a, b and c together nowhere
    a2, b2 = masked(0, slice(40, 80)), masked(1, slice(80, 100))
    b2[:20] = 0.0  # b2 vanishes on [0, 20) and [80, 100): 40%
    assert not are_independent([a2, b2, c]) and independent_set([c, a2, b2]) == [0, 1]
    one = masked(2, slice(0, 39))  # now all three are usable at exactly one state, where they are orthogonal
    assert are_independent([a2, b2, one]) and independent_set([one, a2, b2]) == [0, 1, 2]


# --- drift: the remaining edges --------------------------------------------------------------------------------------


def test_sequences_of_different_lengths_follow_the_same_rules():
    """Sequences of 30-50 steps: white noise is conserved, a slope of 3 standard errors per sequence is a trend
    (chi-squared with m degrees of freedom, as for equal lengths); times in seconds instead of steps change nothing
    (the slope is read in units of its own standard error). Equal lengths as Segments = the plain path."""
    lengths = [30, 40, 50, 35, 45] * 4
    seg = Segments.contiguous(lengths)
    step = torch.cat([torch.arange(n, dtype=torch.float64) - (n - 1) / 2 for n in lengths])
    sxx = torch.cat([torch.full((n,), float(((torch.arange(n) - (n - 1) / 2.0) ** 2).sum())) for n in lengths])
    noise = white(2, seed=9, m=1, length=sum(lengths))
    values = torch.stack([noise[0], noise[1] + 3 * step / sxx.sqrt()])  # stat ~ 20 x (1 + 9) on 20 d.o.f.
    loose = DriftRule(whiteness=50.0)
    drift = measure_drift(values, seg, np.full(2, 0.5), loose)
    assert drift.verdicts == ["conserved", "approximate"] and drift.trend_p[0] > 0.01 and drift.trend_p[1] < 1e-6
    times = torch.zeros(seg.shape, dtype=torch.float64)
    times[seg.mask] = 0.1 * (step + torch.cat([torch.full((n,), (n - 1) / 2) for n in lengths]))
    timed = Segments.contiguous(lengths, times=times)
    np.testing.assert_allclose(trend_pvalue(values, timed).numpy(), drift.trend_p, rtol=1e-9)
    # the slope is against each point's own time: irregular times (t = step²) read the same values differently
    irregular = Segments.contiguous(lengths, times=times**2)
    assert not np.allclose(trend_pvalue(values, irregular).numpy(), drift.trend_p, rtol=1e-3)
    # the default bound for this layout is white noise's quantile on these very lengths (Monte Carlo)
    default = measure_drift(values[:1], seg, np.full(1, 0.5))
    assert default.verdicts == ["conserved"] and 1.0 < null_excess(20, 50, 1e-3, lengths=tuple(lengths)) < 1.6
    even = white(2, seed=10, m=20, length=40)
    even[1] += 0.05 * torch.arange(40, dtype=torch.float64).repeat(20)
    plain = measure_drift(even, 40, np.full(2, 0.5), loose)
    ragged = measure_drift(even, Segments.contiguous([40] * 20), np.full(2, 0.5), loose)
    np.testing.assert_allclose(ragged.trend_p, plain.trend_p, rtol=1e-9)
    np.testing.assert_allclose(ragged.excess, plain.excess, rtol=1e-9)


def test_trend_reads_the_noise_it_is_given_and_keeps_the_dtype():
    values = white(1, seed=11, m=20, length=40) + 0.01 * torch.arange(40, dtype=torch.float64).repeat(20)
    p = trend_pvalue(values, 40)
    wider = trend_pvalue(values, 40, noise=4 * white_noise_variance(values, 40))  # 4x the noise: a weaker trend
    assert wider[0] > p[0]
    seg = Segments.contiguous([40] * 20)
    assert trend_pvalue(values, seg, noise=4 * white_noise_variance(values, seg))[0] == pytest.approx(float(wider[0]))
    assert trend_pvalue(values.float(), 40).dtype == torch.float32
    assert trend_pvalue(values.float(), seg).dtype == torch.float32


def test_each_bound_itself_passes():
    """conserved when excess <= bound, trend p >= alpha, spikiness <= bound, spread <= exact: at equality each
    passes (the rule's <= and >=), the other three made loose."""
    values = white(1, seed=12, m=20, length=40) + 0.003 * torch.arange(40, dtype=torch.float64).repeat(20)
    d = measure_drift(values, 40, np.array([0.5]), DriftRule(whiteness=50.0))
    e, p, s = float(d.excess[0]), float(d.trend_p[0]), float(d.spikiness[0])
    assert e > 1 and s > 1 and 0 < p < 1  # bounds the rules accept
    assert measure_drift(values, 40, np.array([0.5]), DriftRule(whiteness=e, alpha=1e-30)).conserved[0]
    assert measure_drift(values, 40, np.array([0.5]), DriftRule(whiteness=50.0, alpha=p)).conserved[0]
    spiky_bound = DriftRule(whiteness=50.0, alpha=1e-30, spikiness=s)
    assert measure_drift(values, 40, np.array([0.5]), spiky_bound).conserved[0]
    ramp = (1.0 + 1e-3 * centred_step())[None]
    assert measure_drift(ramp, L, np.array([0.25]), DriftRule(exact=0.5, whiteness=1.5)).conserved[0]  # sqrt: 0.5
    assert measure_drift(ramp, L, np.array([-1e-18]), DriftRule(whiteness=1.5)).conserved[0]  # rounding below 0
    np.testing.assert_allclose(d.spread, [np.sqrt(0.5)])
    assert d.spikiness.shape == (1,) and np.isfinite(d.spikiness).all()


def test_only_spiky_means_spikiness_alone_failed():
    noise = white(3, seed=13)
    t = centred_step()
    trend = noise[1] + 5 * t / float((t[:L] ** 2).sum()) ** 0.5  # 5 standard errors per sequence: a trend
    both = trend.clone()
    both[L // 2 :: 10 * L] += 60.0  # the trend and spikes
    drift = measure_drift(torch.stack([noise[0], trend, both]), L, np.full(3, 0.5), DriftRule(whiteness=50.0))
    assert drift.verdicts == ["conserved", "approximate", "approximate"]
    assert drift.only_spiky.tolist() == [False, False, False]  # spikes with a trend are not "only spiky"


def test_known_noise_scale_turns_uneven_noise_white():
    """Noise whose standard deviation is 1 or 10 at random points: read in units of each difference's own noise
    (Σ C(3, i)² σ²_{t+i}), its third differences are unit Gaussian (spikiness 1); unread, the mixture is spiky."""
    gen = torch.Generator().manual_seed(14)
    sigma = torch.where(torch.rand(2, M * L, generator=gen) < 0.5, 1.0, 10.0).double()
    values = white(2, seed=15) * sigma
    assert spikiness(values, L).min() > 1.5
    np.testing.assert_allclose(spikiness(values, L, scale=sigma).numpy(), [1.0, 1.0], atol=0.08)
    seg = Segments.contiguous([L] * M)
    np.testing.assert_allclose(spikiness(values, seg, scale=sigma).numpy(), [1.0, 1.0], atol=0.08)


def test_a_third_difference_of_unit_noise_has_variance_twenty():
    """Var(x3 - 3 x2 + 3 x1 - x0) = 1 + 9 + 9 + 1 = C(6, 3) = 20 for unit white noise; with variance v_t at each
    point, the weights 1, 9, 9, 1 apply to v_t .. v_t+3."""
    from noether.discovery.drift import _difference_noise

    v = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]], dtype=torch.float64)
    np.testing.assert_allclose(_difference_noise(torch.ones(1, 20, dtype=torch.float64), 5, 3).numpy(), 20.0)
    np.testing.assert_allclose(_difference_noise(v, 5, 3).numpy(), [[1 + 18 + 27 + 4, 2 + 27 + 36 + 5]])


def test_spikiness_centres_on_the_median_difference():
    """A cubic in time adds a constant to every third difference: the MAD is taken about their median."""
    t = torch.arange(L, dtype=torch.float64).repeat(M)
    values = white(1, seed=16) + 2.0 * t**3 / 6  # third difference of t³/6 is 1: adds 2 (noise s.d. sqrt(20))
    np.testing.assert_allclose(spikiness(values, L).numpy(), [slow_spikiness(values[0].numpy(), L)], rtol=1e-2)


@pytest.mark.parametrize(
    "kwargs, named",
    [
        (dict(whiteness=0.9), "whiteness must be >= 1, got 0.9"),
        (dict(exact=1.0), r"exact must be in \[0, 1\), got 1.0"),
        (dict(spikiness=0.9), "spikiness must be >= 1, got 0.9"),
    ],
)
def test_drift_settings_name_the_bad_value(kwargs, named):
    with pytest.raises(ConfigError, match=named):
        DriftRule(**kwargs)
    DriftRule(whiteness=1.0, exact=0.0, spikiness=1.0)  # the edges themselves are allowed
    DriftRule(spikiness=1.5)


# --- the composite search stops at a conserved support: its supersets are not searched -----------------------------


def scatter(features: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Within-sequence and total scatter of features [k, m·L] (points in sequence order)."""
    g = features.reshape(len(features), m, -1)
    within = g - g.mean(-1, keepdims=True)
    total = features - features.mean(-1, keepdims=True)
    return np.einsum("imt,jmt->ij", within, within), total @ total.T


def test_composite_search_prunes_the_supersets_of_an_exactly_conserved_support():
    """Terms: 0 constant along each sequence (exactly conserved), 1 the same up to noise 1e-3 (conserved up to
    noise: not settled without a noise floor), 2 and 3 white noise. (0,) settles and no support holding term 0
    is searched further; (1,) does not, so supports growing from it still are."""
    from noether.discovery.composite.config import CompositeConfig
    from noether.discovery.composite.supports import search

    rng = np.random.default_rng(17)
    m, length = 40, 30
    level = np.repeat(rng.standard_normal(m), length)
    features = np.stack([level, level + 1e-3 * rng.standard_normal(m * length), *rng.standard_normal((2, m * length))])
    within, total = scatter(features, m)
    shuffled = features[:, rng.permutation(m * length)]
    within_r, _ = scatter(shuffled, m)
    found, searched = search(within, within_r, total, CompositeConfig(max_terms=3))
    supports = {s.terms for s in found}
    assert (0,) in supports and not any(0 in s and len(s) > 1 for s in supports)
    assert (1,) in supports and any(1 in s and len(s) > 1 for s in supports)


def test_excess_bound_on_ragged_sequences_is_the_quantile_for_that_layout():
    """White noise on twelve sequences of 4 steps and one of 40: the within / white-noise variance of short
    sequences scatters widely, so the (1 - alpha) quantile for this layout (about 1.84 at alpha = 0.01, from an
    independent Monte Carlo here) is far above the one for 13 sequences of 40 steps (about 1.20). Among the rows
    that pass the trend and spikiness tests, a row is conserved exactly when its excess is below the layout's
    quantile: about 99% of them."""
    lengths = (4,) * 12 + (40,)
    seg = Segments.contiguous(lengths)
    reference = noise_excess(torch.randn(20000, sum(lengths), generator=torch.Generator().manual_seed(1)), seg)
    bound = float(np.quantile(reference.numpy(), 0.99))
    values = torch.as_tensor(np.random.default_rng(0).normal(0, 1, (500, sum(lengths))))
    rule = DriftRule(alpha=0.01)
    d = measure_drift(values, seg, np.ones(500), rule)
    rest = (d.trend_p >= rule.alpha) & (d.spikiness <= rule.spikiness)
    clear = rest & (np.abs(d.excess - bound) > 0.05)  # away from the Monte Carlo error of either quantile
    assert 1.7 < bound and clear.sum() > 400
    np.testing.assert_array_equal(d.conserved[clear], d.excess[clear] <= bound)
    assert d.conserved[rest].mean() > 0.97


def test_a_candidate_before_any_fit_has_no_parameters_no_scores_and_the_given_reason():
    """``null.unfitted``: what a candidate the filter never fits is recorded as (its documented contract)."""
    out = unfitted(3, 2, "constant")
    assert set(out) == {"params_true", "params_rand", "s_true", "s_random", "excess", "converged", "reason"}
    for key in ("params_true", "params_rand"):
        np.testing.assert_array_equal(out[key], np.zeros((3, 2)))
        assert out[key].dtype == np.float64
    for key in ("s_true", "s_random", "excess"):
        assert out[key].shape == (3,) and np.isnan(out[key]).all() and out[key].dtype == np.float64
    assert out["converged"].dtype == bool and out["converged"].tolist() == [True] * 3
    assert out["reason"] == ["constant"] * 3
    assert unfitted(2, 1)["reason"] == [None, None] and unfitted(0, 4)["params_true"].shape == (0, 4)
