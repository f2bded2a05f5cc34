"""Noether embeddings g_φ: what the inner loop conserves (paper §3, App. D, App. E, and a discovered law).

- :class:`FramePairEmbedding` (App. E): two 5×5 convolutions (32, 64 filters), each with ReLU and 2×2 max-pooling,
  then a linear layer to k = 64, over two consecutive frames stacked on channels: [N, 2C, H, W] -> [N, k].
- :class:`OutputEmbedding` (App. D): an MLP (3 hidden layers of 512, output 100) over the LSTM outputs of the last
  two steps and the latest action.
- :class:`LawEmbedding`: g = s · law(readout(frames)) with a state readout CNN mapping two consecutive frames to the
  law's inputs (q, p; with actions also w = ∫ a p dt) and a learnable scale s = exp(log_scale) (initially 1) that
  lets the outer loop set the strength of the conservation (for a learned CNN this scale is implicit in its
  weights). k = 1.
Frame embeddings expose ``pairs(seq [B, T, C, H, W]) -> [B, T-1, k]`` (pair j is frames j, j+1).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _pairs(seq: Tensor) -> Tensor:
    """[B, T, C, H, W] -> [B*(T-1), 2C, H, W]: consecutive frames (j, j+1) stacked on channels."""
    B, T = seq.shape[:2]
    return torch.cat([seq[:, :-1], seq[:, 1:]], 2).reshape(B * (T - 1), 2 * seq.shape[2], *seq.shape[3:])


class FramePairEmbedding(nn.Module):
    """g_φ of App. E: [N, 2C, H, W] -> [N, k]."""

    def __init__(self, channels: int, size: int = 64, filters: tuple[int, int] = (32, 64), k: int = 64):
        super().__init__()
        self.k = k
        self.net = nn.Sequential(
            nn.Conv2d(2 * channels, filters[0], 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(filters[0], filters[1], 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(filters[1] * (size // 4) ** 2, k),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def pairs(self, seq: Tensor) -> Tensor:
        return self(_pairs(seq)).reshape(seq.shape[0], seq.shape[1] - 1, self.k)


class OutputEmbedding(nn.Module):
    """g_φ of App. D: MLP([o_{t-1}, o_t, a_t]) with ``layers`` hidden layers of ``hidden`` units -> [.., k]."""

    def __init__(self, g_dim: int, action_dim: int, hidden: int = 512, layers: int = 3, k: int = 100):
        super().__init__()
        dims = [2 * g_dim + action_dim] + [hidden] * layers
        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            mods += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*mods, nn.Linear(dims[-1], k))
        self.k = k

    def sequence(self, outputs: Tensor, actions: Tensor) -> Tensor:
        """outputs [B, S, g] (o_0 … o_{S-1}), actions [B, S, a] -> e [B, S-1, k] with e_j = g(o_j, o_{j+1}, a_{j+1})."""
        return self.net(torch.cat([outputs[:, :-1], outputs[:, 1:], actions[:, 1:]], -1))


class StateReadout(nn.Module):
    """Two consecutive frames [N, 2C, H, W] -> pendulum state (q, p) [N, 2]; q = atan2(sin, cos) of two outputs,
    so the angle's wrap-around at ±π costs the readout nothing."""

    def __init__(self, channels: int, size: int = 64, width: int = 16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2 * channels, width, 5, 2, 2),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 5, 2, 2),
            nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * width * (size // 8) ** 2, 64),
            nn.ReLU(),
            nn.Linear(64, 3),
        )

    def forward(self, x: Tensor) -> Tensor:
        c, s, p = self.net(x).unbind(-1)
        return torch.stack([torch.atan2(s, c), p], -1)

    def pairs(self, seq: Tensor) -> Tensor:
        """[B, T, C, H, W] -> states of frames 1 … T-1 read from pairs (j, j+1): [B, T-1, 2]."""
        return self(_pairs(seq)).reshape(seq.shape[0], seq.shape[1] - 1, 2)


def work_integral(p: Tensor, actions: Tensor, dt: float) -> Tensor:
    """w_j = Σ_{i<j} a_{i+1} (p_i + p_{i+1}) / 2 · dt along the readout's states (pair j is frame j+1): the work
    integral of the known torque, from the first state read. p [B, S], actions [B, S+1, 1] (a_t drives frame t+1)
    -> [B, S]."""
    step = actions[:, 1 : p.shape[1], 0] * (p[:, :-1] + p[:, 1:]) / 2 * dt
    return torch.cat([p.new_zeros(p.shape[0], 1), step.cumsum(1)], 1)


class LawEmbedding(nn.Module):
    """g = s · law(readout(x_{t-1}, x_t)) with k = 1. ``law`` maps X [..., d] (its inputs, in ``law_columns``
    order of (q, p, w)) to [...] differentiably (``Law.torch``). ``dt`` > 0: the frames come with actions and the
    law may read w, their work integral (:func:`work_integral`)."""

    def __init__(self, law, law_columns: list[int], readout: StateReadout, dt: float = 0.0):
        super().__init__()
        self.law, self.readout, self.k, self.dt = law, readout, 1, dt
        self.register_buffer("columns", torch.as_tensor(law_columns, dtype=torch.long), persistent=False)
        self.log_scale = nn.Parameter(torch.zeros(()))

    @property
    def reads_actions(self) -> bool:
        return bool(self.dt) and 2 in self.columns.tolist()

    def pairs(self, seq: Tensor, actions: Tensor | None = None) -> Tensor:
        """[B, T, C, H, W] (and actions [B, T, 1] when the law reads w) -> [B, T-1, 1]."""
        states = self.readout.pairs(seq)
        if self.reads_actions:
            if actions is None:
                raise ValueError("this law reads the work integral w: pass the actions")
            states = torch.cat([states, work_integral(states[..., 1], actions, self.dt).unsqueeze(-1)], -1)
        value = self.law.torch(states.index_select(-1, self.columns))
        value = torch.nan_to_num(value, nan=0.0, posinf=0.0, neginf=0.0)  # unsafe law values masked, not raised
        return (self.log_scale.exp() * value).unsqueeze(-1)
