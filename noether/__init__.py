"""noether: discover conserved quantities from data and tailor predictions to them (Alet et al., NeurIPS 2021).

The packages read as the pipeline, every import pointing down:
``systems`` (data) -> ``dsl`` (formulas, the enumerate stage) -> ``discovery`` (the filter stage) ->
``tailoring`` (the core: Noether loss, inner step, meta-tailoring, long-term evaluation) -> ``pipeline`` (the five
stages end to end, screen, meta-tailor and evaluate, cache, report, laws.json) -> ``cli``. ``video`` (Noether
Networks on frames, the optional ``[video]`` extra) is a sibling of ``pipeline`` that shares only the tailoring core.

Table of contents:
- data: ``Trajectories``, ``load_system``, ``system_names``, ``read_trajectories``
- formulas: ``Law``, ``enumerate_space``, ``space_for``, ``CandidateSpace``
- discovery: ``filter_candidates``, ``FilterConfig``
- tailoring: ``noether_loss``, ``tailor``, ``InnerConfig``, ``InnerSetting``, ``train_baseline``, ``screen``,
  ``meta_tailor``, ``compare_methods``
- the pipeline: ``discover``, ``DiscoverConfig``, ``TailorConfig``, ``DiscoveryResult``, ``read_laws``
"""

from __future__ import annotations

import importlib

from .threads import set_wait_policy

set_wait_policy()  # before anything loads torch (see threads.py)

from .errors import DataError, NoetherError, UnitError, UnknownSystemError  # noqa: E402
from .version import __version__  # noqa: E402

# name -> the subpackage that defines it; loaded on first use, so importing one stage (``noether.dsl``) loads
# neither the stages above it nor torch-heavy ones it does not need
_CONTENTS = {
    "systems": ("Trajectories", "load_system", "system_names", "read_trajectories"),
    "dsl": ("Law", "enumerate_space", "space_for", "CandidateSpace"),
    "discovery": ("filter_candidates", "FilterConfig"),
    "tailoring": (
        "noether_loss",
        "tailor",
        "InnerConfig",
        "InnerSetting",
        "train_baseline",
        "screen",
        "meta_tailor",
        "compare_methods",
    ),
    "pipeline": ("discover", "DiscoverConfig", "TailorConfig", "DiscoveryResult", "read_laws"),
}
_WHERE = {name: package for package, names in _CONTENTS.items() for name in names}

__all__ = [*_WHERE, "NoetherError", "DataError", "UnitError", "UnknownSystemError", "__version__"]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'noether' has no attribute '{name}'")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
