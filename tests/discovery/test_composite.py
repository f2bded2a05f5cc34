"""Composite laws: sparse sums of enumerated terms, found where no part of the sum is conserved, and none found
on systems that conserve nothing."""

import numpy as np
import pytest
import torch

from noether.discovery.composite import CompositeConfig, composite_laws
from noether.discovery.independence import state_gradients
from noether.dsl import Law
from noether.systems import load_system
from noether.systems.registry import SYSTEMS

FAST = dict(term_depth=3, max_terms=3, beam=16)


def _fresh_corr(law: Law, truth: str, traj) -> float:
    """|corr| of a found law with a true one on the TEST states (not the ones it was fitted on)."""
    x = traj.split()[1].states.reshape(-1, traj.dim)
    ref = Law.reference(truth, traj.names)
    return abs(np.corrcoef(law.numpy(x), ref.numpy(x))[0, 1])


def _functionally_spanned(found: list[Law], truth: str, traj) -> bool:
    """Whether the true law is a function of the found ones: at fresh states its gradient lies in the span of
    theirs (relative residual < 1e-6 at the median state)."""
    x = torch.as_tensor(traj.split()[1].states.reshape(-1, traj.dim)[::7])
    grads = torch.stack([state_gradients(law.torch, x) for law in found], -1)  # [N, d, k]
    g = state_gradients(Law.reference(truth, traj.names).torch, x).unsqueeze(-1)
    coef = torch.linalg.lstsq(grads, g).solution
    resid = (grads @ coef - g).norm(dim=(1, 2)) / g.norm(dim=(1, 2))
    return float(resid.median()) < 1e-6


def test_kepler_energy_is_found_although_no_pair_of_its_terms_is_conserved():
    traj = load_system("kepler", noise=0.0).select(list(range(12)) + list(range(40, 50)))
    res = composite_laws(traj, CompositeConfig(derived={"r": "sqrt(x**2 + y**2)"}, **FAST))
    conserved = [law.law for law in res.laws if law.verdict == "conserved"]
    energy = SYSTEMS["kepler"].laws[0]
    assert max(_fresh_corr(law, energy, traj) for law in conserved) > 0.999
    assert any(len(law.terms) == 3 for law in res.laws if law.verdict == "conserved")
    # the law reads in the data's own states: the derived r was substituted back
    assert all(set(law.law.names) == set(traj.names) for law in res.laws)


def test_the_2d_oscillator_gives_its_three_independent_laws():
    traj = load_system("oscillator-2d", noise=0.0).select(list(range(12)) + list(range(40, 50)))
    res = composite_laws(traj, CompositeConfig(**FAST))
    assert len(res.independent) == SYSTEMS["oscillator-2d"].independent == 3
    found = [law.law for law in res.independent_laws]
    for truth in SYSTEMS["oscillator-2d"].laws:
        assert _functionally_spanned(found, truth, traj), truth


@pytest.mark.parametrize("system", ["lorenz", "van-der-pol"])
def test_systems_that_conserve_nothing_give_no_conserved_composite_law(system):
    traj = load_system(system, noise=0.01).select(list(range(12)) + list(range(40, 50)))
    res = composite_laws(traj, CompositeConfig(**FAST))
    assert [law.expression for law in res.laws if law.verdict == "conserved"] == []
    assert res.independent == []


def test_a_library_over_the_limit_is_refused_with_the_sizes():
    traj = load_system("oscillator-2d", noise=0.0)
    with pytest.raises(Exception, match="max_library"):
        composite_laws(traj, CompositeConfig(term_depth=3, max_library=10))


def test_a_product_term_reaches_the_henon_heiles_energy():
    traj = load_system("henon-heiles", noise=0.0).select(list(range(12)) + list(range(40, 50)))
    base = dict(ops=("add", "sub", "mul", "square", "cube"), term_depth=2, max_terms=6, beam=16)
    without = composite_laws(traj, CompositeConfig(**base))
    with_products = composite_laws(traj, CompositeConfig(**base, products=2))
    energy = SYSTEMS["henon-heiles"].laws[0]
    assert not any(_fresh_corr(law.law, energy, traj) > 0.999 for law in without.laws)  # x**2*y is out of reach
    assert any(_fresh_corr(law.law, energy, traj) > 0.999 for law in with_products.laws if law.verdict == "conserved")


def test_noisy_lotka_volterra_is_found_and_conserved_with_its_uneven_noise():
    traj = load_system("lotka-volterra", noise=0.01)
    res = composite_laws(traj, CompositeConfig(ops=("add", "sub", "mul", "div", "square", "log")))
    truth = SYSTEMS["lotka-volterra"].laws[0]
    conserved = [law for law in res.laws if law.verdict == "conserved"]
    assert any(_fresh_corr(law.law, truth, traj) > 0.999 for law in conserved)
    assert len(res.independent) == 1


def test_elimination_paths_peel_off_one_law_after_another():
    """Three planted two-term laws, each noisier than the last. Three paths find all three when each found law is
    left out whole before the one-term variants (breadth first alone re-finds the second law on paths 2 and 3)."""
    from noether.discovery.composite.supports import _eliminations

    rng = np.random.default_rng(0)
    n_seq, length, k = 40, 25, 10
    x = rng.normal(size=(n_seq, length, k)).cumsum(1)  # wandering terms: nothing conserved by itself
    for (a, b), noise in zip([(0, 1), (2, 3), (4, 5)], [1e-4, 1e-3, 1e-2]):
        level = rng.normal(size=(n_seq, 1)) * 5
        x[..., b] = level - x[..., a] + noise * rng.normal(size=(n_seq, length))  # t_a + t_b constant

    def scatter(seqs):
        centred = seqs - seqs.mean(1, keepdims=True)
        return np.einsum("sti,stj->ij", centred, centred)

    flat = x.reshape(-1, k)
    total = (flat - flat.mean(0)).T @ (flat - flat.mean(0))
    within, within_r = scatter(x), scatter(flat[rng.permutation(len(flat))].reshape(x.shape))
    d = 1 / np.sqrt(np.diag(total))
    w, wr, t = (m * d[:, None] * d[None, :] for m in (within, within_r, total))
    config = CompositeConfig(paths=3, ridges=(1e-9,), max_terms=3)
    supports = _eliminations(w, wr, t, config)
    assert {(0, 1), (2, 3), (4, 5)} <= supports
