"""``noether video make-data | train | evaluate | explain``: thin commands over ``noether.video``. The video path
needs the optional ``[video]`` extra; its modules are imported inside each command, after ``require_video`` has said
in one line which extra to install when it is missing, so the rest of the CLI works on a core-only install."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import NoetherError
from ..io import atomic_write_text
from ..video.catalog import DATASETS, LAW_INPUTS, METHOD_SPECS, METHODS, PRESETS, require_video
from .options import device_option


@click.group("video")
def video_group() -> None:
    """Noether Networks on video: datasets (make-data), models (train, evaluate). Needs noether-networks[video]."""


@click.command("make-data")
@click.argument("name", type=click.Choice(DATASETS))
@click.option(
    "--preset",
    type=click.Choice(PRESETS),
    default="ci",
    show_default=True,
    help="ci: seconds (tests); cpu: this machine; paper: the paper's sizes.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--size", type=int, default=64, show_default=True, help="Frame height = width in pixels.")
@click.option(
    "--cache-dir",
    "root",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache folder [default $NOETHER_CACHE/video or ~/.cache/noether/video].",
)
@click.option("--force", is_flag=True, help="Regenerate even if the dataset is cached.")
@click.option(
    "--strip",
    "strip",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also save the first test sample as a PNG strip here.",
)
def make_data(name: str, preset: str, seed: int, size: int, root: str | None, force: bool, strip: str | None) -> None:
    """Generate (or find in the cache) the video dataset NAME."""
    require_video()
    from ..video.data import cache_path, load_video_dataset, save_strip

    path = cache_path(name, preset, seed, size, root)
    if force and path.exists():
        path.unlink()
    dataset = load_video_dataset(name, preset=preset, seed=seed, root=root, size=size)
    click.echo(dataset.summary())
    click.echo(f"cached at {path}")
    if strip:
        save_strip(
            dataset.test[0]["frames"],
            strip,
            rows=2,
            n_cond=dataset.n_cond,
            title=f"{name} ({preset}, seed {seed}): test sample 0",
        )
        click.echo(f"strip saved to {strip}")


CACHE = click.option(
    "--cache-dir",
    "root",
    type=click.Path(file_okay=False),
    default=None,
    help="Video dataset cache folder (see `noether video make-data`).",
)


@click.command("train")
@click.argument("dataset", type=click.Choice(DATASETS))
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="svg",
    show_default=True,
    help="; ".join(f"{m.name}: {m.help}" for m in METHOD_SPECS.values()) + ".",
)
@click.option(
    "--preset",
    type=click.Choice(PRESETS),
    default="ci",
    show_default=True,
    help="ci: seconds (tests); cpu: this 2-core machine; pilot: an hour a model here; confirm: the "
    "controlled pendulum's frozen protocol; paper: the paper's sizes (GPU).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the data, the initial weights and the batches.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    required=True,
    help="Run directory (checkpoint.pt, run.json); an existing run there is resumed.",
)
@click.option(
    "--law",
    "law_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="laws.json of the discovery pipeline: its top law (or --law-rank) is the embedding (method "
    "noether-law). Datasets that take a law, and what it may read: "
    + "; ".join(f"{d} ({', '.join(n)})" for d, n in LAW_INPUTS.items())
    + ". w is the work integral of the known torque.",
)
@click.option("--law-rank", type=click.IntRange(min=1), default=None, help="Which law of --law FILE [default 1].")
@click.option(
    "--law-expr",
    default=None,
    help='A law over the readout, e.g. "p**2 - 3*cos(q)" (pixel pendulum) '
    'or "p**2 + 30*cos(q) - 6*w" (controlled) (method noether-law).',
)
@click.option(
    "--init",
    type=click.Path(file_okay=False),
    default=None,
    help="A finished svg run to start from (controlled and pixel pendulum: skips the base phase).",
)
@click.option("--steps", type=click.IntRange(min=0), default=None, help="Override the preset's outer steps.")
@click.option("--inner-lr", type=float, default=None, help="Override the preset's inner learning rate.")
@device_option
@CACHE
def train_cmd(dataset, method, preset, seed, out, law_path, law_rank, law_expr, init, steps, inner_lr, device, root):
    """Train METHOD on the video DATASET (Algorithm 1 for Noether methods); resumes from --out's checkpoint."""
    require_video()
    from ..tailoring.inner import InnerConfig
    from ..video.config import preset_config
    from ..video.train import train_run

    if method == "noether-law" and not (law_path or law_expr):
        raise click.UsageError("--method noether-law needs --law laws.json or --law-expr EXPR")
    if method != "noether-law" and (law_path or law_expr or law_rank):
        raise NoetherError(
            f"--method {method} takes no law; --law, --law-rank and --law-expr are for --method noether-law"
        )
    overrides = {}
    if steps is not None:
        overrides["steps"] = steps
    if inner_lr is not None:
        base = preset_config(dataset, method, preset).inner
        overrides["inner"] = InnerConfig(**{**base.__dict__, "lr": inner_lr})
    config = preset_config(dataset, method, preset, **overrides)
    result = train_run(
        config,
        out,
        seed=seed,
        device=device,
        data_root=root,
        law_path=law_path,
        law_expr=law_expr,
        law_rank=law_rank,
        init=init,
        log=click.echo,
    )
    click.echo(
        f"trained {method} on {dataset} [{preset}]: {result.steps} steps, final loss {result.final_loss:.5f}, "
        f"{result.seconds:.1f} s -> {result.out}"
    )


@click.command("evaluate")
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write metrics.json and horizon.png here (default: the first run's directory).",
)
@click.option(
    "--sequences",
    type=click.IntRange(min=0),
    default=None,
    help="Test sequences to evaluate (0 = all; default: the preset's).",
)
@click.option("--untailored", is_flag=True, help="Evaluate Noether runs without their inner step.")
@click.option(
    "--study-steps",
    type=click.IntRange(min=0),
    default=0,
    help="Also run the inner-steps study (Fig. 6) with this many Adam steps on Noether runs.",
)
@click.option("--study-lr", type=float, default=1e-4, show_default=True)
@device_option
@CACHE
def evaluate_cmd(runs, out, sequences, untailored, study_steps, study_lr, device, root):
    """Per-horizon MSE, PSNR and SSIM of trained RUNS on held-out sequences (mean ± SE over seeds per method).
    LPIPS is left out: it needs pretrained weights that cannot be fetched here."""
    require_video()
    from ..video.evaluate import METRICS, aggregate, evaluate_run, inner_steps_study, plot_horizon, plot_study

    results = [
        evaluate_run(r, device=device, max_sequences=sequences, tailored=not untailored, data_root=root) for r in runs
    ]
    out = Path(out or runs[0])
    doc = {"runs": [r.to_dict() for r in results], "lpips": "not computed (needs pretrained weights)"}
    for metric in METRICS:
        for label, (mean, se, n) in aggregate(results, metric).items():
            click.echo(
                f"{label:12s} {metric:5s} mean over horizons {mean.mean():.5f} ± {se.mean():.5f} "
                f"(n={n}); last horizon {mean[-1]:.5f}"
            )
    plot_horizon(results, out / "horizon.png", title=", ".join(sorted({r.dataset for r in results})))
    if study_steps:
        studies = {}
        for run in runs:
            try:
                s = inner_steps_study(run, steps=study_steps, lr=study_lr, device=device, data_root=root)
            except ValueError:
                continue
            studies[str(run)] = {"inner": s.inner.tolist(), "outer": s.outer.tolist(), "config": s.config}
            plot_study(s, out / f"inner_steps_{Path(run).name}.png")
            click.echo(
                f"inner-steps study {run}: outer loss {s.outer[0]:.5f} -> min {s.outer.min():.5f} at step "
                f"{int(s.outer.argmin())} -> {s.outer[-1]:.5f} after {study_steps}"
            )
        doc["inner_steps"] = studies
    atomic_write_text(out / "metrics.json", json.dumps(doc))
    click.echo(f"metrics -> {out / 'metrics.json'}, plots -> {out / 'horizon.png'}")


@click.command("explain")
@click.argument("run", type=click.Path(file_okay=False))
@click.option(
    "--out", "out", type=click.Path(file_okay=False), default=None, help="Where the PNGs go (default: RUN/explain)."
)
@click.option(
    "--sequences",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Test sequences the embedding's PCA is fitted on.",
)
@click.option("--dims", type=click.IntRange(min=1), default=6, show_default=True, help="PCA dimensions shown.")
@click.option("--times", type=click.IntRange(min=1), default=3, show_default=True, help="Time steps shown.")
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Test sequences drawn as Grad-CAM grids.",
)
@click.option(
    "--even-if-inert",
    is_flag=True,
    help="Draw the figures even when the embedding's inner loss does not separate truth from prediction.",
)
@device_option
@CACHE
def explain_cmd(run, out, sequences, dims, times, examples, even_if_inert, device, root):
    """What a Noether run's embedding attends to (Figs. 5, 7): PCA of g over test frames, then Grad-CAM (magnitude:
    both signs of each PCA coordinate) per PCA dimension on its last convolutional layer. Drawn only for an
    embedding whose inner loss is larger on the untailored prediction than on the true frames in >= 75% of the
    test windows; otherwise the embedding is inert and that is reported."""
    require_video()
    from ..video.explain import explain_run

    result = explain_run(
        run,
        out or Path(run) / "explain",
        sequences=sequences,
        dims=dims,
        times=times,
        examples=examples,
        device=device,
        data_root=root,
        even_if_inert=even_if_inert,
    )
    c = result.check
    click.echo(
        f"inner loss on the true frames {c['true']:.4g}, on the untailored prediction {c['untailored']:.4g} "
        f"(higher on {c['separation']:.0%} of {c['windows']} windows)"
    )
    if result.inert:
        click.echo("the embedding is inert (it does not tell predictions from true frames): no figures drawn")
        return
    shares = ", ".join(f"{v:.1%}" for v in result.explained[:dims])
    click.echo(f"explained variance of the first PCA dimensions: {shares}")
    click.echo(f"figures -> {result.pca_png}, " + ", ".join(str(p) for p in result.cam_pngs))


video_group.add_command(make_data)
video_group.add_command(explain_cmd)
video_group.add_command(train_cmd)
video_group.add_command(evaluate_cmd)
