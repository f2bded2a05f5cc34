"""The five stages end to end (paper §4.2, App. C): enumerate -> filter -> screen -> meta-tailor -> evaluate, with the
stage cache, the ranking of laws, ``laws.json`` and the report. The CLI's ``discover`` and ``export`` are thin
shells over ``discover`` and ``export`` here."""

from .cache import StageCache, code_version, default_cache_dir
from .config import STAGES, DiscoverConfig, TailorConfig
from .laws_file import FORMATS, RankedLaw, export, read_laws, top_law, write_laws
from .run import DiscoveryResult, discover
from .stages import TailorResult

__all__ = [
    "discover",
    "DiscoverConfig",
    "DiscoveryResult",
    "TailorConfig",
    "TailorResult",
    "STAGES",
    "RankedLaw",
    "read_laws",
    "write_laws",
    "top_law",
    "export",
    "FORMATS",
    "StageCache",
    "code_version",
    "default_cache_dir",
]
