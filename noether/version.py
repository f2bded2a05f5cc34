"""The installed package's version (``noether.__version__``), read once from the package metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("noether")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+local"
