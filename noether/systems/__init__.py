"""Datasets: the Trajectories type, built-in systems, and file loaders."""

from .files import units_of
from .hnn import PENDULUM, SPRING, HamiltonianSystem
from .paper import PAPER, PaperFacts, paper_facts
from .real_pendulum import real_pendulum
from .registry import SYSTEMS, SystemSpec, get_system, load_system, system_names
from .simulated import SimulatedSystem
from .trajectories import Trajectories, read_trajectories, write_trajectories

__all__ = [
    "Trajectories",
    "load_system",
    "get_system",
    "system_names",
    "SYSTEMS",
    "SystemSpec",
    "HamiltonianSystem",
    "SPRING",
    "PENDULUM",
    "real_pendulum",
    "SimulatedSystem",
    "read_trajectories",
    "write_trajectories",
    "units_of",
    "PAPER",
    "PaperFacts",
    "paper_facts",
]
