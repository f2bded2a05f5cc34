"""Functional classes of the accepted laws: a law whose gradient is parallel to another's at the data's states is
a function of it (sin(L), L², cos(L)⁴ of a law L), the same law in another form.

Every accepted law is grouped, before any top-k cut, so that forms of one law cannot crowd a second law out of
the independence reduction, the survivors table or the tailoring stages. Cheaply: gradients at one fixed sample
of training states, by batched central differences; walking the ranking, each law is compared with the classes'
first members only, and joins the first class whose first member's unit gradient is parallel to its own (the
smaller singular value of the two stacked, sqrt(1 − |cos|), at most ``tol`` at the median state), else it opens
a class.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor

CLASS_STATES = 512  # training states the gradients are taken at (the independence reduction uses the same)
EXAMPLES = 3  # other forms named beside a representative (candidates.csv, laws.json, report.md)
_PAIR_BUDGET = 2**22  # pairs x states compared at once (~32 MB of float64 per temporary)


@dataclass(frozen=True, eq=False)
class LawClasses:
    """representatives: the space index of each class's representative (its simplest form), best class first;
    members: each class's space indices (its forms, the representative among them), best first."""

    representatives: np.ndarray
    members: tuple[np.ndarray, ...]

    @classmethod
    def empty(cls) -> LawClasses:
        return cls(np.zeros(0, dtype=np.int64), ())

    def __len__(self) -> int:
        return len(self.representatives)

    def forms(self, index: int) -> np.ndarray:
        """The space indices of the forms in candidate ``index``'s class, best first (empty when in none)."""
        k = self._class_of.get(int(index))
        return np.zeros(0, dtype=np.int64) if k is None else self.members[k]

    @functools.cached_property
    def _class_of(self) -> dict[int, int]:
        return {int(i): k for k, members in enumerate(self.members) for i in members}

    def labels(self, n: int) -> pd.arrays.IntegerArray:
        """The 1-based class of each of ``n`` candidates (NA when in none: rejected)."""
        label = pd.array([pd.NA] * n, dtype="Int64")
        for k, members in enumerate(self.members, start=1):
            label[members] = k
        return label


def sample_states(x: Tensor, seed: int, k: int = CLASS_STATES) -> Tensor:
    """Up to ``k`` of the training states x [N, d], drawn without replacement under ``seed``."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return x[torch.randperm(x.shape[0], generator=gen)[:k].to(x.device)]


def law_gradients(space, params: np.ndarray, indices: np.ndarray, states: Tensor, memory_mb: int = 512) -> Tensor:
    """∇g of candidates ``indices`` (fitted ``params`` [n_space, K]) at ``states`` [N, d]: [n, N, d], non-finite
    entries 0. Central differences, step 1e-5 of each state's spread, all 2d shifted copies of the states in one
    shared-state evaluation (against autograd on the 2-D oscillator's 199 accepted laws: median relative error
    3e-10, worst 3e-7, far below the direction test's tolerance). Reverse-mode autograd needs one input copy per
    candidate, and its backward through the evaluator's table writes was 35x slower (those 199 laws at 512 states:
    11 s against 0.3 s, measured on 2 loaded cores); it remains for the laws not finite at a shifted state."""
    n, (N, d) = len(indices), states.shape
    spread = states.std(0) if N > 1 else states.new_ones(d)
    step = 1e-5 * torch.where(spread > 0, spread, torch.ones_like(spread))  # [d]
    shifts = torch.cat([torch.diag(step), -torch.diag(step)])  # [2d, d]: +h_j e_j, then -h_j e_j
    shifted = (states[None] + shifts[:, None]).reshape(2 * d * N, d)
    out = states.new_zeros(n, N, d)
    size = max(1, int(memory_mb * 2**20 / (8 * 2 * d * N * 4)))  # laws per chunk: values and differences
    for start in range(0, n, size):
        idx = np.asarray(indices[start : start + size], dtype=np.int64)
        sub = space.subset(idx)
        c = torch.as_tensor(params[idx], dtype=states.dtype, device=states.device)
        with torch.no_grad():
            ev = sub.evaluate(shifted, c, memory_mb=memory_mb)
        values = ev.values.reshape(len(idx), 2, d, N)
        out[start : start + len(idx)] = ((values[:, 0] - values[:, 1]) / (2 * step[:, None])).transpose(1, 2)
        for i in np.flatnonzero(~ev.finite.cpu().numpy()):
            out[start + i] = _autograd_gradient(sub.subset([i]), c[i : i + 1], states, memory_mb)
    return out.nan_to_num(0.0, 0.0, 0.0)


def parallel_classes(gradients: Tensor, *, tol: float) -> np.ndarray:
    """Greedy classes of laws whose gradients are parallel, in the given (ranking) order.

    gradients: [n, N, d]. Returns first [n]: the position of the first member of law j's class (j when it opens
    one). A law whose gradient vanishes or is non-finite at more than half of the states cannot be compared and
    is a class of its own (never joined). Equal to comparing each law with every class's first member in turn,
    computed in blocks.
    """
    n = gradients.shape[0]
    units, ok = _unit(gradients)
    usable = (ok.double().mean(1) > 0.5).cpu().numpy()
    first = np.arange(n)
    seeds: list[int] = []
    step = max(1, int(np.sqrt(_PAIR_BUDGET / max(gradients.shape[1], 1))))
    for start in range(0, n, step):
        block = [j for j in range(start, min(start + step, n)) if usable[j]]
        joined = _first_parallel(units, ok, block, seeds, tol, step) if block else np.zeros(0, dtype=np.int64)
        for a, j in enumerate(block):
            if joined[a] >= 0:
                first[j] = joined[a]
        rest = [j for a, j in enumerate(block) if joined[a] < 0]  # new classes, or forms of one opened here
        within = _parallel(units, ok, rest, rest, tol).cpu().numpy() if rest else np.zeros((0, 0), dtype=bool)
        opened: list[int] = []  # positions in ``rest`` of the classes opened in this block, in order
        for a, j in enumerate(rest):
            hit = next((b for b in opened if within[a, b]), None)
            if hit is None:
                opened.append(a)
                seeds.append(j)
            else:
                first[j] = rest[hit]
    return first


def classify(
    space,
    params: np.ndarray,
    order: np.ndarray,
    states: Tensor,
    simplicity: np.ndarray,
    ratio: np.ndarray,
    *,
    tol: float,
    memory_mb: int = 512,
) -> tuple[LawClasses, Tensor]:
    """The functional classes of the accepted laws ``order`` (space indices, best first) and their
    representatives' gradients [k, N, d] at ``states``.

    A class's representative is its simplest form (``simplicity`` rows: fewer parameters, then smaller formula,
    then affine -- fitted exactly -- before fitted by local search; best ratio as tie-break) among the forms within
    a factor 2 of the class's best ratio: on noisy data a more flexible relative of H, e.g. p² + c0·cos(c1·q) or
    (p² − c·cos q)², fits the noise a little better than H itself; it is the same law.
    """
    order = np.asarray(order, dtype=np.int64)
    if len(order) == 0:
        return LawClasses.empty(), states.new_zeros(0, *states.shape)
    grads = law_gradients(space, params, order, states, memory_mb)
    first = parallel_classes(grads, tol=tol)
    reps, members, at = [], [], []
    for j in np.flatnonzero(first == np.arange(len(order))):
        forms = order[first == j]
        close = [int(i) for i in forms if ratio[i] >= ratio[order[j]] / 2] or [int(order[j])]
        rep = min(close, key=lambda i: (*simplicity[i], -ratio[i]))
        reps.append(rep)
        members.append(forms)
        at.append(int(np.flatnonzero(order == rep)[0]))
    return LawClasses(np.array(reps, dtype=np.int64), tuple(members)), grads[at]


def class_columns(classes: LawClasses, expressions: Sequence[str], n: int) -> dict:
    """The columns candidates.csv gives the classes: ``law_class`` (1-based, every accepted form), and on each
    representative's row ``forms`` (how many forms its class has) and ``other_forms`` (up to ``EXAMPLES`` of them,
    best first, '; '-separated)."""
    forms = pd.array([pd.NA] * n, dtype="Int64")
    others = [""] * n
    for rep, members in zip(classes.representatives, classes.members):
        forms[int(rep)] = len(members)
        others[int(rep)] = "; ".join([str(expressions[int(i)]) for i in members if i != rep][:EXAMPLES])
    return {"law_class": classes.labels(n), "forms": forms, "other_forms": others}


# ---------------------------------------------------------------------------------------------- internals
def _autograd_gradient(law, c: Tensor, states: Tensor, memory_mb: int) -> Tensor:
    """∇g [N, d] of one candidate (a space of one) by reverse-mode autograd; entries where g is not finite are 0."""
    x = states.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(law.evaluate(x, c, memory_mb=memory_mb).values.sum(), x, allow_unused=True)
    return torch.zeros_like(states) if grad is None else grad


def _unit(g: Tensor) -> tuple[Tensor, Tensor]:
    """Unit gradients [n, N, d], 0 where unusable, and where they are usable [n, N] (finite, not vanishing against
    the law's own largest gradient)."""
    norm = g.norm(dim=-1)
    largest = norm.amax(dim=1, keepdim=True).clamp_min(1e-300)
    ok = torch.isfinite(norm) & (norm > 1e-12 * largest)
    units = g / norm.clamp_min(1e-300).unsqueeze(-1)
    return torch.where(ok.unsqueeze(-1), units, torch.zeros((), dtype=g.dtype, device=g.device)), ok


def _parallel(units: Tensor, ok: Tensor, a: Sequence[int], b: Sequence[int], tol: float) -> Tensor:
    """[len(a), len(b)] bool: the median over the states both can use of sqrt(1 − |cos|) is at most ``tol``.
    The lower median (torch's) of m values is at most tol exactly when at least (m − 1) // 2 + 1 of them are, so
    it is counted, not sorted (an unusable state has a zero unit gradient, |cos| = 0, and is not counted); no
    common usable state counts as not parallel."""
    ia = torch.as_tensor(list(a), device=units.device)
    ib = torch.as_tensor(list(b), device=units.device)
    cos = torch.bmm(units[ia].transpose(0, 1), units[ib].permute(1, 2, 0))  # [N, len(a), len(b)]
    close = (cos.abs_() >= 1 - tol**2).sum(0)
    both = (ok[ia].to(units.dtype) @ ok[ib].to(units.dtype).T).round().long()  # common usable states
    return (both > 0) & (close >= (both - 1) // 2 + 1)


def _first_parallel(units: Tensor, ok: Tensor, block: list[int], seeds: list[int], tol: float, step: int) -> np.ndarray:
    """For each law of ``block``, the first of ``seeds`` (in order) its gradient is parallel to, else −1."""
    found = np.full(len(block), -1)
    for start in range(0, len(seeds), step):
        part = seeds[start : start + step]
        hit = _parallel(units, ok, block, part, tol).cpu().numpy()
        for a in np.flatnonzero((found < 0) & hit.any(1)):
            found[a] = part[int(np.argmax(hit[a]))]
        if (found >= 0).all():
            break
    return found
