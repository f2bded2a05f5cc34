"""Two scores that need no variety of levels: each is a ratio of two quadratic forms of a law's values on a stack
of point blocks (block 0 the data), so the filter fits them as it fits the paper's score -- an exact pencil for
affine candidates (``fit_exact.solve_pencil``), batched Newton for the rest (``fit_gradient``).

- ``DerivativeContrast`` (the filter's choice, see ``single.py``): a conserved g has grad(g) . xdot = 0 along the
  data. In coordinates scaled by each state's spread (so the angle does not depend on units), with u the unit
  direction of xdot at each point and h = ``STEP``,

      S = sum_i (g(x_i + h u_i) - g(x_i - h u_i))^2 / 4  /  sum_i sum_j (g(x_i + h e_j) - g(x_i))^2

  = the mean squared cosine between grad(g) and xdot, each point weighted by |grad g|^2 (0 <= S <~ 1). xdot is
  the data's own, or estimated (``single._rates``). Its null: the same with the directions u drawn
  from other points (a permutation): what g reaches against directions that are no dynamics.
- ``ShuffleContrast``: each coordinate permuted independently within each sequence (every marginal kept, the
  joint structure broken), S = W(data) / (W(data) + W(shuffle A)) with W the within-sequence scatter; its null
  puts a second shuffle B in place of the data. Measured weakness (benchmarks/results/one_recording.md): the
  shuffle makes states the data never visit (the middle of an orbit), where a formula with a singularity, such
  as 1/(q**4*w**4), is huge, so the variances are ruled by those few points and such formulas win.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .score import Segments, constant_threshold, scatter_matrices, within_variance

#: finite-difference step in units of each state's spread: float64 round-off (1e-16 / h) and the central
#: difference's truncation (h^2) are both far below any noise a recording has
STEP = 1e-4
RESOLVE = 1e3  # a difference of g below this many ulps of g is round-off (see ``_mean_cosine``)


class ShuffleContrast:
    """The coordinate-shuffle score on data x [N, d] in sequence order (``index``: their grouping)."""

    name = "coordinate-shuffle"
    blocks = 2

    def __init__(self, x: Tensor, lengths: np.ndarray, index: Tensor | Segments, seed: int, dxdt=None):
        self.n, self.index = x.shape[0], index
        shuf_a, shuf_b = coordinate_shuffled(x, lengths, seed), coordinate_shuffled(x, lengths, seed + 1)
        self.true_points, self.null_points = torch.cat([x, shuf_a]), torch.cat([shuf_b, shuf_a])

    def rows(self, rows: Tensor, index) -> ShuffleContrast:
        """The same contrast on a subset of the data's points (whole sequences, grouped by ``index``)."""
        return _Sub(self, rows, index, 2)

    def score(self, values: Tensor) -> Tensor:
        """values [..., 2N] -> S [...] (NaN where g is constant on both blocks)."""
        w_data = within_variance(values[..., : self.n], self.index)
        w_ref = within_variance(values[..., self.n :], self.index)
        return _ratio(w_data, w_data + w_ref, values)

    def spread(self, values: Tensor) -> Tensor:
        """g's within-sequence variance on the data over that on shuffle A, values [..., 2N] -> [...]: the
        relative spread the drift test calls exact below 1e-14 (``DriftRule.exact`` squared)."""
        return within_variance(values[..., : self.n], self.index) / within_variance(values[..., self.n :], self.index)

    def forms(self, feats: Tensor) -> tuple[Tensor, Tensor]:
        """Features [n, K, 2N] -> (A, B) [n, K, K] with S = aᵀAa / aᵀBa."""
        w_data = scatter_matrices(feats[..., : self.n], self.index)[0]
        w_ref = scatter_matrices(feats[..., self.n :], self.index)[0]
        return w_data, w_data + w_ref


class DerivativeContrast:
    """The derivative score on data x [N, d] with their time derivatives dxdt [N, d]."""

    name = "derivative"

    def __init__(self, x: Tensor, lengths: np.ndarray, index, seed: int, dxdt: Tensor | None = None):
        if dxdt is None:
            raise ValueError("the derivative score needs the data's dx/dt")
        self.n, self.d, self.index = x.shape[0], x.shape[1], index
        self.blocks = 3 + self.d
        spread = x.std(0)
        spread = torch.where(spread > 0, spread, torch.ones_like(spread))
        z = dxdt / spread
        speed = z.norm(dim=-1, keepdim=True)
        unit = z / speed.clamp_min(torch.finfo(x.dtype).tiny)
        #: max over median of the speed in units of each state's spread (``singular.py``'s yardstick)
        self.speed_range = float(speed.max() / speed.median().clamp_min(torch.finfo(x.dtype).tiny))
        gen = torch.Generator(device="cpu").manual_seed(seed)
        other = unit[torch.randperm(self.n, generator=gen).to(x.device)]
        axes = [x + STEP * spread[j] * torch.eye(self.d, dtype=x.dtype, device=x.device)[j] for j in range(self.d)]
        self.true_points = torch.cat([x, x + STEP * unit * spread, x - STEP * unit * spread, *axes])
        self.null_points = torch.cat([x, x + STEP * other * spread, x - STEP * other * spread, *axes])

    def rows(self, rows: Tensor, index) -> _Sub:
        return _Sub(self, rows, index, 3 + self.d)

    def score(self, values: Tensor) -> Tensor:
        """values [..., (3 + d)N] -> S [...]: the mean over the points of cos^2(grad g, xdot) (NaN where g's
        gradient vanishes at every point)."""
        along, norm = self._parts(values)
        return _mean_cosine(along, norm, values.unflatten(-1, (3 + self.d, -1))[..., 0, :])

    def _parts(self, values: Tensor) -> tuple[Tensor, Tensor]:
        """(squared central difference along u /4, squared gradient norm), each [..., N]."""
        blocks = values.unflatten(-1, (3 + self.d, -1))
        return ((blocks[..., 1, :] - blocks[..., 2, :]) / 2).square(), (
            blocks[..., 3:, :] - blocks[..., :1, :]
        ).square().sum(-2)

    def forms(self, feats: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Features [n, K, (3 + d)N] -> (A, B) [n, K, K] with aᵀAa / aᵀBa = sum_i w_i (g_u)_i^2 / sum_i w_i
        |grad g|_i^2 (weights [n, N], default 1). With w_i = 1 / |grad g|_i^2 this is S (``fit_forms``)."""
        blocks = feats.unflatten(-1, (3 + self.d, -1))
        along = (blocks[..., 1, :] - blocks[..., 2, :]) / 2
        steps = blocks[..., 3:, :] - blocks[..., :1, :]
        w = torch.ones_like(along[:, 0]) if weights is None else weights
        return (torch.einsum("nkx,nx,njx->nkj", along, w, along), torch.einsum("nkbx,nx,njbx->nkj", steps, w, steps))

    def spread(self, values: Tensor) -> Tensor:
        """g's within-sequence variance on the data over its mean squared gradient (in units of each state's
        spread), values [..., (3 + d)N] -> [...]: the relative spread the drift test calls exact below 1e-14."""
        grad2 = self.gradient_norms(values).mean(-1) / STEP**2
        return within_variance(values[..., : self.n], self.index) / grad2

    def gradient_norms(self, values: Tensor) -> Tensor:
        """|grad g|^2 at each point (in the forward-difference units of ``forms``), values [..., (3 + d)N] ->
        [..., N]."""
        return self._parts(values)[1]


def _mean_cosine(along: Tensor, norm: Tensor, base: Tensor) -> Tensor:
    """mean of along / norm over the points where g's differences are resolved (its squared gradient norm above
    (``RESOLVE`` ulps of g there)^2: a smaller difference is round-off, and its angle noise); NaN where fewer
    than half the points are (g is constant on the data for this score, e.g. cos(1e-6*q**4))."""
    floor = (RESOLVE * torch.finfo(base.dtype).eps * base.abs()).square()
    live = norm > floor.clamp_min(torch.finfo(base.dtype).tiny)
    cos2 = torch.where(live, along / torch.where(live, norm, torch.ones_like(norm)), torch.zeros_like(norm))
    count = live.sum(-1)
    score = cos2.clamp_max(1).sum(-1) / count.clamp_min(1)  # at most 1: a formula faster than the step aliases
    return torch.where(2 * count >= live.shape[-1], score, torch.full_like(score, float("nan")))


class _Sub:
    """A contrast restricted to some of the data's points (the gradient fits' subsample): every block cut to them."""

    def __init__(self, parent, rows: Tensor, index, blocks: int):
        self.parent, self.index, self.n, self.blocks = parent, index, len(rows), blocks
        take = (torch.arange(blocks)[:, None] * parent.n + rows[None, :]).flatten().to(parent.true_points.device)
        self.true_points, self.null_points = parent.true_points[take], parent.null_points[take]

    def score(self, values: Tensor) -> Tensor:
        if isinstance(self.parent, ShuffleContrast):
            w_data = within_variance(values[..., : self.n], self.index)
            return _ratio(w_data, w_data + within_variance(values[..., self.n :], self.index), values)
        return DerivativeContrast.score(self.parent, values)

    def forms(self, feats: Tensor, weights: Tensor | None = None):
        return self.parent.forms(feats, weights)


def _ratio(num: Tensor, den: Tensor, values: Tensor) -> Tensor:
    """num / den, NaN where den is at round-off of the values' scale (g constant for this score)."""
    constant = ~(den > constant_threshold(values.dtype) * values.square().mean(-1))
    score = num / torch.where(constant, torch.ones_like(den), den)
    return torch.where(constant, torch.full_like(score, float("nan")), score)


def coordinate_shuffled(x: Tensor, lengths: np.ndarray, seed: int) -> Tensor:
    """x [N, d] in sequence order with each coordinate permuted independently within each sequence."""
    gen = np.random.default_rng(seed)
    seq = np.repeat(np.arange(len(lengths)), lengths)
    cols = [x[torch.as_tensor(np.lexsort((gen.random(len(seq)), seq)), device=x.device), j] for j in range(x.shape[1])]
    return torch.stack(cols, 1)


CONTRASTS = {c.name: c for c in (DerivativeContrast, ShuffleContrast)}
