"""The installed package's version (``noether.__version__``), read once from the package metadata. The
distribution is ``noether-networks`` (the import name stays ``noether``)."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "noether-networks"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+local"
