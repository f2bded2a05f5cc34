"""Schmidt & Lipson's (Science 2009) real pendulum record, preprocessed exactly as HNN's ``experiment-real``.

The file ``data/real_pend_h_1.txt`` is vendored byte-for-byte (see ``data/REAL_PENDULUM.md`` for its origin and
terms: third-party research data, cite Schmidt & Lipson 2009).
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..units import parse_unit
from .trajectories import Trajectories

FILE = "real_pend_h_1.txt"


def load_raw() -> np.ndarray:
    """The 556 x 4 table (trial, t, o, v) of the vendored file."""
    with resources.files("noether.systems").joinpath("data", FILE).open("r") as fh:
        return np.loadtxt(fh, comments="%")


def real_pendulum(test_split: float = 0.8) -> Trajectories:
    """One trajectory of 555 samples; state (q = angle o [rad], p = angular velocity v [rad/s]).

    Derivatives are forward finite differences on the real time stamps (the record has gaps); the last sample
    is dropped. Split as HNN does: test = samples [444, 554) (the end of the record), train = the rest (445).
    """
    raw = load_raw()
    t, x = raw[:, 1], raw[:, 2:4]
    dx = (x[1:] - x[:-1]) / (t[1:] - t[:-1])[:, None]
    x, t = x[:-1], t[:-1]
    n = len(x)
    a = int(n * test_split)
    b = a + int(n * (1 - test_split))
    mask = np.ones(n, bool)
    mask[a:b] = False
    return Trajectories(
        states=x[None],
        times=t[None],
        names=("q", "p"),
        units=(parse_unit("rad"), parse_unit("rad/s")),
        derivatives=dx[None],
        train_mask=mask[None],
        name="real-pendulum",
        meta={
            "source": "Schmidt & Lipson (2009), real_pend_h_1.txt",
            "derivatives": "forward finite difference",
            "hand_coded_law": "p**2 - 2.4*cos(q)",
        },
    )
