"""``noether video ...``: the video dataset commands (the models add ``train`` and ``evaluate`` to this group)."""

from __future__ import annotations

import click

from .registry import PRESET_NAMES, VIDEO_DATASETS, cache_path, load_video_dataset
from .strip import save_strip


@click.group("video")
def video_group() -> None:
    """Noether Networks on video: datasets (make-data), models (train, evaluate)."""


@video_group.command("make-data")
@click.argument("name", type=click.Choice(list(VIDEO_DATASETS)))
@click.option("--preset", type=click.Choice(PRESET_NAMES), default="ci", show_default=True,
              help="ci: seconds (tests); cpu: this machine; paper: the paper's sizes.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--size", type=int, default=64, show_default=True, help="Frame height = width in pixels.")
@click.option("--cache-dir", "root", type=click.Path(file_okay=False), default=None,
              help="Cache folder [default $NOETHER_CACHE/video or ~/.cache/noether/video].")
@click.option("--force", is_flag=True, help="Regenerate even if the dataset is cached.")
@click.option("--strip", "strip", type=click.Path(dir_okay=False), default=None,
              help="Also save the first test sample as a PNG strip here.")
def make_data(name: str, preset: str, seed: int, size: int, root: str | None, force: bool, strip: str | None) -> None:
    """Generate (or find in the cache) the video dataset NAME."""
    path = cache_path(name, preset, seed, size, root)
    if force and path.exists():
        path.unlink()
    dataset = load_video_dataset(name, preset=preset, seed=seed, root=root, size=size)
    click.echo(dataset.summary())
    click.echo(f"cached at {path}")
    if strip:
        save_strip(dataset.test[0]["frames"], strip, rows=2, n_cond=dataset.n_cond,
                   title=f"{name} ({preset}, seed {seed}): test sample 0")
        click.echo(f"strip saved to {strip}")
