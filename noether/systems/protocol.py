"""Data protocols of the paper's simulated systems (spring, pendulum): which data a run's Tables 1-2 figures are
measured on. 'hnn': HNN's data, Gaussian noise of std 0.1 on the observed states (the default); 'paper': the same
ODEs "without noise", as the paper's App. C says it ran them. Everything else (trajectories, split, seeds) is the
same under both."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Protocol:
    """A named way of generating a system's data. noise: the observation noise's std (absolute, as HNN's)."""

    name: str
    noise: float
    description: str


PROTOCOLS: dict[str, Protocol] = {
    "hnn": Protocol("hnn", 0.1, "HNN's data: Gaussian noise of std 0.1 on the observed states"),
    "paper": Protocol("paper", 0.0, "noise-free ODE data, as the paper's App. C says it ran them"),
}
DEFAULT_PROTOCOL = "hnn"
PROTOCOL_SYSTEMS = ("spring", "pendulum")  # the systems the protocols name (the paper's, from HNN's code)


def get_protocol(name: str, system: str) -> Protocol:
    """The protocol ``name`` for ``system``; a ConfigError for an unknown name or a system it does not apply to."""
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol '{name}'; protocols are: {', '.join(PROTOCOLS)}")
    if system not in PROTOCOL_SYSTEMS:
        raise ConfigError(
            f"protocol '{name}' applies to {' and '.join(PROTOCOL_SYSTEMS)} only (the paper's simulated "
            f"systems), not '{system}'; give the noise level with noise= / --noise instead"
        )
    return PROTOCOLS[name]


def protocol_of(system: str, noise: float) -> str | None:
    """The name of the protocol that ``noise`` on ``system`` is, None when it is none of them."""
    if system not in PROTOCOL_SYSTEMS:
        return None
    return next((p.name for p in PROTOCOLS.values() if p.noise == noise), None)
