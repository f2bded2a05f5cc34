"""Building blocks of the SVG video predictors (Denton & Fergus 2018): frame encoders/decoders and LSTMs.

Frames are 64×64 or 128×128 (``size``; the paper's ramp is 128). Two encoder/decoder families, each with skip
connections from the last conditioning frame, with one resolution level per halving down to 4×4 (4 levels at 64,
5 at 128, as SVG's ``vgg_128``):
- ``dcgan``: strided 4×4 (transposed) convolutions, widths nf·(1, 2, 4, 8[, 8]) (App. D, controlled pendulum);
- ``vgg``: ``depth[i]`` 3×3 convolutions per resolution level with 2×2 max-pooling / nearest upsampling, widths
  nf·(1, 2, 4, 8[, 8]) (App. E; the paper's VGG16 widths are nf = 64 with depth (2, 2, 3, 3); a fifth level
  repeats the last depth).
Every normalisation is GroupNorm(1, C), optionally followed by a CN layer (:mod:`.cn`).
The LSTMs are written as explicit state-passing steps so they work inside ``torch.func`` transforms.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from .cn import NormCN

State = list[tuple[Tensor, Tensor]]


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


class ConvBlock(nn.Module):
    """conv (or transposed conv) -> GroupNorm(1, C) [-> CN] -> LeakyReLU."""

    def __init__(
        self,
        cin: int,
        cout: int,
        k: int,
        s: int,
        p: int,
        *,
        cn: bool,
        transposed: bool = False,
        act: nn.Module | None = None,
    ):
        super().__init__()
        conv = nn.ConvTranspose2d if transposed else nn.Conv2d
        self.conv = conv(cin, cout, k, s, p)
        self.norm = NormCN(cout, cn)
        self.act = act if act is not None else _act()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


def level_widths(nf: int, size: int) -> list[int]:
    """Channel widths of the resolution levels for ``size`` × ``size`` frames: nf·(1, 2, 4, 8), then 8·nf again
    for every further halving (128 px: five levels)."""
    if size not in (64, 128):
        raise ValueError(f"frames must be 64 or 128 pixels square, got {size}")
    return [nf, 2 * nf, 4 * nf, 8 * nf] + [8 * nf] * (size.bit_length() - 7)


class Encoder(nn.Module):
    """x [N, C, size, size] -> (h [N, dim], skips: list of feature maps, finest first)."""

    def __init__(
        self,
        channels: int,
        dim: int,
        *,
        arch: str = "dcgan",
        nf: int = 64,
        depth: Sequence[int] = (2, 2, 3, 3),
        cn: bool = False,
        size: int = 64,
    ):
        super().__init__()
        if arch not in ("dcgan", "vgg"):
            raise ConfigError(f"unknown encoder arch '{arch}' (dcgan or vgg)")
        self.arch = arch
        widths = level_widths(nf, size)
        depth = [*depth] + [depth[-1]] * (len(widths) - len(depth))
        levels = []
        cin = channels
        for i, w in enumerate(widths):
            if arch == "dcgan":
                if i == 0:
                    levels.append(nn.Sequential(nn.Conv2d(cin, w, 4, 2, 1), _act()))
                else:
                    levels.append(ConvBlock(cin, w, 4, 2, 1, cn=cn))
            else:
                layers = [ConvBlock(cin if j == 0 else w, w, 3, 1, 1, cn=cn) for j in range(depth[i])]
                levels.append(nn.Sequential(*layers))
            cin = w
        self.levels = nn.ModuleList(levels)
        self.pool = nn.MaxPool2d(2) if arch == "vgg" else nn.Identity()
        self.head = ConvBlock(cin, dim, 4, 1, 0, cn=cn, act=nn.Tanh())

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        skips = []
        for level in self.levels:
            x = level(x)
            skips.append(x)
            x = self.pool(x)
        return self.head(x).flatten(1), skips


class Decoder(nn.Module):
    """(h [N, dim], skips from :class:`Encoder`) -> frames [N, C, size, size] in [0, 1] (sigmoid)."""

    def __init__(
        self,
        channels: int,
        dim: int,
        *,
        arch: str = "dcgan",
        nf: int = 64,
        depth: Sequence[int] = (2, 2, 3, 3),
        cn: bool = False,
        size: int = 64,
    ):
        super().__init__()
        self.arch = arch
        widths = level_widths(nf, size)
        depth = [*depth] + [depth[-1]] * (len(widths) - len(depth))
        self.head = ConvBlock(dim, widths[-1], 4, 1, 0, cn=cn, transposed=True)
        levels = []
        for i in reversed(range(len(widths))):
            w, cin = widths[i], 2 * widths[i]
            out = widths[i - 1] if i > 0 else nf
            if arch == "dcgan":
                if i == 0:
                    levels.append(nn.ConvTranspose2d(cin, channels, 4, 2, 1))
                else:
                    levels.append(ConvBlock(cin, out, 4, 2, 1, cn=cn, transposed=True))
            else:
                layers = [
                    ConvBlock(cin if j == 0 else w, w if j < depth[i] - 1 else out, 3, 1, 1, cn=cn)
                    for j in range(depth[i])
                ]
                if i == 0:
                    layers.append(nn.Conv2d(out, channels, 3, 1, 1))
                levels.append(nn.Sequential(*layers))
        self.levels = nn.ModuleList(levels)
        self.up = nn.Upsample(scale_factor=2, mode="nearest") if arch == "vgg" else nn.Identity()

    def forward(self, h: Tensor, skips: list[Tensor]) -> Tensor:
        x = self.head(h[:, :, None, None])
        for level, skip in zip(self.levels, reversed(skips)):
            x = level(torch.cat([self.up(x), skip], 1))
        return torch.sigmoid(x)


class LSTMStack(nn.Module):
    """SVG's frame predictor: Linear embed -> ``layers`` LSTMCells (hidden ``hidden``) -> Linear -> tanh.

    ``step(x [B, in], state) -> (out [B, out], state)``; ``state=None`` starts from zeros.
    """

    def __init__(self, inp: int, out: int, hidden: int, layers: int = 2, *, tanh: bool = True):
        super().__init__()
        self.hidden, self.layers = hidden, layers
        self.embed = nn.Linear(inp, hidden)
        self.cells = nn.ModuleList([nn.LSTMCell(hidden, hidden) for _ in range(layers)])
        self.out = nn.Sequential(nn.Linear(hidden, out), nn.Tanh()) if tanh else nn.Linear(hidden, out)

    def init_state(self, x: Tensor) -> State:
        z = x.new_zeros(x.shape[0], self.hidden)
        return [(z, z) for _ in self.cells]

    def core(self, x: Tensor, state: State | None) -> tuple[Tensor, State]:
        state = self.init_state(x) if state is None else state
        h = self.embed(x)
        new = []
        for cell, s in zip(self.cells, state):
            hc = cell(h, s)
            new.append(hc)
            h = hc[0]
        return h, new

    def step(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        h, new = self.core(x, state)
        return self.out(h), new


class GaussianLSTM(LSTMStack):
    """SVG-LP's prior / posterior: ``step(x, state, eps) -> (z, mu, logvar, state)`` with z = mu + eps·σ."""

    def __init__(self, inp: int, z_dim: int, hidden: int, layers: int = 1):
        super().__init__(inp, 2 * z_dim, hidden, layers, tanh=False)
        self.z_dim = z_dim

    def sample(self, x: Tensor, state: State | None, eps: Tensor):
        out, state = self.step(x, state)
        mu, logvar = out.chunk(2, dim=-1)
        return mu + eps * torch.exp(0.5 * logvar), mu, logvar, state


def gaussian_kl(mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor) -> Tensor:
    """KL(N(mu1, σ1²) || N(mu2, σ2²)) summed over the last axis: [..., z] -> [...]."""
    kl = 0.5 * (logvar2 - logvar1 + (logvar1.exp() + (mu1 - mu2) ** 2) / logvar2.exp() - 1)
    return kl.sum(-1)
