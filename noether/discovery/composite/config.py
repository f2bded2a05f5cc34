"""The composite search's settings: the term library, the support search and the acceptance rule it shares
with the filter. Its own module so that ``search.py`` and ``supports.py`` both read it without a cycle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...dsl.grammar import DEFAULT_OPERATORS
from ...errors import ConfigError
from ..drift import DriftRule
from ..null import AcceptanceRule


@dataclass(frozen=True)
class CompositeConfig:
    """term_depth: nodes per library term; ops: the terms' operators; derived: extra inputs, name -> formula over
    the states; max_terms: terms per law; beam: supports kept per size; max_library: a library larger than this
    is refused (raise term_depth's cost knowingly); rule: the acceptance rule (the filter's); degenerate: the
    smallest eigenvalue of a support's standardised total scatter below which its terms are dependent;
    thresholds: the sparse regressions' thresholds on standardised coefficients; max_regression: the largest
    library the regressions run on (their cost grows as its fourth power); paths: backward-elimination paths,
    each from the library less some found laws' terms; ridges: the paths' pencil regularisations, each a tree of
    paths (``supports._elimination_path``; chosen with ``benchmarks/bench_systems.py``: alone, 1e-3 found the most true
    laws at noise 0.01 and 0.05 on the double pendulum, Kepler and Hénon-Heiles among 1e-9, 1e-4, 1e-3, 1e-2,
    but lost Lotka-Volterra's, which 1e-9 finds: both run);
    products: the library also holds the product of every pair of terms of at most this many nodes (0: none), so
    a monomial such as x²·y (Hénon-Heiles) or x·vy² (Runge-Lenz) is one term without enumerating depth 4-5;
    product_nodes: the library also holds the product of every pair of terms of at most this many nodes together
    (0: none): x·y·z as (x·y)·z without the products of two 3-node terms that ``products=3`` also makes;
    independence_tol: the median smallest singular value of the unit gradients below which a law counts as a
    function of the ones before it (``independence.independent_set``; the filter's 0.1 undercounts the true
    laws themselves on orbits: Kepler's energy, L and Runge-Lenz x give a median of 0.069, the two-body
    problem's six 0.019, while a law fitted as a function of others stays near its coefficients' error);
    relative: relative coordinates, name -> 'a - b' of two states with one unit, for a system the user declares
    translation-invariant in them: the library gains a family of terms over these coordinates alone (and the
    derived inputs that do not change when each group of linked states shifts together), enumerated to
    max(term_depth, relative_products) nodes, with products of family terms up to ``relative_products`` nodes
    -- the cubic monomials of a relative Runge-Lenz vector, which the same products over all 8 two-body states
    would multiply past ``max_library``;
    seed: the random sequences; window: sequence length (None: whole trajectories, as the filter); drift: the
    test that labels each accepted law conserved or approximate (the filter's)."""

    term_depth: int = 3
    ops: tuple[str, ...] = DEFAULT_OPERATORS
    derived: tuple[tuple[str, str], ...] = ()
    max_terms: int = 4
    beam: int = 64
    thresholds: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.5)
    max_regression: int = 600
    paths: int = 16
    ridges: tuple[float, ...] = (1e-9, 1e-3)
    products: int = 0
    product_nodes: int = 0
    relative: tuple[tuple[str, str], ...] = ()
    relative_products: int = 3
    independence_tol: float = 0.02
    max_library: int = 3000
    rule: AcceptanceRule = AcceptanceRule()
    degenerate: float = 1e-6
    seed: int = 0
    window: int | None = None
    drift: DriftRule = DriftRule()

    def __post_init__(self):
        if isinstance(self.derived, Mapping):
            object.__setattr__(self, "derived", tuple(self.derived.items()))
        if isinstance(self.relative, Mapping):
            object.__setattr__(self, "relative", tuple(self.relative.items()))
        if self.term_depth < 1 or self.max_terms < 1 or self.beam < 1:
            raise ConfigError(
                f"term_depth, max_terms and beam must be >= 1, got {self.term_depth}, {self.max_terms}, {self.beam}"
            )
        counts = (self.products, self.product_nodes, self.relative_products, self.paths)
        if min(counts) < 0 or not self.independence_tol > 0:
            raise ConfigError(
                f"products, product_nodes, relative_products and paths must be >= 0 and independence_tol > 0, got "
                f"{', '.join(map(str, counts))}, {self.independence_tol}"
            )
