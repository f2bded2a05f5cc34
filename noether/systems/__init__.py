"""Datasets: the Trajectories type, built-in systems, and file loaders."""

from .files import read_trajectories, units_of, write_trajectories
from .hnn import PENDULUM, SPRING, HamiltonianSystem
from .real_pendulum import real_pendulum
from .registry import SYSTEMS, SystemSpec, get_system, load_system, system_names
from .trajectories import Trajectories

__all__ = [
    "Trajectories", "load_system", "get_system", "system_names", "SYSTEMS", "SystemSpec",
    "HamiltonianSystem", "SPRING", "PENDULUM", "real_pendulum",
    "read_trajectories", "write_trajectories", "units_of",
]
