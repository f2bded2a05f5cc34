"""Compiled, batched evaluation of many formulas at once (torch, CPU or CUDA, differentiable in X and C).

The candidates of a block form one DAG: a parameter-free sub-formula (``q**2``, ``cos(q)``) is a row computed
once and shared by every candidate of the block that contains it (with a shared X [N, d]); a sub-formula with
parameters is a row per candidate. Rows are computed level by level (level = node count), and within a level
all rows with the same operator and operand kinds are one vectorised torch call that gathers its operands
from the rows below, or reads the candidates' parameters from C. So the hot path loops over
(block, level, operator) — a few hundred torch calls for ten thousand formulas — never over formulas.
Blocks are sized to a memory budget.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .grammar import OPERATORS, Formula

ROW, PARAM = 0, 1


@dataclass(frozen=True)
class Evaluation:
    """values [n, N] (non-finite entries replaced by 0), finite [n] bool: False where any entry was NaN/inf."""

    values: Tensor
    finite: Tensor


@dataclass
class _Group:
    op: str
    kinds: tuple[int, ...]
    index: list  # per operand: list of row ids (ROW) or flat parameter positions (PARAM)


@dataclass
class _Program:
    levels: list[list[_Group]]
    roots: list[int]
    n_candidates: int
    rows: int  # total rows, for the memory estimate
    _device_cache: dict

    def tensors(self, device):
        key = str(device)
        if key not in self._device_cache:
            levels = [
                [(g.op, g.kinds, [torch.as_tensor(i, dtype=torch.long, device=device) for i in g.index]) for g in level]
                for level in self.levels
            ]
            self._device_cache[key] = (levels, torch.as_tensor(self.roots, dtype=torch.long, device=device))
        return self._device_cache[key]


def compile_block(formulas: Sequence[Formula], d: int, max_params: int, shared: bool) -> _Program:
    """Compile formulas into a level-by-level program. shared: one X for all (parameter-free rows are shared);
    otherwise candidate j reads its own inputs (rows j*d + i)."""
    n_inputs = d if shared else d * len(formulas)
    pf_key: dict = {}  # (group, Formula) -> instance id, for parameter-free sub-formulas
    instances: list = []  # (level, op, operand refs); ref = (ROW, row-or-instance) / (PARAM, flat slot)

    def visit(node: Formula, j: int, slots: list) -> tuple[int, int]:
        if node.op == "x":
            return ROW, (node.index if shared else j * d + node.index)
        if node.op == "c":
            slot = slots[0]
            slots[0] += 1
            return PARAM, j * max_params + slot
        if node.n_params == 0:
            key = (0 if shared else j, node)
            inst = pf_key.get(key)
            if inst is None:
                refs = tuple(visit(a, j, slots) for a in node.args)
                inst = pf_key[key] = len(instances)
                instances.append((node.size, node.op, refs))
            return ROW, -1 - inst
        refs = tuple(visit(a, j, slots) for a in node.args)
        instances.append((node.size, node.op, refs))
        return ROW, -len(instances)

    roots = []
    for j, f in enumerate(formulas):
        if not f.has_input:
            raise ValueError(f"formula '{f}' has no input; it is a constant")
        if f.n_params > max_params:
            raise ValueError(f"formula '{f}' has {f.n_params} parameters, more than max_params={max_params}")
        roots.append(visit(f, j, [0]))

    # instance ids are -1-based before ordering; assign row ids level by level, group by group
    grouped = defaultdict(list)
    for inst, (level, op, refs) in enumerate(instances):
        grouped[(level, op, tuple(kind for kind, _ in refs))].append(inst)
    row_of = [0] * len(instances)
    next_row = n_inputs
    order = sorted(grouped)
    for key in order:
        for inst in grouped[key]:
            row_of[inst] = next_row
            next_row += 1

    def resolve(ref):
        kind, value = ref
        return row_of[-1 - value] if kind == ROW and value < 0 else value

    levels: dict[int, list[_Group]] = defaultdict(list)
    for key in order:
        level, op, kinds = key
        members = grouped[key]
        index = [[resolve(instances[m][2][a]) for m in members] for a in range(len(kinds))]
        levels[level].append(_Group(op, kinds, index))
    root_rows = [resolve(r) for r in roots]
    return _Program([levels[k] for k in sorted(levels)], root_rows, len(formulas), next_row, {})


def run_program(program: _Program, inputs: Tensor, params: Tensor, columns: int) -> Tensor:
    """inputs [rows0, N] (the input rows), params [m * max_params] -> values [m, N].

    The states are processed ``columns`` at a time so the table of rows [rows, columns] stays small and is
    reused between column chunks. Without autograd every operation writes into preallocated memory (``out=``);
    with autograd the table is fresh per chunk and the chunks are concatenated at the end."""
    if torch.is_grad_enabled() and (inputs.requires_grad or params.requires_grad):
        return _run_autograd(program, inputs, params, columns)
    levels, roots = program.tensors(inputs.device)
    n_in, N = inputs.shape
    result = inputs.new_empty(program.n_candidates, N)
    widest = max((len(index[0]) for level in levels for _, _, index in level), default=1)
    buffers = None
    for c0 in range(0, N, columns):
        width = min(N, c0 + columns) - c0
        if buffers is None or buffers[0].shape[1] != width:
            buffers = (
                inputs.new_empty(program.rows, width),
                inputs.new_empty(widest, width),
                inputs.new_empty(widest, width),
            )
        table, scratch = buffers[0], buffers[1:]
        table[:n_in] = inputs[:, c0 : c0 + width]
        row = n_in
        for level in levels:
            for op, kinds, index in level:
                m = len(index[0])
                args = [
                    torch.index_select(table, 0, i, out=scratch[a][:m])
                    if kind == ROW
                    else params.index_select(0, i).unsqueeze(1)
                    for a, (kind, i) in enumerate(zip(kinds, index))
                ]
                if ROW in kinds:
                    OPERATORS[op].torch(*args, out=table[row : row + m])
                else:  # parameters only: broadcast over the columns
                    table[row : row + m] = OPERATORS[op].torch(*args)
                row += m
        result[:, c0 : c0 + width] = table.index_select(0, roots)
    return result


def _run_autograd(program: _Program, inputs: Tensor, params: Tensor, columns: int) -> Tensor:
    levels, roots = program.tensors(inputs.device)
    n_in, N = inputs.shape
    chunks = []
    for c0 in range(0, N, columns):
        c1 = min(N, c0 + columns)
        table = inputs.new_empty(program.rows, c1 - c0)
        table[:n_in] = inputs[:, c0:c1]
        row = n_in
        for level in levels:
            for op, kinds, index in level:
                args = [
                    table.index_select(0, i) if kind == ROW else params.index_select(0, i).unsqueeze(1)
                    for kind, i in zip(kinds, index)
                ]
                out = OPERATORS[op].torch(*args)
                table[row : row + out.shape[0]] = out  # broadcasts a parameter-only result over the columns
                row += out.shape[0]
        chunks.append(table.index_select(0, roots))
    return chunks[0] if len(chunks) == 1 else torch.cat(chunks, dim=1)


class Evaluator:
    """Evaluates a fixed list of formulas; programs are compiled per block size and cached."""

    def __init__(self, formulas: Sequence[Formula], d: int, max_params: int):
        self.formulas = list(formulas)
        self.d = d
        self.max_params = max(max_params, 1)
        self._programs: dict = {}
        self._rows_per_candidate = max((f.size for f in self.formulas), default=1) + 2

    def __call__(self, X: Tensor, C: Tensor, *, memory_mb: float = 512) -> Evaluation:
        n = len(self.formulas)
        shared = X.dim() == 2
        if X.dim() not in (2, 3) or X.shape[-1] != self.d or (not shared and X.shape[0] != n):
            raise ValueError(f"X must be [N, {self.d}] or [{n}, N, {self.d}], got {list(X.shape)}")
        C = torch.as_tensor(C, dtype=X.dtype, device=X.device)
        if C.dim() != 2 or C.shape[0] != n:
            raise ValueError(f"C must be [{n}, max_params], got {list(C.shape)}")
        if C.shape[1] < self.max_params:
            C = torch.cat([C, C.new_zeros(n, self.max_params - C.shape[1])], dim=1)
        C = C[:, : self.max_params]
        N = X.shape[-2]
        if n == 0:
            return Evaluation(X.new_zeros(0, N), torch.zeros(0, dtype=torch.bool, device=X.device))
        # working table of one block: [rows, columns] elements within the budget (table + operand scratch);
        # wide chunks mean few, large torch calls, which matters most when the cores are shared
        table = max(2**16, int(memory_mb * 2**20 / X.element_size() / 4))
        block = min(
            n,
            max(1, table // (self._rows_per_candidate * 32))
            if shared
            else max(1, table // (self._rows_per_candidate * (self.d + 1) * min(N, 256))),
        )
        values = []
        for start in range(0, n, block):
            stop = min(n, start + block)
            program = self._program(start, stop, shared)
            if shared:
                inputs = X.T
            else:
                inputs = X[start:stop].permute(0, 2, 1).reshape((stop - start) * self.d, N)
            columns = max(1, min(N, table // program.rows))
            values.append(run_program(program, inputs, C[start:stop].reshape(-1), columns))
        values = torch.cat(values) if len(values) > 1 else values[0]
        ok = torch.isfinite(values)
        finite = ok.all(dim=1)
        if not bool(finite.all()):
            values = torch.where(ok, values, torch.zeros((), dtype=values.dtype, device=values.device))
        return Evaluation(values, finite)

    def _program(self, start: int, stop: int, shared: bool) -> _Program:
        key = (start, stop, shared)
        if key not in self._programs:
            self._programs[key] = compile_block(self.formulas[start:stop], self.d, self.max_params, shared)
        return self._programs[key]
