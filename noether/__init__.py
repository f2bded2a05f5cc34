"""noether: discover conserved quantities from data and tailor predictions to them (Alet et al., NeurIPS 2021)."""

from importlib.metadata import PackageNotFoundError, version

from .errors import DataError, NoetherError, UnitError, UnknownSystemError
from .systems import Trajectories, load_system, system_names

try:
    __version__ = version("noether")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+local"

__all__ = [
    "Trajectories", "load_system", "system_names",
    "NoetherError", "DataError", "UnitError", "UnknownSystemError", "__version__",
]
