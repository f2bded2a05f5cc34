"""noether: discover conserved quantities from data and tailor predictions to them (Alet et al., NeurIPS 2021).

Table of contents:
- data: ``Trajectories``, ``load_system``, ``system_names``
- formulas: ``Law``, ``enumerate_space``, ``space_for``, ``CandidateSpace``
- discovery: ``discover`` (the whole pipeline), ``DiscoverConfig``, ``DiscoveryResult``, ``filter_candidates``,
  ``FilterConfig``, ``TailorConfig``
- tailoring: ``noether_loss``, ``tailor``, ``InnerConfig``, ``train_baseline``, ``meta_tailor``, ``screen``,
  ``compare_methods``
- video: ``noether.tailoring.video`` (Noether Networks on frames), ``noether.systems.video`` (datasets)
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import DataError, NoetherError, UnitError, UnknownSystemError
from .systems import Trajectories, load_system, system_names

try:
    __version__ = version("noether")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+local"

from .discovery import FilterConfig, filter_candidates  # noqa: E402
from .discovery.pipeline import DiscoverConfig, DiscoveryResult, discover  # noqa: E402
from .discovery.tailor_stages import TailorConfig  # noqa: E402
from .dsl import CandidateSpace, Law, enumerate_space, space_for  # noqa: E402
from .tailoring import (InnerConfig, compare_methods, meta_tailor, noether_loss, screen, tailor,  # noqa: E402
                        train_baseline)

__all__ = [
    "Trajectories", "load_system", "system_names",
    "Law", "enumerate_space", "space_for", "CandidateSpace",
    "discover", "DiscoverConfig", "DiscoveryResult", "filter_candidates", "FilterConfig", "TailorConfig",
    "noether_loss", "tailor", "InnerConfig", "train_baseline", "meta_tailor", "screen", "compare_methods",
    "NoetherError", "DataError", "UnitError", "UnknownSystemError", "__version__",
]
