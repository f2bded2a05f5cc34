"""The default composite search (no per-system setting) on a system nobody tuned it on: two oscillators coupled
by a cross term, whose invariants are quadratic forms with cross terms (more than the old four terms)."""

import numpy as np
import scipy.linalg
import torch

from noether.discovery.composite import CompositeConfig, DefaultPolicy, composite_search, default_laws, describe
from noether.discovery.composite.portfolio import default_libraries
from noether.discovery.independence import state_gradients
from noether.dsl import Law
from noether.systems import Trajectories
from noether.units import resolve_units

NAMES = ("q1", "q2", "p1", "p2")
K = 0.37  # the coupling: H = (p1² + p2²)/2 + (q1² + q2²)/2 + K q1 q2


def _coupled(noise: float = 0.0) -> Trajectories:
    """Exact solutions x(t) = expm(A t) x0 of the linear system dq = p, dp = -(q + K q_other)."""
    a = np.zeros((4, 4))
    a[0, 2] = a[1, 3] = 1
    a[2:, :2] = -np.array([[1, K], [K, 1]])
    t = np.linspace(0, 8, 100)
    flows = np.stack([scipy.linalg.expm(a * s) for s in t])  # [T, 4, 4]
    x0 = np.random.default_rng(3).normal(size=(24, 4))
    states = np.einsum("tij,nj->nti", flows, x0)
    derivs = states @ a.T
    rng = np.random.default_rng(4)
    states = states + noise * states.std((0, 1)) * rng.normal(size=states.shape)
    return Trajectories(
        states=states,
        times=np.tile(t, (24, 1)),
        names=NAMES,
        units=resolve_units(NAMES, {"q1": "m", "q2": "m", "p1": "m/s", "p2": "m/s"}),
        derivatives=derivs,
        name="coupled",
    )


def _spanned(found: list[Law], truth: str, traj: Trajectories) -> float:
    """Median relative residual of the true law's gradient outside the span of the found laws' gradients."""
    x = torch.as_tensor(traj.states.reshape(-1, traj.dim)[::5])
    grads = torch.stack([state_gradients(law.torch, x) for law in found], -1)
    g = state_gradients(Law.reference(truth, traj.names).torch, x).unsqueeze(-1)
    resid = (grads @ torch.linalg.lstsq(grads, g).solution - g).norm(dim=(1, 2)) / g.norm(dim=(1, 2))
    return float(resid.median())


def test_the_forms_library_reaches_the_energy_and_both_mode_energies_of_coupled_oscillators():
    traj = _coupled()
    res = default_laws(traj, DefaultPolicy(sums=False))
    found = [law.law for law in res.independent_laws]
    assert len(found) == 2  # two incommensurate normal modes: two independent quadratic invariants
    energy = f"(p1**2 + p2**2)/2 + (q1**2 + q2**2)/2 + {K}*q1*q2"
    mode = f"(p1 + p2)**2 + {1 + K}*(q1 + q2)**2"
    for truth in (energy, mode):
        assert _spanned(found, truth, traj) < 1e-6, truth
    assert any(len(law.terms) > 4 for law in res.laws if law.verdict == "conserved")  # sums past 4 terms
    assert res.notes and res.notes[0].startswith("forms:")


def test_the_portfolio_is_chosen_from_the_number_of_states_alone():
    traj = _coupled()
    (name, forms), (_, sums) = default_libraries(traj)
    assert name == "forms" and forms.max_terms == 10 and forms.derived == ()  # 4 states: 10 quadratic monomials
    assert sums.derived == (("r_q1_q2", "sqrt(q1**2 + q2**2)"),)  # q1, q2: positions of one unit
    assert sums.max_terms == DefaultPolicy.sum_terms
    assert "r_q1_q2 = sqrt(q1**2 + q2**2)" in describe(traj, DefaultPolicy())
    assert describe(traj, CompositeConfig()).startswith("library: term depth 3")


def test_an_expert_library_still_runs_alone():
    traj = _coupled().select(list(range(8)))
    res = composite_search(traj, CompositeConfig(term_depth=2, ops=("square",), max_terms=2, beam=8))
    assert res.notes == () and all(len(law.terms) <= 2 for law in res.laws)
