"""`detect-train` (and `ovid train`): train, or for zero-shot detectors calibrate, a detector and
save it.

    detect-train --train FILE[,FILE...] --out runs/det1      # the ovid:default recipe, offline
    detect-train --detector classifier --backbone smollm2-135m --train FILE --out runs/det2
                 [--valid FILE] [--human FILE --machine FILE] [--epochs N]
                 [--max-texts N] [--seed S] [--resume]

The job's options come from `TrainJob` (detect/train_job.py); the detector's from the engine's
and the training loop's configurations (detect/params.py) and the few parameters that single
detectors add (written here: they are the detectors' own keywords, with no dataclass of their
own yet). Only the detector options given are passed on; one the detector does not take is an
error.
"""
from __future__ import annotations

import dataclasses
import sys
from typing import List, Literal, Optional

import typer

from ovid.corpus import check_sources
from ovid.detect.params import EngineConfig, TrainConfig
from ovid.detect.train_job import TrainJob
from ovid.normalize import RECIPES

from .options import alias, field_options, option, with_options
from .runner import run, version_line
from .watermark_options import field_name, watermark_options

LIST_OPTIONS = ("--train", "--human", "--machine", "--valid")  # took FILE... before they took commas
DETECTOR_OPTIONS = [
    *field_options(EngineConfig, only=("model", "reference_model", "dtype", "max_length", "token_budget",
                                       "cache_dir"), unset=True,
                   help_suffix={"max_length": " For classifier: tokens per crop (default 256).",
                                "dtype": " For classifier: the compute dtype of training (default float32)."}),
    *field_options(TrainConfig, skip=("max_length", "seed", "dtype"), unset=True,
                   help_suffix=dict.fromkeys([f.name for f in dataclasses.fields(TrainConfig)], " (classifier)")),
    # the parameters of single detectors
    option("backbone", Optional[str], None, "Backbone of classifier: smollm2-135m or gemma3-270m (causal LMs, "
           "offline), minilm-l6 (encoder, offline), roberta-base, any Hub id or folder."),
    option("pooling", Optional[Literal["last", "mean"]], None, "Head of classifier: last (the backbone family's "
           "own, reading the last real token) or mean (the mean of the final hidden states; better for causal LMs)."),
    option("models", Optional[List[str]], None, "Scoring models for ensemble."),
    option("classifier", Optional[str], None, "Saved detector folder whose score feeds the ensemble."),
    option("learner", Optional[Literal["logistic", "gbm"]], None, "Ensemble learner: logistic or gbm."),
    option("features", Optional[Literal["stats", "distributions", "hidden"]], None, "What of the one pass the "
           "ensemble learns from: stats (ten statistics), distributions (plus per-token quantiles) or hidden "
           "(plus pooled hidden states)."),
    option("pool_layers", Optional[List[int]], None, "Hidden-state layers the ensemble pools with --features "
           "hidden (0 = embeddings, -1 = the last)."),
    option("C", Optional[float], None, "Inverse regularisation strength C of the logistic regression "
           "(gltr, tfidf, ensemble).", spelled="--c"),
    option("max_features", Optional[int], None, "Vocabulary cap of tfidf: the most frequent 1-2-grams."),
    option("min_df", Optional[int], None, "Documents a tfidf term must occur in."),
    option("normalize", Optional[Literal[RECIPES]], None, "Text normalisation before every detector, the defence "
           "against character-level evasion: fold (default: repairs, then lower case and digits as 0), repair "
           "(zero-width and format characters removed, NFKC, look-alike letters to Latin, whitespace) or none."),
    option("tamper_feature", Optional[bool], None, "Ensemble: add the share of characters normalisation "
           "repaired as a feature."),
    *watermark_options(detector=True),
]
DETECTOR_PARAMS = [p.name for p in DETECTOR_OPTIONS]
OPTIONS = [*field_options(TrainJob, skip=("params",)), *DETECTOR_OPTIONS,
           *[alias(old, next(p for p in DETECTOR_OPTIONS if p.name == name))
             for old, name in (("--C", "C"), ("--encoder", "backbone"))]]


def train(**values) -> None:
    """Train (or, for zero-shot detectors, calibrate) a detector and save it."""
    check_sources([*values["train"], *values["human"], *values["machine"], *values["valid"]])  # before torch
    from ovid.detect.train_job import train_detector

    given = {k: values.pop(k) for k in DETECTOR_PARAMS}
    params = {field_name(k): v for k, v in given.items() if v is not None}
    from ovid.models import quiet_loading

    quiet_loading(not values["progress"])
    job = TrainJob(params=params, **values)
    m = train_detector(job)
    v, fpr = m["validation"], job.target_fpr
    extra = f", AUROC {v['auroc']:.4f}, TPR at {fpr:g} FPR {v[f'tpr_at_{fpr:g}_fpr']:.4f}" if "auroc" in v else ""
    typer.echo(f"{job.out}: {job.detector} trained on {m['n_train']} texts in {m['seconds']} s; "
               f"validation ({m['n_valid']} texts){extra}")


command = with_options(OPTIONS, train)


def spread_lists(argv: list[str]) -> list[str]:
    """`--train a b c` -> `--train a --train b --train c`: the old form of the file lists, kept
    for one release (click options take one value each)."""
    out, current = [], None
    for arg in argv:
        if arg.startswith("-"):
            current = arg if arg in LIST_OPTIONS else None
            out.append(arg)
        elif current is not None and out[-1] != current:
            out += [current, arg]
        else:
            out.append(arg)
    return out


def old_list_form(argv: list[str]) -> list[str]:
    """The arguments with the old `--train a b` form spread out, saying so on stderr."""
    spread = spread_lists(argv)
    if spread != argv:
        typer.echo("note: several files after one --train, --human, --machine or --valid is the old form; repeat "
                   "the option or separate the files with commas (the old form goes in the next release)", err=True)
    return spread


def standalone_app() -> typer.Typer:
    """`detect-train`: the train command as an app of its own."""
    app = typer.Typer(pretty_exceptions_enable=False, context_settings={"help_option_names": ["-h", "--help"]})
    app.command()(command)
    return app


def main(argv: list[str] | None = None) -> None:
    """The `detect-train` entry point: user-facing errors are one line on stderr, exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--version"]:
        typer.echo(version_line())
        sys.exit(0)
    sys.exit(run(standalone_app(), old_list_form(args), "detect-train"))
