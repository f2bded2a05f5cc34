"""The names of the video path -- datasets, methods, presets -- declared once, and the check for the optional
``[video]`` extra. Imports nothing heavy, so the CLI can offer the choices on a core-only install."""

from __future__ import annotations

from importlib.util import find_spec

from ..errors import NoetherError

DATASETS: tuple[str, ...] = ("pendulum-controlled", "ramp", "pendulum-pixels")
METHODS: tuple[str, ...] = ("svg", "svg-more", "noether", "noether-law")
PRESETS: tuple[str, ...] = ("ci", "cpu", "pilot", "paper")

#: import name -> distribution of the packages that ``pip install 'noether-networks[video]'`` adds
EXTRAS: dict[str, str] = {"gymnasium": "gymnasium", "pymunk": "pymunk", "skimage": "scikit-image",
                          "torchmetrics": "torchmetrics"}


class MissingExtraError(NoetherError):
    """An optional dependency group is not installed."""


def missing_video_packages() -> list[str]:
    """The distributions of the video extra that cannot be imported here."""
    return [dist for module, dist in EXTRAS.items() if find_spec(module) is None]


def require_video() -> None:
    """Raise one clear error naming the extra to install when the video path's packages are missing."""
    missing = missing_video_packages()
    if missing:
        raise MissingExtraError(f"the video path needs the optional extra: pip install 'noether-networks[video]' "
                                f"(missing: {', '.join(missing)})")
