"""`ovid generate`: sample one corpus, or a grid of models x decodings."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List, Optional

import typer

from ovid.corpus import check_sources
from ovid.generate.config import Decoding, GenerationConfig, SamplingParams, Strategy
from ovid.ray_tasks import RaySettings
from ovid.settings import field_default, field_help
from ovid.watermark.config import SCHEMES, WatermarkConfig

from .options import fail, field_options, option, with_options
from .watermark_options import FIELDS, option_name, watermark_options

OPTIONS = [
    option("model", List[str], [field_default(GenerationConfig, "model")],
           field_help(GenerationConfig, "model") + " Several (or a family: gpt2, offline) make a grid."),
    option("decoding", List[Strategy], [field_default(Decoding, "strategy")],
           field_help(Decoding, "strategy") + " Several make a grid."),
    *field_options(SamplingParams),
    *field_options(GenerationConfig, skip=("model", "decoding", "watermark")),
    *watermark_options(detector=False),
    option("out", Optional[Path], None, "Output JSONL (one model and one decoding)."),
    option("out_dir", Optional[Path], None, "Output folder for a grid: MODEL-DECODING.jsonl each."),
    option("progress", bool, True, "Show a progress bar."),
    *field_options(RaySettings),
]
RAY_OPTIONS = [f.name for f in dataclasses.fields(RaySettings)]
KNOBS = [f.name for f in dataclasses.fields(SamplingParams)]


def watermark_config(given: dict) -> WatermarkConfig | None:
    """The watermark the options ask for: None without --watermark (then no other watermark option
    may be given)."""
    given = {k: v for k, v in given.items() if v is not None}
    if "scheme" not in given:
        if given:
            name = option_name(next(iter(given)))
            fail(f"--{name.replace('_', '-')} needs --watermark {' or --watermark '.join(SCHEMES)}")
        return None
    return WatermarkConfig(**given)


def generate(*, model: list[str], decoding: list[str], out: Path | None, out_dir: Path | None, progress: bool,
             **settings) -> None:
    """Sample a corpus (gpt-2-output-dataset JSONL + .meta.json). Re-run the same command to resume."""
    if settings["prompts"] is not None:
        check_sources([settings["prompts"]])  # a missing file is named before torch is imported
    from ovid.generate import expand_models, sample_corpus, sample_grid
    from ovid.models import quiet_loading

    quiet_loading(not progress)

    knobs = {k: settings.pop(k) for k in KNOBS}
    on_ray = RaySettings(**{k: settings.pop(k) for k in RAY_OPTIONS})
    watermark = watermark_config({k: settings.pop(option_name(k)) for k in FIELDS})
    if not model or not decoding:
        fail("give at least one --model and one --decoding")
    models = expand_models(model)
    decodings = [Decoding(strategy, **knobs) for strategy in decoding]
    base = GenerationConfig(model=models[0], decoding=decodings[0], watermark=watermark, **settings)
    if len(models) * len(decodings) > 1 or out is None:
        if out_dir is None:
            fail("give --out FILE for one corpus, or --out-dir DIR for a grid of corpora")
        results = sample_grid(base, models, decodings, out_dir, progress, on_ray)
    else:
        results = [sample_corpus(base, out, progress, on_ray)]
    for path, meta in results:
        typer.echo(f"{path}: {meta['n_written']} samples from {meta['model']}")


command = with_options(OPTIONS, generate)
