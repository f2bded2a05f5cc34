"""The composite search: conserved sparse sums of small library terms, laws past the enumerable depth.

``search.py`` runs it (``composite_laws``), ``config.py`` holds its settings, ``supports.py`` the sparse support
search, ``inputs.py`` the derived inputs, ``auto.py`` the ones chosen from the data and its units,
``portfolio.py`` the default search (one policy for every system, ``DefaultPolicy``) and ``relative.py`` the
relative coordinates of a translation-invariant system. ``discovery/merge.py`` merges its laws into the filter's
survivors.
"""

from .auto import AutoInputs
from .config import CompositeConfig
from .portfolio import DefaultPolicy, composite_search, default_laws, describe
from .search import CompositeLaw, CompositeResult, composite_laws, noise_scale

__all__ = [
    "AutoInputs",
    "CompositeConfig",
    "CompositeLaw",
    "CompositeResult",
    "DefaultPolicy",
    "composite_laws",
    "composite_search",
    "default_laws",
    "describe",
    "noise_scale",
]
