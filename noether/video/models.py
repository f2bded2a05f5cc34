"""SVG-style video predictors f_θ (Denton & Fergus 2018) as used by Noether Networks (paper §4.1, App. D, E).

One class covers the paper's two predictors:
- controlled pendulum (App. D): DCGAN encoder/decoder, 2-layer LSTM on [encoder output, action], no latent z;
- ramp (App. E): VGG encoder/decoder with GroupNorm(1, C) + CN layers, 2-layer LSTM, and SVG-LP's learned prior and
  posterior LSTMs producing z (``z_dim`` > 0).

Frames are [B, T, C, H, W] in [0, 1]; ``actions`` [B, T, a]. Step t (t = 0 … T-2) reads frame t (the ground truth
while t < n_cond or under teacher forcing, else the model's own prediction) and outputs the prediction of frame
t + 1, so a rollout predicts frames 1 … T-1. The decoder's skip connections come from the last conditioning frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from .cn import cn_parameters
from .nets import Decoder, Encoder, GaussianLSTM, LSTMStack, gaussian_kl


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of an SVG predictor. ``depth`` is used by the vgg arch only; ``z_dim`` = 0 means deterministic.
    ``cond_z``: where z comes from while the conditioning frames are read at test time: ``"posterior"`` (SVG's
    and the paper's code: those frames' successors are known) or ``"prior"`` (the prior throughout)."""

    arch: str = "dcgan"
    nf: int = 64
    depth: tuple[int, ...] = (2, 2, 3, 3)
    g_dim: int = 128
    rnn: int = 256
    layers: int = 2
    z_dim: int = 0
    post_rnn: int = 256
    cn: bool = False
    cond_z: str = "posterior"

    def __post_init__(self):
        if self.arch not in ("dcgan", "vgg"):
            raise ConfigError(f"arch must be dcgan or vgg, got '{self.arch}'")
        if min(self.nf, self.g_dim, self.rnn, self.layers) < 1 or self.z_dim < 0:
            raise ConfigError("model sizes must be positive")
        if len(self.depth) != 4 or min(self.depth) < 1:
            raise ConfigError(f"depth needs 4 positive entries, got {self.depth}")
        if self.cond_z not in ("posterior", "prior"):
            raise ConfigError(f"cond_z must be 'posterior' or 'prior', got '{self.cond_z}'")


@dataclass
class Rollout:
    """A rollout: ``frames`` [B, T-1, C, H, W] predicts frames 1 … T-1; ``outputs`` [B, T-1, g_dim] are the
    LSTM outputs that were decoded; ``kl`` [B] is SVG-LP's KL term (zeros when deterministic)."""

    frames: Tensor
    outputs: Tensor
    kl: Tensor
    skips: list[Tensor]


class VideoPredictor(nn.Module):
    """f_θ: an SVG video predictor. See the module docstring for the time convention."""

    def __init__(self, config: ModelConfig, channels: int = 3, action_dim: int = 0, size: int = 64):
        super().__init__()
        c = config
        self.config, self.channels, self.action_dim = c, channels, action_dim
        self.encoder = Encoder(channels, c.g_dim, arch=c.arch, nf=c.nf, depth=c.depth, cn=c.cn, size=size)
        self.decoder = Decoder(channels, c.g_dim, arch=c.arch, nf=c.nf, depth=c.depth, cn=c.cn, size=size)
        self.predictor = LSTMStack(c.g_dim + c.z_dim + action_dim, c.g_dim, c.rnn, c.layers)
        if c.z_dim:
            self.posterior = GaussianLSTM(c.g_dim, c.z_dim, c.post_rnn)
            self.prior = GaussianLSTM(c.g_dim, c.z_dim, c.post_rnn)

    def theta_cn(self) -> dict[str, Tensor]:
        """The CN parameters that CNGRAD adapts (empty when the model has no CN layers)."""
        return cn_parameters(self)

    def noise(
        self, batch: int, steps: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> Tensor:
        """Standard-normal noise [steps, B, z_dim] for the latent samples (fixed so that tailoring is deterministic)."""
        return torch.randn(steps, batch, self.config.z_dim, generator=generator).to(device)

    def forward(
        self,
        frames: Tensor,
        n_cond: int,
        *,
        actions: Tensor | None = None,
        teacher_forcing: bool = True,
        eps: Tensor | None = None,
    ) -> Rollout:
        """Roll out over ``frames`` [B, T, C, H, W] (only frames < n_cond are read unless teacher forcing)."""
        B, T = frames.shape[:2]
        if T < 2 or not 1 <= n_cond < T:
            raise ValueError(f"need 1 <= n_cond < T, got n_cond={n_cond}, T={T}")
        if self.action_dim and (actions is None or actions.shape[:2] != (B, T)):
            raise ValueError(f"this predictor needs actions [B, T, {self.action_dim}] matching frames [B, T]")
        z_dim = self.config.z_dim
        if z_dim and eps is None:
            eps = frames.new_zeros(T - 1, B, z_dim)
        # encode what can be encoded in one batched pass: conditioning frames, or all under teacher forcing
        n_known = T if teacher_forcing else n_cond
        h_known, skips_known = self.encoder(frames[:, :n_known].transpose(0, 1).reshape(-1, *frames.shape[2:]))
        h_known = h_known.reshape(n_known, B, -1)
        skips = [s.reshape(n_known, B, *s.shape[1:])[n_cond - 1] for s in skips_known]
        state = prior_state = post_state = None
        outs, kls = [], []
        decoded: dict[int, Tensor] = {}
        h_prev = None
        for t in range(T - 1):
            h = h_known[t] if t < n_known else h_prev
            parts = [h]
            if z_dim:
                z, mu_p, lv_p, prior_state = self.prior.sample(h, prior_state, eps[t])
                # the posterior of the true next frame: in training (SVG-LP), and at test time while that frame
                # is a conditioning one (``cond_z``)
                if teacher_forcing or (t + 1 < n_cond and self.config.cond_z == "posterior"):
                    z, mu, lv, post_state = self.posterior.sample(h_known[t + 1], post_state, eps[t])
                    if teacher_forcing:
                        kls.append(gaussian_kl(mu, lv, mu_p, lv_p))
                parts.append(z)
            if self.action_dim:
                parts.append(actions[:, t])
            out, state = self.predictor.step(torch.cat(parts, -1), state)
            outs.append(out)
            if t + 1 >= n_known and t + 1 < T - 1:  # its prediction is read at the next step
                decoded[t] = self.decoder(out, skips)
                h_prev = self.encoder(decoded[t])[0]
        outputs = torch.stack(outs, 1)
        rest = [t for t in range(T - 1) if t not in decoded]
        for t, x in zip(rest, self.decode(outputs[:, rest], skips).unbind(1)):
            decoded[t] = x
        kl = torch.stack(kls, 1).sum(1) if kls else frames.new_zeros(B)
        return Rollout(torch.stack([decoded[t] for t in range(T - 1)], 1), outputs, kl, skips)

    def decode(self, outputs: Tensor, skips: list[Tensor]) -> Tensor:
        """LSTM outputs [B, S, g_dim] -> frames [B, S, C, H, W], all steps in one batched decoder pass."""
        B, S = outputs.shape[:2]
        flat = outputs.transpose(0, 1).reshape(S * B, -1)
        big = [s.unsqueeze(0).expand(S, *s.shape).reshape(S * B, *s.shape[1:]) for s in skips]
        return self.decoder(flat, big).reshape(S, B, *self.decoder_shape(big)).transpose(0, 1)

    def decoder_shape(self, skips: list[Tensor]) -> tuple[int, int, int]:
        h, w = skips[0].shape[-2:]
        scale = 2 if self.config.arch == "dcgan" else 1
        return self.channels, h * scale, w * scale
