"""Tables 1-2 from the cells of ``bench_tables.py``: RMSE over the grid and over data seeds, the per-data-seed
ratios with their intervals and verdicts, beside the paper's numbers (markdown + PNG)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from noether.systems import paper_facts
from noether.systems.protocol import PROTOCOLS

METHODS = ("mlp", "noether", "oracle", "hnn")
LABELS = {"mlp": "Vanilla MLP", "noether": "Noether (discovered law)", "oracle": "True H [oracle]", "hnn": "HNN"}
PROTOCOL_ORDER = ("paper", "hnn")
HEADS = {"paper": "σ = 0 (`paper`)", "hnn": "σ = 0.1 (`hnn`)"}
LEVEL = 0.95


@dataclass(frozen=True)
class Ratio:
    """A method's RMSE over the MLP's, one value per data seed; geometric mean and its t interval (on logs)."""

    values: tuple[float, ...]
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Ratio:
        logs = np.log(values)
        mean = float(np.exp(logs.mean()))
        if len(logs) < 2:
            return cls(tuple(values), mean, math.nan, math.nan)
        half = stats.t.ppf(0.5 + LEVEL / 2, len(logs) - 1) * logs.std(ddof=1) / math.sqrt(len(logs))
        return cls(tuple(values), mean, float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half)))

    def cell(self) -> str:
        if math.isnan(self.low):
            return f"{self.mean:.2f} (one data seed: no interval)"
        return f"{self.mean:.2f} [{_bound(self.low)}, {_bound(self.high)}]"

    def verdict(self, paper: float | None) -> str:
        """Against the paper's ratio and against 1 (no effect), from the interval alone."""
        if math.isnan(self.low):
            return "no verdict (fewer than 2 data seeds)"
        if paper is None:
            vs_paper = ""
        elif self.high < paper:
            vs_paper = f"better than the paper ({paper:.2f}); "
        elif self.low > paper:
            vs_paper = f"short of the paper ({paper:.2f}); "
        else:
            vs_paper = f"as the paper ({paper:.2f} inside); "
        if self.high < 1:
            return vs_paper + "better than the MLP (1 above the interval)"
        if self.low > 1:
            return vs_paper + "worse than the MLP (1 below the interval)"
        return vs_paper + "no clear difference from the MLP (1 inside)"


def _bound(x: float) -> str:
    """An interval bound to 2 decimals, or 3 where 2 would print it as 1.00 (which side of 1 it lies is the verdict)."""
    two = f"{x:.2f}"
    return f"{x:.3f}" if two == "1.00" and x != 1.0 else two


def cell_key(cell: dict) -> str:
    return f"{cell['system']}_{cell['protocol']}_d{cell['data_seed']}"


def all_cells(systems: tuple[str, ...], seeds: tuple[int, ...]) -> list[str]:
    return [f"{s}_{p}_d{d}" for s in systems for p in PROTOCOL_ORDER for d in seeds]


def load_cells(folder: Path) -> dict[tuple[str, str, int], dict]:
    cells = {}
    for path in sorted(folder.glob("*.json")):
        c = json.loads(path.read_text())
        cells[(c["system"], c["protocol"], c["data_seed"])] = c
    return cells


def rmse_table(cell: dict) -> dict[str, np.ndarray]:
    """{method: pooled test RMSE per training seed}."""
    out: dict[str, list[float]] = {}
    for r in sorted(cell["runs"], key=lambda r: r["seed"]):
        out.setdefault(r["method"], []).append(r["rmse"])
    return {m: np.array(v) for m, v in out.items()}


def median_traj(cell: dict, method: str) -> list[float]:
    """Per training seed, the median over test trajectories of each trajectory's own RMSE."""
    return [float(np.nanmedian(r["traj_rmse"])) for r in cell["runs"] if r["method"] == method]


def sem(x) -> float:
    x = np.asarray(x, float)
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def summarise(cells: list[dict]) -> dict:
    """Per method: grid mean ± s.e. (every data seed x training seed), mean ± s.e. over data seeds, the mean of the
    per-run median trajectory RMSE; per law: the Noether/MLP and oracle/MLP ratios over data seeds."""
    tables = [rmse_table(c) for c in cells]
    out: dict = {"n_data": len(cells), "methods": {}, "ratios": {}, "run_ratios": {}}
    for m in METHODS:
        have = [(c, t) for c, t in zip(cells, tables) if m in t]  # HNN may be left out of some cells
        if not have:
            continue
        grid = np.concatenate([t[m] for _, t in have])
        per_data = np.array([t[m].mean() for _, t in have])
        medians = np.concatenate([median_traj(c, m) for c, _ in have])
        out["methods"][m] = {
            "grid": (grid.mean(), sem(grid), len(grid)),
            "data": (per_data.mean(), sem(per_data), len(per_data)),
            "median_traj": (medians.mean(), sem(medians)),
        }
        if m != "mlp":
            out["ratios"][m] = Ratio.of([float(t[m].mean() / t["mlp"].mean()) for _, t in have])
            out["run_ratios"][m] = Ratio.of([float(v) for _, t in have for v in t[m] / t["mlp"]])
    return out


def _f4(value: float | None) -> str:
    return "not run" if value is None else f"{value:.4f}"


def _pm(triple) -> str:
    mean, err = triple[0], triple[1]
    return f"{mean:.4f}" if math.isnan(err) else f"{mean:.4f} ± {err:.4f}"


def system_section(system: str, cells: dict, seeds: tuple[int, ...], number: int) -> tuple[list[str], dict]:
    """Table ``number`` for ``system``: the paper's column, then each protocol's, and the ratios with verdicts."""
    facts = paper_facts(system)
    paper_rmse = facts.rmse
    paper_ratio = {m: paper_rmse[m] / paper_rmse["mlp"] for m in ("noether", "oracle") if m in paper_rmse}
    found = {p: [cells[(system, p, s)] for s in seeds if (system, p, s) in cells] for p in PROTOCOL_ORDER}
    sums = {p: summarise(c) for p, c in found.items() if c}
    lines = [f"## Table {number}: the ideal {system}", ""]
    head = "| method | the paper's table |" + "".join(
        f" {HEADS[p]}: grid | {HEADS[p]}: over data seeds | {HEADS[p]}: median per-trajectory RMSE |" for p in sums
    )
    lines += [head, "|---|---:|" + "---:|---:|---:|" * len(sums)]
    for m in METHODS:
        row = f"| {LABELS[m]} | {paper_rmse.get(m, math.nan):.4f} |".replace("nan", "not reported")
        for p, s in sums.items():
            got = s["methods"].get(m)
            if got is None:
                row += " | | |"
                continue
            row += f" {_pm(got['grid'])} (n={got['grid'][2]}) | {_pm(got['data'])} (n={got['data'][2]}) | "
            row += f"{_pm(got['median_traj'])} |"
        lines.append(row)
    lines += [
        "",
        f"Ratio to the MLP per data seed (geometric mean over data seeds, [{LEVEL:.0%} t interval of the log-ratio "
        "over data seeds]) and the verdict that follows from that interval; beside it the same over every run (each "
        "data seed x training seed: the ratio of the law's RMSE to the same seed's MLP), whose interval covers the "
        "training seeds only (the data draws held fixed) and carries no verdict:",
        "",
        "| ratio | the paper's table |"
        + "".join(
            f" {HEADS[p]}: over data seeds | verdict | {HEADS[p]}: over runs (training seeds only) |" for p in sums
        ),
        "|---|---:|" + "---|---|---|" * len(sums),
    ]
    for m in ("noether", "oracle", "hnn"):
        if not any(m in s["ratios"] for s in sums.values()):
            continue
        ref = paper_ratio.get(m)
        row = f"| {LABELS[m]} / MLP | {'' if ref is None else f'{ref:.2f}'} |"
        for s in sums.values():
            r, per_run = s["ratios"].get(m), s["run_ratios"].get(m)
            row += " | | |" if r is None else f" {r.cell()} | {r.verdict(ref)} | {per_run.cell()} |"
        lines.append(row)
    lines += ["", "Per data seed (each RMSE the mean over training seeds; the law the pipeline discovered):", ""]
    lines += ["| protocol | data seed | discovered law | MLP | Noether | oracle | HNN | Noether/MLP | oracle/MLP |"]
    lines += ["|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for p, cs in found.items():
        for c in cs:
            t = {m: v.mean() for m, v in rmse_table(c).items()}
            nr = t.get("noether", math.nan) / t["mlp"]
            orr = t.get("oracle", math.nan) / t["mlp"]
            law = c["law"] or "none"
            lines.append(
                f"| {p} | {c['data_seed']} | `{law}` | {t['mlp']:.4f} | {_f4(t.get('noether'))} | "
                f"{_f4(t.get('oracle'))} | {_f4(t.get('hnn'))} | {nr:.2f} | {orr:.2f} |"
            )
    lines.append("")
    return lines, {"paper_ratio": paper_ratio, "sums": sums}


def verdict_lines(figures: dict) -> list[str]:
    """The verdicts in one list: each law's ratio to the MLP per system and protocol, against the paper's."""
    lines = ["## Verdicts", ""]
    for system, fig_data in figures.items():
        for p, s in fig_data["sums"].items():
            for m in ("noether", "oracle"):
                r = s["ratios"].get(m)
                if r is not None:
                    ref = fig_data["paper_ratio"].get(m)
                    lines.append(
                        f"- {system}, {HEADS[p]}, {m}/MLP over {len(r.values)} data seed(s): {r.cell()}: "
                        f"{r.verdict(ref)}"
                    )
    return lines + [""]


def plot(path: Path, figures: dict) -> None:
    """Per system: each data seed's Noether/MLP and oracle/MLP ratio, the geometric mean with its interval, and
    the paper's ratio as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(figures), figsize=(5.5 * len(figures), 4), squeeze=False)
    for ax, (system, fig_data) in zip(axes[0], figures.items()):
        x = 0
        ticks = []
        for p, s in fig_data["sums"].items():
            for m, color in (("noether", "C0"), ("oracle", "C1")):
                r = s["ratios"].get(m)
                if r is None:
                    continue
                ax.scatter([x] * len(r.values), r.values, color=color, alpha=0.5, s=14)
                if not math.isnan(r.low):
                    ax.errorbar([x + 0.15], [r.mean], [[r.mean - r.low], [r.high - r.mean]], fmt="o", color=color)
                ticks.append((x, f"{m}/MLP\n{HEADS[p].replace('`', '')}"))
                x += 1
        for m, style in (("noether", "--"), ("oracle", ":")):
            if m in fig_data["paper_ratio"]:
                ax.axhline(fig_data["paper_ratio"][m], ls=style, color="gray", label=f"paper {m}/MLP")
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_xticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=8)
        ax.set_ylabel("RMSE ratio to the MLP")
        ax.set_title(f"{system}: per data seed (dots), geometric mean [{LEVEL:.0%} CI]")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_tables(folder: Path, results: Path, systems: tuple[str, ...], seeds: tuple[int, ...]) -> None:
    """benchmarks/results/tables_1_2.md and tables_1_2.png from the cells in ``folder``."""
    cells = load_cells(folder)
    done = [c for k, c in cells.items() if k[0] in systems and k[2] in seeds]
    if not done:
        raise SystemExit(f"no finished cells in {folder}")
    machine = sorted({c["machine"] for c in done})
    loads = np.array([c["loadavg_start"][0] for c in done] + [c["loadavg_end"][0] for c in done])
    secs = np.array([c["seconds"] for c in done])
    total = len(systems) * len(PROTOCOL_ORDER) * len(seeds)
    lines = [
        "# Tables 1-2 as the paper ran them: both data protocols, data seeds x training seeds",
        "",
        "Command: `python -m benchmarks.bench_tables run` (two processes at once, sharing the cells), then "
        "`python -m benchmarks.bench_tables report`. Endpoint and intervals: the docstring of "
        "benchmarks/bench_tables.py, fixed before the runs.",
        "",
        f"Machine: {'; '.join(machine)}; shared with other jobs: load average (1 min) {loads.min():.1f}-"
        f"{loads.max():.1f} over the runs; a cell (one `discover` run, 3 training seeds) took "
        f"{secs.min():.0f}-{secs.max():.0f} s (median {np.median(secs):.0f} s).",
        "",
        f"Cells finished: {len(done)} of {total} (system x protocol x data seed {list(seeds)}); each covers "
        "training seeds 0-2. Missing: "
        + (", ".join(sorted(set(all_cells(systems, seeds)) - {cell_key(c) for c in done})) or "none")
        + ". HNN left out (`--baselines mlp`, to save time): "
        + (", ".join(cell_key(c) for c in done if "hnn" not in c.get("baselines", ["hnn"])) or "none")
        + ". Each process runs torch on one thread, so a cell can differ in the last digits (and, through "
        "training, by up to a few training-seed standard errors) from the same `noether discover` run on two.",
        "",
        "Protocols: "
        + "; ".join(f"**{p.name}**: {p.description} (noise std {p.noise:g})" for p in PROTOCOLS.values())
        + ". Everything else is `noether discover`'s default (depth 7, pipeline seed 0, Newton inner step on all "
        "weights, the inner rate and step picked per training seed on the training trajectories).",
        "",
        "RMSE: long-term test RMSE pooled over the 25 test trajectories against the noise-free states. *grid*: "
        "mean ± s.e. over every (data seed, training seed); *over data seeds*: mean ± s.e. of each data seed's mean "
        "over training seeds (the uncertainty of a new data draw); *median per-trajectory RMSE*: each run's median "
        "over test trajectories of the trajectory's own RMSE, mean ± s.e. over the grid (the pooled RMSE is set by "
        "the few trajectories nearest the pendulum's separatrix). The paper's column: Tables 1-2 (one number per "
        "method; the paper states no number of runs; it reports no HNN there).",
        "",
    ]
    figures = {}
    for number, system in enumerate(systems, start=1):
        more, figures[system] = system_section(system, cells, seeds, number)
        lines += more
    first = next(i for i, line in enumerate(lines) if line.startswith("## Table"))
    lines[first:first] = verdict_lines(figures)
    png = results / "tables_1_2.png"
    plot(png, figures)
    lines += [f"![ratios per data seed]({png.name})", ""]
    (results / "tables_1_2.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
