"""Composite laws join the filter's survivors as candidates of one space: same values, one ranking."""

import numpy as np
import torch

from noether.discovery import FilterConfig, filter_candidates
from noether.discovery.composite import CompositeConfig, composite_laws
from noether.discovery.merge import with_composite
from noether.dsl import space_for
from noether.systems import load_system


def test_composite_laws_become_ranked_candidates_with_their_own_values():
    traj = load_system("kepler", noise=0.0).select(list(range(12)) + list(range(40, 50)))
    space = space_for(traj, depth=3, max_params=2)
    config = FilterConfig()
    filt = filter_candidates(space, traj, config)
    comp = composite_laws(traj, CompositeConfig(derived={"r": "sqrt(x**2 + y**2)"}, term_depth=3, max_terms=3, beam=16))
    merged = with_composite(filt, comp, traj, config)
    assert len(merged.space) == len(filt.space) + len(comp.laws)
    assert (merged.table["source"] == "composite").sum() == len(comp.laws)
    assert merged.n_accepted == filt.n_accepted + len(comp.laws)
    x = traj.states.reshape(-1, traj.dim)[:200]
    for j, law in enumerate(comp.laws):
        i = len(filt.space) + j
        as_candidate = merged.space.evaluate(torch.as_tensor(x), torch.as_tensor(merged.params))
        assert np.allclose(as_candidate.values[i].numpy(), law.law.numpy(x), rtol=1e-10, atol=1e-12)
        assert i in merged.accepted_indices
    ranks = merged.table["rank"].dropna().astype(int).sort_values().tolist()
    assert ranks == list(range(1, merged.n_accepted + 1))
    # the energy (3 terms) and angular momentum are independent and both conserved
    assert len(merged.independent_indices) >= 2
    # the union is grouped again: every accepted form, composite or enumerated, in exactly one class
    members = np.concatenate(merged.classes.members)
    assert sorted(members.tolist()) == sorted(merged.accepted_indices.tolist())
    assert set(merged.independent_indices) <= set(merged.representatives.tolist())
    assert merged.table["law_class"][merged.table["accepted"]].notna().all()
    assert merged.table["forms"].sum() == merged.n_accepted


def test_a_law_the_filter_knows_keeps_the_filters_form_as_its_representative():
    traj = load_system("spring", noise=0.0).select(list(range(12)))
    space = space_for(traj, depth=7, max_params=1)
    config = FilterConfig()
    filt = filter_candidates(space, traj, config)
    comp = composite_laws(traj, CompositeConfig(term_depth=2, ops=("square",), max_terms=2, beam=8))
    assert any(law.verdict == "conserved" for law in comp.laws)  # q² + k p², found by both
    merged = with_composite(filt, comp, traj, config)
    source = merged.table["source"].to_numpy()
    for members, rep in zip(merged.classes.members, merged.representatives):
        if (source[members] == "filter").any():
            assert source[rep] == "filter"
    mixed = [m for m in merged.classes.members if len(set(source[m])) == 2]
    assert mixed  # the energy's class holds forms of both sources
