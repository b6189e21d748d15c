"""The `ovid` command line: one app, a sub-command per job. Options map onto config dataclasses."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import OvidError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ovid: synthetic-text detection and responsible-release studies.")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("models")
def models_cmd() -> None:
    """List the model registry and whether each model can be loaded offline now."""
    from .models import REGISTRY, available_offline

    typer.echo(f"{'name':<14} {'kind':<8} {'params':>7}  {'offline now':<11}  source")
    for spec in REGISTRY.values():
        params = f"{spec.params / 1e6:.0f}M" if spec.params else "?"
        source = f"PyPI package {spec.package}" if spec.package else f"Hub {spec.hub_id}"
        ok = "yes" if available_offline(spec) else "no"
        typer.echo(f"{spec.name:<14} {spec.kind:<8} {params:>7}  {ok:<11}  {source}")


@app.command("generate")
def generate_cmd(
    model: str = typer.Option("smollm2-135m", help="Registry name, family (gpt2, offline), Hub id, folder "
                              "or .gguf; comma-separated for a study set."),
    decoding: str = typer.Option("pure", help="pure, top-k, top-p or temperature; comma-separated for a study set."),
    top_k: int = typer.Option(40, help="k for top-k sampling."),
    top_p: float = typer.Option(0.96, help="p for nucleus (top-p) sampling."),
    temperature: Optional[float] = typer.Option(None, help="Softmax temperature (default 1.0; 0.7 for --decoding temperature)."),
    n: Optional[int] = typer.Option(None, "-n", "--n", help="Samples per corpus (default: one per prompt)."),
    max_tokens: int = typer.Option(256, help="New tokens per sample."),
    batch_size: int = typer.Option(16, help="Samples generated together."),
    seed: int = typer.Option(0, help="Random seed; same seed and batch size give the same texts."),
    prompts: Optional[str] = typer.Option(None, help="Corpus whose texts' first tokens prompt the model "
                                          "(any format ovid reads, or ovid:human-demo); default unconditional."),
    prompt_tokens: int = typer.Option(30, help="Prompt length in tokens."),
    dtype: str = typer.Option("auto", help="auto (bfloat16 where the CPU/GPU runs it natively, else float32), float32 or bfloat16."),
    out: Optional[Path] = typer.Option(None, help="Output JSONL (one model and one decoding)."),
    out_dir: Optional[Path] = typer.Option(None, help="Output folder for a study set: MODEL-DECODING.jsonl each."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Sample a corpus (gpt-2-output-dataset JSONL + .meta.json). Re-run the same command to resume."""
    from ovid.generate import Decoding, GenerationConfig, sample_corpus, sample_study
    from ovid.generate.study import expand_models

    try:
        models = expand_models([m for m in model.split(",") if m])
        decodings = [Decoding(d, top_k, top_p, temperature) for d in decoding.split(",") if d]
        base = GenerationConfig(models[0], decodings[0], n, max_tokens, batch_size, seed, prompts,
                                prompt_tokens, dtype)
    except ValueError as e:
        _fail(str(e))
    if len(models) * len(decodings) > 1 or out is None:
        if out_dir is None:
            _fail("give --out FILE for one corpus, or --out-dir DIR for a study set")
        results = sample_study(base, models, decodings, out_dir, progress)
    else:
        results = [sample_corpus(base, out, progress)]
    for path, meta in results:
        typer.echo(f"{path}: {meta['n_written']} samples from {meta['model']}")


@app.command("score")
def score_cmd(
    files: List[str] = typer.Argument(..., help="Corpora to score (any format ovid reads)."),
    detector: str = typer.Option("fast-detectgpt", help="Registry name, or a folder saved by detect-train."),
    model: Optional[str] = typer.Option(None, help="Scoring model (LM-based detectors; default smollm2-135m)."),
    reference_model: Optional[str] = typer.Option(None, help="Reference/observer model (Fast-DetectGPT, Binoculars)."),
    dtype: Optional[str] = typer.Option(None, help="auto (default: bfloat16 where native, else float32), float32 or bfloat16."),
    max_length: Optional[int] = typer.Option(None, help="Scoring window in tokens (default min(model's, 1024))."),
    token_budget: Optional[int] = typer.Option(None, help="Padded tokens per forward batch."),
    cache_dir: Optional[str] = typer.Option(None, help="Folder for cached token statistics."),
    out: Path = typer.Option(..., help="Output: .jsonl, or .csv by its name."),
    target_fpr: float = typer.Option(0.01, help="FPR at which TPR is reported."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Score texts (higher = more machine-like); prints AUROC and TPR at 1% FPR when labelled."""
    from .scoring import score_files

    given = {"model": model, "reference_model": reference_model, "dtype": dtype,
             "max_length": max_length, "token_budget": token_budget, "cache_dir": cache_dir}
    result = score_files(detector, files, out, {k: v for k, v in given.items() if v is not None},
                         target_fpr, progress)
    typer.echo(result)


@app.command("report")
def report_cmd(
    study: Path = typer.Argument(..., help="Study file (TOML; schema in the README)."),
    out: Path = typer.Option(..., help="Output folder: index.html, report.md, tables/, figures/, study.json."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Run a detection-rate and memorization study and render its report (resumable)."""
    from .study_run import run_study

    typer.echo(f"report: {run_study(study, out, progress).resolve()}")


@app.command("download")
def download_cmd(
    dataset: List[str] = typer.Option(..., help="webtext, small-117M, small-117M-k40, ..., xl-1542M-k40 (repeatable)."),
    split: List[str] = typer.Option(["test"], help="train, valid or test (repeatable)."),
    out_dir: Path = typer.Option(Path("data/gpt-2-output"), help="Where the .jsonl files go."),
) -> None:
    """Download OpenAI's gpt-2-output-dataset files (resumable, size-verified; needs internet)."""
    from .download import download_gpt2_output

    for path in download_gpt2_output(dataset, split, out_dir):
        typer.echo(str(path))


@app.command("bloom")
def bloom_cmd(
    sources: List[str] = typer.Argument(..., help="Reference corpora (JSONL files stream in byte ranges; any corpus format)."),
    out: Path = typer.Option(Path("reference.bloom"), help="The filter file (safetensors)."),
    capacity: Optional[int] = typer.Option(None, help="N-grams to size the filter for (default: count them first)."),
    fpr: float = typer.Option(1e-3, help="Configured false-positive rate."),
    n: int = typer.Option(8, help="N-gram length (the GPT-2 paper: 8)."),
    workers: int = typer.Option(0, help="Processes, one shard each (0 = one per core)."),
    batch_bytes: int = typer.Option(1 << 16, help="Text per hashing batch."),
) -> None:
    """Build the memorization study's n-gram Bloom filter from a training corpus (parallel,
    streaming, resumable)."""
    from .bloom_build import BloomBuildConfig, build_bloom

    build_bloom(BloomBuildConfig(list(sources), str(out), capacity, fpr, n, workers, batch_bytes))


def main() -> None:
    """Entry point: user-facing errors become one line on stderr and exit code 2."""
    try:
        app()
    except OvidError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
