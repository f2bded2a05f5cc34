"""One device resolver for every command: 'auto' (CUDA when present), 'cpu' or 'cuda' (``--device``)."""

from __future__ import annotations

import torch

from .errors import NoetherError

#: the names ``--device`` accepts everywhere (click.Choice)
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


class DeviceError(NoetherError, ValueError):
    """A device name that is not known, or CUDA asked for on a machine without it."""


def check_device(name: str | torch.device) -> str:
    """Validate a device name without touching the hardware beyond asking whether CUDA is there."""
    text = str(name)
    kind = text.split(":", 1)[0]
    if kind not in DEVICES or (kind != "cuda" and ":" in text):
        raise DeviceError(f"unknown device '{text}'; use one of {', '.join(DEVICES)}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device '{text}' requested but CUDA is not available on this machine")
    return text


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cpu' / 'cuda[:i]' as given. Raises DeviceError otherwise."""
    if isinstance(name, torch.device):
        name = str(name)
    text = check_device(name)
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(text)
