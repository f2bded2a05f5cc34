"""The composite search: conserved sparse sums of small library terms, laws past the enumerable depth.

``search.py`` runs it (``composite_laws``), ``config.py`` holds its settings, ``supports.py`` the sparse support
search, ``inputs.py`` the derived inputs and ``relative.py`` the relative coordinates of a translation-invariant
system. ``discovery/merge.py`` merges its laws into the filter's survivors.
"""

from .config import CompositeConfig
from .search import CompositeLaw, CompositeResult, composite_laws, noise_scale

__all__ = ["CompositeConfig", "CompositeLaw", "CompositeResult", "composite_laws", "noise_scale"]
