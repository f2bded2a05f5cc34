"""Early stopping within a training phase: one validation score from the per-horizon MSEs, and the best weights
kept while the phase runs (checkpointed with the run, so a resumed run stops where an uninterrupted one would)."""

from __future__ import annotations

from torch import Tensor, nn

from ..errors import ConfigError

VAL_METRICS = ("mean", "geometric")  # over horizons: the mean MSE, or the geometric mean (each one's relative error)


def horizon_score(per_horizon: Tensor, metric: str = "mean") -> float:
    """One validation score from per-horizon MSEs: their mean, or their geometric mean (``"geometric"``)."""
    if metric == "geometric":
        return float(per_horizon.double().clamp_min(1e-12).log().mean().exp())
    if metric == "mean":
        return float(per_horizon.double().mean())
    raise ConfigError(f"metric must be one of {', '.join(VAL_METRICS)}, got '{metric}'")


class EarlyStop:
    """Early stopping within one phase: keeps the weights of the best validation score and says when
    ``patience`` scores in a row have not improved on it (0: never). ``log``: (step, phase, loss, best) rows."""

    def __init__(self, patience: int):
        self.patience, self.best, self.weights, self.bad, self.log = patience, None, None, 0, []

    def score(self, step: int, phase: str, value: float, net: nn.Module) -> bool:
        """Record a validation score; True when the phase should stop."""
        if self.best is None or value < self.best:
            self.best, self.bad = value, 0
            self.weights = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            self.bad += 1
        self.log.append((step, phase, value, self.best))
        return self.patience > 0 and self.bad >= self.patience

    def restore(self, net: nn.Module) -> None:
        if self.weights is not None:
            net.load_state_dict(self.weights)

    def reset(self) -> None:
        self.best, self.weights, self.bad = None, None, 0

    def state(self) -> dict:
        return {"best": self.best, "weights": self.weights, "bad": self.bad, "log": self.log}

    @classmethod
    def from_state(cls, patience: int, state: dict | None) -> EarlyStop:
        stop = cls(patience)
        if state:
            stop.best, stop.weights, stop.bad, stop.log = state["best"], state["weights"], state["bad"], state["log"]
        return stop
