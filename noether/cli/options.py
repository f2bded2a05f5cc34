"""Options and output shared by the commands: the data source of every command, the device, the console."""

from __future__ import annotations

import functools
from dataclasses import replace

import click
from rich.console import Console

from ..device import DEVICES
from ..discovery.composite import AutoInputs, CompositeConfig, DefaultPolicy
from ..discovery.composite.auto import FAMILIES
from ..dsl.grammar import DEFAULT_OPERATORS, OPERATORS
from ..errors import ConfigError
from ..systems import Trajectories, load_system
from ..systems.derivatives import ESTIMATORS
from ..systems.protocol import PROTOCOLS

out = Console(highlight=False)

#: ``--device``, the same choice for every command
device_option = click.option(
    "--device", type=click.Choice(DEVICES), default="auto", show_default=True, help="auto: CUDA when present, else CPU."
)


def data_options(func):
    """--system NAME | --data PATH --state a,b --unit a=UNIT ...: the data source of every command."""

    @click.option("--system", "system", default=None, help="Built-in system (see `noether systems`).")
    @click.option(
        "--data",
        "data",
        type=click.Path(dir_okay=False),
        default=None,
        help="Your own trajectories: CSV, Parquet or NPZ, one row per sample.",
    )
    @click.option("--state", default=None, help="State columns in order, e.g. q,p (with --data).")
    @click.option(
        "--unit",
        "units",
        multiple=True,
        metavar="NAME=UNIT",
        help="pint unit of a state, e.g. --unit q=rad (repeatable). States without one get an "
        "independent dimension of their own.",
    )
    @click.option("--trajectory-col", default="trajectory", show_default=True)
    @click.option("--time-col", default="time", show_default=True)
    @click.option(
        "--group-col",
        default="group",
        show_default=True,
        help="A file with this column and no time column is group data: sets of states that share "
        "the invariants, in no time order (discovery stages only).",
    )
    @click.option(
        "--deriv-cols",
        default=None,
        metavar="DQ,DP",
        help="Columns holding each state's dx/dt, in the order of --state (with --data).",
    )
    @click.option(
        "--deriv",
        type=click.Choice(ESTIMATORS),
        default=None,
        help="Estimate dx/dt from the states: finite differences, Savitzky-Golay or a smoothing spline, "
        "each on the real time stamps [default: the data's own derivatives, else finite].",
    )
    @click.option(
        "--noise",
        type=float,
        default=None,
        help="Observation noise of simulated systems [default: 0.1 absolute on spring and pendulum, as "
        "HNN; 0.01 of each state's spread on the others].",
    )
    @click.option(
        "--protocol",
        type=click.Choice(list(PROTOCOLS)),
        default=None,
        help="Data protocol of spring and pendulum: 'hnn' (noise 0.1, as HNN; the default) or 'paper' "
        "(noise-free ODE data, as the paper's App. C); instead of --noise.",
    )
    @click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of generated systems.")
    @functools.wraps(func)
    def wrapper(
        *args,
        system,
        data,
        state,
        units,
        trajectory_col,
        time_col,
        group_col,
        deriv_cols,
        deriv,
        noise,
        protocol,
        data_seed,
        **kwargs,
    ):
        traj = resolve_data(
            system, data, state, units, trajectory_col, time_col, noise, data_seed, deriv_cols, group_col, protocol
        )
        if deriv is not None:
            if deriv_cols:
                raise click.UsageError(
                    "give --deriv-cols (the file's derivatives) or --deriv (estimate them), not both"
                )
            traj = traj.with_derivatives(deriv)
        return func(*args, traj=traj, **kwargs)

    return wrapper


def resolve_data(
    system,
    data,
    state,
    units,
    trajectory_col="trajectory",
    time_col="time",
    noise=None,
    seed=0,
    deriv_cols=None,
    group_col="group",
    protocol=None,
) -> Trajectories:
    """Build Trajectories from the CLI's data options, with a clear error when they conflict."""
    if (system is None) == (data is None):
        raise click.UsageError("give exactly one of --system NAME or --data PATH")
    if system is not None:
        if state or units or deriv_cols:
            raise click.UsageError("--state/--unit/--deriv-cols apply to --data only")
        if protocol is not None and noise is not None:
            raise click.UsageError("give --protocol or --noise, not both")
        return load_system(system, noise=noise, seed=seed, protocol=protocol)
    if protocol is not None:
        raise click.UsageError("--protocol applies to --system spring or pendulum only")
    if not state:
        raise click.UsageError("--data needs --state, e.g. --state q,p")
    return Trajectories.from_file(
        data,
        state,
        parse_unit_options(units),
        trajectory_col=trajectory_col,
        time_col=time_col,
        deriv_cols=deriv_cols,
        group_col=group_col,
    )


def parse_unit_options(pairs: tuple[str, ...]) -> dict[str, str]:
    """('q=rad', 'p=kg*m**2/s') -> {'q': 'rad', 'p': 'kg*m**2/s'}."""
    return parse_pairs(pairs, "--unit", "UNIT", str.strip)


def parse_pairs(pairs: tuple[str, ...], option: str, what: str, convert) -> dict:
    """Repeated NAME=VALUE options -> {name: convert(value)}, with a one-line usage error for anything else."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            out[name.strip()] = convert(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise click.UsageError(f"{option} expects NAME={what}, got '{pair}'")
    return out


def parse_ops(text: str, option: str) -> tuple[str, ...]:
    """'mul,square' -> ('mul', 'square'), with a usage error naming an unknown operator."""
    names = tuple(o.strip() for o in text.split(",") if o.strip())
    unknown = sorted(set(names) - set(OPERATORS))
    if unknown:
        raise click.UsageError(f"{option}: unknown operator(s) {', '.join(unknown)}; known: {', '.join(OPERATORS)}")
    return names


#: the expert's library options of the composite search: any one given replaces the default policy by one library
LIBRARY_OPTIONS = ("term_depth", "max_terms", "products", "beam", "paths", "library_ops", "derived", "relative")


def composite_options(ops_flag: str):
    """The composite search's options, shared by ``noether composite`` and ``noether discover``: by default the
    default policy (``DefaultPolicy``: inputs and libraries chosen from the data and units; ``--auto-inputs``
    picks the derived-input families), or, when any library option is given, that one library. The command
    receives ``composite`` (a ``CompositeConfig`` or ``DefaultPolicy``). ``ops_flag``: the operators' flag."""

    def decorate(func):
        @click.option(
            "--auto-inputs",
            default=",".join(AutoInputs.families),
            show_default=True,
            metavar="FAMILIES",
            help=f"Derived-input families of the default composite search, from {', '.join(FAMILIES)} "
            "(chosen from the units and the data; '' or none: no derived inputs).",
        )
        @click.option("--term-depth", type=int, default=None, help="Nodes per library term (one expert library).")
        @click.option("--max-terms", type=int, default=None, help="Terms per composite law (one expert library).")
        @click.option(
            "--products",
            type=int,
            default=None,
            help="The library also holds products of pairs of terms of at most this many nodes (x**2*y from "
            "x**2 and y; 0: none; one expert library).",
        )
        @click.option("--beam", type=int, default=None, help="Supports kept per size in the beam search.")
        @click.option(
            "--paths",
            type=int,
            default=None,
            help="Backward-elimination paths per ridge (more peel off more laws; the two-body problem's six need 32).",
        )
        @click.option(
            ops_flag,
            "library_ops",
            default=None,
            help=f"Operators of the composite library's terms, from {', '.join(OPERATORS)} "
            f"[expert library default: {','.join(DEFAULT_OPERATORS)}].",
        )
        @click.option(
            "--derive",
            "derived",
            multiple=True,
            metavar="NAME=FORMULA",
            help="An extra input built from the states, e.g. --derive r='sqrt(x**2 + y**2)' (repeatable); "
            "laws are reported in the states.",
        )
        @click.option(
            "--relative",
            multiple=True,
            metavar="NAME=A-B",
            help="A relative coordinate of a system translation-invariant in A and B (states of one unit), e.g. "
            "--relative rx='x1 - x2' (repeatable): the library gains terms over these coordinates alone.",
        )
        @click.option(
            "--relative-products",
            type=int,
            default=CompositeConfig.relative_products,
            show_default=True,
            help="Products of pairs of relative-coordinate terms of at most this many nodes.",
        )
        @functools.wraps(func)
        def wrapper(*args, auto_inputs, relative_products, **kwargs):
            given = {k: kwargs.pop(k) for k in LIBRARY_OPTIONS}
            expert = {k: v for k, v in given.items() if v not in (None, ())}
            if not expert:
                families = tuple(f.strip() for f in auto_inputs.split(",") if f.strip() and f.strip() != "none")
                try:
                    policy = DefaultPolicy(inputs=replace(AutoInputs(), families=families))
                except ConfigError as exc:
                    raise click.UsageError(f"--auto-inputs: {exc}") from None
                return func(*args, composite=policy, **kwargs)
            if "library_ops" in expert:
                expert["ops"] = parse_ops(expert.pop("library_ops"), ops_flag)
            expert["derived"] = tuple(parse_pairs(given["derived"], "--derive", "FORMULA", str).items())
            expert["relative"] = tuple(parse_pairs(given["relative"], "--relative", "A-B", str).items())
            config = CompositeConfig(**expert, relative_products=relative_products)
            return func(*args, composite=config, **kwargs)

        return wrapper

    return decorate
