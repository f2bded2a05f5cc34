"""The names of the video path -- datasets, methods, presets -- declared once, and the check for the optional
``[video]`` extra. Imports nothing heavy, so the CLI can offer the choices on a core-only install."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from ..errors import NoetherError

DATASETS: tuple[str, ...] = ("pendulum-controlled", "ramp", "pendulum-pixels")
PRESETS: tuple[str, ...] = ("ci", "cpu", "pilot", "confirm", "paper")
#: datasets whose frames come with known states, so that a law over a fitted state readout can be the embedding,
#: and the inputs such a law may read: the readout's angle q and angular velocity p (pendulum-controlled: θ, θ̇ of
#: Pendulum-v1, q = 0 upright) and, where the frames come with actions, w = ∫ a p dt, the work integral of the
#: known torque along the window (so that "energy minus work done" can be conserved)
LAW_INPUTS: dict[str, tuple[str, ...]] = {"pendulum-controlled": ("q", "p", "w"), "pendulum-pixels": ("q", "p")}
LAW_DATASETS: tuple[str, ...] = tuple(LAW_INPUTS)


@dataclass(frozen=True)
class Method:
    """A training method: its report label, its Noether embedding (None, ``"learned"`` or ``"law"``), and whether
    it continues a finished svg run (the frozen-base protocol of App. D) rather than training from scratch."""

    name: str
    label: str
    embedding: str | None
    continues_svg: bool
    help: str


_METHODS = (
    Method("svg", "svg", None, False, "the SVG baseline"),
    Method("svg-more", "svg (more steps)", None, True, "svg trained on for exactly tune_steps more steps"),
    Method("noether", "noether", "learned", True, "a learned Noether embedding (Algorithm 1)"),
    Method(
        "noether-law",
        "noether (law)",
        "law",
        True,
        "a conservation law over a fitted state readout (--law FILE or --law-expr EXPR)",
    ),
)
METHOD_SPECS: dict[str, Method] = {m.name: m for m in _METHODS}
METHODS: tuple[str, ...] = tuple(METHOD_SPECS)

#: import name -> distribution of the packages that ``pip install 'noether-networks[video]'`` adds
EXTRAS: dict[str, str] = {
    "gymnasium": "gymnasium",
    "pymunk": "pymunk",
    "skimage": "scikit-image",
    "torchmetrics": "torchmetrics",
}


class MissingExtraError(NoetherError):
    """An optional dependency group is not installed."""


def missing_video_packages() -> list[str]:
    """The distributions of the video extra that cannot be imported here."""
    return [dist for module, dist in EXTRAS.items() if find_spec(module) is None]


def require_video() -> None:
    """Raise one clear error naming the extra to install when the video path's packages are missing."""
    missing = missing_video_packages()
    if missing:
        raise MissingExtraError(
            f"the video path needs the optional extra: pip install 'noether-networks[video]' "
            f"(missing: {', '.join(missing)})"
        )
