"""``noether discover`` and ``noether export``: thin shells over ``noether.pipeline.discover`` / ``export``."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.table import Table

from ..discovery import AcceptanceRule, FilterConfig
from ..discovery.drift import ACCEPT_LEVELS, APPROXIMATE
from ..discovery.single import SCORES
from ..dsl.grammar import DEFAULT_OPERATORS, OPERATORS
from ..io import check_output_dir
from ..pipeline import (
    FORMATS,
    STAGES,
    DiscoverConfig,
    DiscoveryResult,
    TailorConfig,
    default_cache_dir,
    discover,
    export,
)
from ..pipeline.report import law_helped, protocol_line, spread_line, verdict_lines
from ..systems import Trajectories, paper_facts
from ..tailoring import InnerSetting, IntegratorConfig, MetaConfig, ScreenConfig
from ..tailoring.integrate import BACKENDS
from ..tailoring.law import ADAPTS, INNER_STEPS
from .options import composite_options, data_options, device_option, out, parse_ops, parse_pairs


@click.command("discover")
@data_options
@click.option("--depth", type=int, default=7, show_default=True, help="Maximum formula size (nodes).")
@click.option("--max-params", type=int, default=2, show_default=True, help="Parameters per formula.")
@click.option(
    "--force",
    is_flag=True,
    help="Enumerate even when the formula space's estimated memory is over half the available memory.",
)
@click.option("--stage", type=click.Choice(STAGES), default=STAGES[-1], show_default=True, help="Last stage to run.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of probes and random sequences.")
@device_option
@click.option("--jobs", type=int, default=1, show_default=True, help="CPU worker threads (-1: all cores).")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Send the filter's chunks to a Dask cluster: its scheduler's address (tcp://HOST:8786), or "
    "'local' for a LocalCluster on this machine (needs noether-networks[cluster]; see README).",
)
@click.option(
    "--composite/--no-composite",
    "composite_on",
    default=True,
    show_default=True,
    help="Also search sparse sums of enumerated terms (laws beyond --depth; see README, 'Composite "
    "laws'), by default with libraries and derived inputs chosen from the data and its units; they join "
    "the filter's survivors.",
)
@composite_options("--composite-ops")
@click.option(
    "--ops",
    default=",".join(DEFAULT_OPERATORS),
    show_default=True,
    help=f"Operators of the enumerated formulas, from {', '.join(OPERATORS)} (the unit-typed grammar "
    "decides where each may stand: log, exp and sqrt of what their units allow).",
)
@click.option(
    "--min-ratio",
    type=float,
    default=None,
    help="The paper's fixed rule: accept when S_random / S_true >= this (e.g. 100). Default: the "
    "noise-aware rule (see README, 'Conservation filter').",
)
@click.option(
    "--accept",
    type=click.Choice(ACCEPT_LEVELS),
    default=APPROXIMATE,
    show_default=True,
    help="The least a law must be to be accepted: 'approximate' keeps every law that passes the rule, "
    "labelled conserved or approximate; 'conserved' rejects the ones that drift beyond noise.",
)
@click.option(
    "--score",
    type=click.Choice(SCORES),
    default="auto",
    show_default=True,
    help="The filter's conservation score: the paper's random-sequence null, the derivative test "
    "(grad g . dx/dt ~ 0; for one recording), the coordinate-shuffle null; auto: the derivative test "
    "when fewer than 8 recordings train, else the paper's (see README, 'One recording').",
)
@click.option("--window", type=int, default=None, help="Sequence length in steps (default: whole trajectories).")
@click.option(
    "--noise-std",
    "noise_std",
    multiple=True,
    metavar="NAME=SIGMA",
    help="Measurement noise of a state (repeatable), for group data without time: it gives the "
    "noise-aware rule its floor (sigma propagated through each law's gradient).",
)
@click.option("--top", type=int, default=10, show_default=True, help="Survivors to print.")
@click.option(
    "--max-screen",
    type=int,
    default=1000,
    show_default=True,
    help="Survivors screened by tailoring: one form per law (functional class), best first.",
)
@click.option("--top-k", type=int, default=20, show_default=True, help="Laws kept for meta-tailoring (paper: 20).")
@click.option("--epochs", type=int, default=100, show_default=True, help="Meta-tailoring epochs (paper: 100).")
@click.option(
    "--halving/--no-halving",
    default=False,
    show_default=True,
    help="Successive halving during meta-tailoring: drop the weaker half of the laws early.",
)
@click.option(
    "--inner-step",
    type=click.Choice(INNER_STEPS),
    default=InnerSetting.kind,
    show_default=True,
    help="Inner tailoring step: 'newton' (Gauss-Newton, removes a fraction alpha of the law's linearised "
    "violation) or 'sgd' (the paper's Eq. 3 with lr 10^k). See README 'Meta-tailoring'.",
)
@click.option(
    "--adapt",
    type=click.Choice(ADAPTS),
    default=InnerSetting.adapt,
    show_default=True,
    help="Weights the inner step moves: all layers (the paper) or only the output layer.",
)
@click.option(
    "--dt-scale",
    "dt_scales",
    type=float,
    multiple=True,
    default=InnerSetting.dt_scales,
    show_default=True,
    help="Inner-loss step(s) as a fraction of the data's time step; repeat to give a grid that each "
    "law chooses from (1 = the paper; see README).",
)
@click.option(
    "--law-lr",
    type=float,
    default=InnerSetting.law_lr,
    show_default=True,
    help="Relative rate at which meta-tailoring also learns the top laws' parameters (0: keep the "
    "filter's fit, as in the paper).",
)
@click.option("--eval-seeds", default="0,1,2", show_default=True, help="Seeds of the final comparison.")
@click.option(
    "--integrator",
    type=click.Choice(BACKENDS),
    default="torch",
    show_default=True,
    help="ODE solve of the long-term evaluation: batched torchode, or scipy's solve_ivp (the reference).",
)
@click.option(
    "--true-law",
    default=None,
    help="Oracle law for the comparison, e.g. 'p**2 - 3*cos(q)' (built-in systems know theirs).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Stage cache [default: $NOETHER_CACHE/stages or ~/.cache/noether/stages].",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the stage cache.")
@click.option(
    "--no-figures",
    is_flag=True,
    help="Write no PNG figures (per-law figures, the filter's, MSE against horizon); report.md without them.",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output directory.")
def discover_command(
    traj: Trajectories,
    depth,
    max_params,
    force,
    stage,
    seed,
    device,
    jobs,
    scheduler,
    composite_on,
    composite,
    ops,
    min_ratio,
    accept,
    score,
    window,
    noise_std,
    top,
    max_screen,
    top_k,
    epochs,
    halving,
    inner_step,
    adapt,
    dt_scales,
    law_lr,
    eval_seeds,
    integrator,
    true_law,
    cache_dir,
    no_cache,
    no_figures,
    out_dir,
) -> None:
    """Discover conserved quantities: enumerate formulas, fit them, keep the conserved ones, rank them by how
    much tailoring with them improves long-term predictions, and compare against the baselines."""
    check_output_dir(out_dir)  # a bad --out fails now, not after the stages have run
    rule = AcceptanceRule(min_ratio=min_ratio)
    seeds = tuple(int(s) for s in str(eval_seeds).split(",") if s.strip())
    inner = InnerSetting(kind=inner_step, adapt=adapt, dt_scales=tuple(dt_scales), law_lr=law_lr)
    tailor = TailorConfig(
        max_screen=max_screen,
        screen=ScreenConfig(top_k=top_k),
        eval_seeds=seeds,
        meta=MetaConfig.for_data(traj, epochs=epochs, halving=halving),
        device=device,
        inner=inner,
        integrator=IntegratorConfig(backend=integrator),
    )
    config = DiscoverConfig(
        depth=depth,
        max_params=max_params,
        ops=parse_ops(ops, "--ops"),
        stage=stage,
        seed=seed,
        filter=FilterConfig(
            rule=rule,
            device=device,
            jobs=jobs,
            window=window,
            scheduler=scheduler,
            accept=accept,
            score=score,
            noise_std=parse_pairs(noise_std, "--noise-std", "SIGMA", float),
        ),
        tailor=tailor,
        true_law=true_law,
        composite=composite if composite_on else None,
        cache_dir=None if no_cache else str(cache_dir or default_cache_dir()),
        force=force,
    )
    result = discover(traj, config, on_filter=lambda found: report_filter(found, top))
    paths = result.write(out_dir, command="noether " + " ".join(sys.argv[1:]), figures=not no_figures)
    if result.filter is None:
        report_filter(result, top)
    report_tailoring(result, top)
    out.print(f"wrote {', '.join(map(str, paths))}")


@click.command("export")
@click.argument("laws_file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="sympy", show_default=True)
@click.option("--rank", type=int, default=1, show_default=True, help="Which law (1 = the best).")
def export_command(laws_file, fmt, rank) -> None:
    """Print one law of a laws.json as SymPy, LaTeX, JSON or a Python function."""
    click.echo(export(laws_file, fmt, rank))


def _secs(result: DiscoveryResult, stage: str) -> str:
    """'12.3 s', or 'cached; took 12.3 s' for a stage read from the stage cache."""
    seconds = result.timings.get(stage, 0.0)
    return f"cached; took {seconds:.1f} s" if stage in result.cached else f"{seconds:.1f} s"


def report_filter(result: DiscoveryResult, top: int) -> None:
    """Print the space size, and for the filter stage the top survivors (one row per law: its simplest form, its
    other forms counted beside it) and the independent laws: as soon as the filter (and composite search) is done,
    before the tailoring stages run."""
    out.print(f"{len(result.space)} candidate formulas ({result.timings.get('enumerate', 0):.1f} s)")
    res = result.filter
    if res is None:
        return
    m, length, _ = res.sequences_shape
    sizes = res.sequence_lengths
    steps = f"{length} steps" if sizes is None or sizes.min() == sizes.max() else f"{sizes.min()}-{sizes.max()} steps"
    paper = paper_facts(result.traj.system).survivors
    out.print(
        f"rule: {escape(res.rule.name)}; {m} sequences of {steps}; "
        f"{res.n_accepted} accepted: {res.n_conserved} conserved, {res.n_accepted - res.n_conserved} "
        "approximate" + (f" (paper: {paper} accepted)" if paper else "") + f" ({_secs(result, 'filter')})"
    )
    out.print(escape(res.score_line))
    if res.unidentifiable:
        out.print(f"no law can be identified from these data: {escape(res.unidentifiable)}")
        return
    n = len(res.representatives)
    table = Table(title=f"top survivors: {n} law{'s' * (n != 1)} in {res.n_accepted} form{'s' * (res.n_accepted != 1)}")
    for col in ("rank", "law", "verdict", "forms", "S_true", "S_random", "ratio"):
        table.add_column(col)
    for i in res.representatives[:top]:
        row = res.table.iloc[int(i)]
        table.add_row(
            str(row["law_class"]),
            escape(_display(res, i)),
            row["verdict"],
            str(res.forms(i)),
            f"{row.s_true:.5g}",
            f"{row.s_random:.5g}",
            f"{row.ratio:.5g}",
        )
    out.print(table)
    if res.independent_indices:
        out.print(
            f"independent conserved laws ({len(res.independent_indices)}): "
            + "; ".join(_with_forms(res, i) for i in res.independent_indices)
        )
    elif res.n_accepted:
        out.print("independent conserved laws: none (every accepted law drifts beyond noise)")
    else:
        out.print("independent conserved laws: none (no candidate passed the conservation filter)")
    if res.approximate_indices:
        out.print(
            "approximate laws (drift beyond noise): " + "; ".join(_with_forms(res, i) for i in res.approximate_indices)
        )


def report_tailoring(result: DiscoveryResult, top: int) -> None:
    """Print what the tailoring stages found: the comparison, the ranked laws with their verdicts, the timings."""
    if result.evaluation is not None:
        table = Table(title="long-term test RMSE (mean ± s.e. over training seeds)")
        for col in ("method", "RMSE", "±"):
            table.add_column(col)
        for _, row in result.evaluation.summary.iterrows():
            table.add_row(escape(row["method"]), f"{row['rmse_mean']:.5g}", f"{row['rmse_sem']:.5g}")
        out.print(table)
        out.print(escape(" ".join(filter(None, (protocol_line(result.traj), spread_line(result.traj))))))
    if result.tailor is not None:
        out.print("top laws (SymPy), best first:")
        for r in result.laws()[: min(top, 5)]:
            lr, scale = r.scores.get("screen_inner_lr"), r.scores.get("screen_inner_dt_scale")
            note = [
                f"screen's inner rate {lr:.5g}" if lr else "",
                f"dt_scale {scale:g}" if scale else "",
                "parameters meta-learned" if "filter_params" in r.scores else "",
            ]
            note = ", ".join(n for n in note if n)
            verdict = r.scores.get("verdict", "")
            forms = f", {r.scores['forms']} forms" if r.scores.get("forms") else ""
            out.print(
                f"  {r.rank}. {escape(r.law.display())}"
                + (escape(f" [{verdict}{forms}]") if verdict else "")
                + (f"   ({note})" if note else "")
            )
    out.print("time per stage: " + ", ".join(f"{k} {_secs(result, k)}" for k in result.timings))
    if result.evaluation is not None:  # the last word: did tailoring with the law beat the plain MLP?
        if law_helped(result.evaluation) is False:
            out.print("no discovered law improved on the MLP's long-term predictions here")
        for line in verdict_lines(result.evaluation):
            out.print(escape(line))


def _display(res, index: int) -> str:
    """Candidate ``index``'s fitted law as SymPy text."""
    return str(res.space.law(int(index), res.params[int(index)]).display())


def _with_forms(res, index: int) -> str:
    """'law (N forms)', escaped for the console; the count only when the law has other forms."""
    n = res.forms(index)
    return escape(_display(res, index)) + (f" ({n} forms)" if n > 1 else "")
