"""Each configuration is defined once: the CLI's options, the study file's keys and the detectors'
parameters come from (or are checked here against) the configuration dataclasses, so a default
cannot differ between them unless the dataclass says so."""
import dataclasses
import inspect

import pytest
import typer

from ovid.cli import generate as generate_cli
from ovid.cli import overlap as overlap_cli
from ovid.cli import score as score_cli
from ovid.cli import train as train_cli
from ovid.cli.options import ALIAS
from ovid.detect.params import EngineConfig, TrainConfig
from ovid.detect.registry import detector_class, detector_names
from ovid.detect.score_job import ScoreJob
from ovid.detect.train_job import TrainJob
from ovid.generate.config import Decoding, GenerationConfig, SampleSettings, SamplingParams
from ovid.overlap.bloom_build import BloomBuildConfig
from ovid.ray_tasks import RaySettings
from ovid.reports.memorization.control import ControlConfig
from ovid.reports.study.config import (
    DetectorSection,
    GenerateSection,
    MachineSection,
    MemorizationSection,
    StudyConfig,
    StudySection,
)
from ovid.settings import default_of


def defaults(cls) -> dict:
    return {f.name: default_of(f) for f in dataclasses.fields(cls)}


def cli_defaults(params: list[inspect.Parameter]) -> dict:
    """The options' defaults, old names (hidden aliases) left out."""
    return {p.name: p.default.default for p in params if not p.name.startswith(ALIAS)}


def test_generate_options_are_the_generation_settings():
    opts = cli_defaults(generate_cli.OPTIONS)
    expected = {**defaults(GenerationConfig), **defaults(SamplingParams), "decoding": "pure"}
    for name, value in expected.items():
        if name in ("model", "decoding"):  # lists: several make a grid
            assert opts[name] == [value], name
        else:
            assert opts[name] == value, name
    # the watermark's options are WatermarkConfig's fields, unset unless given (no watermark)
    from ovid.cli.watermark_options import option_name
    from ovid.watermark.config import WatermarkConfig

    marks = {option_name(f.name) for f in dataclasses.fields(WatermarkConfig)}
    ray = {f.name for f in dataclasses.fields(RaySettings)}  # where it runs: not part of the corpus
    assert all(opts[name] == default_of(f) for f in dataclasses.fields(RaySettings) for name in [f.name])
    assert set(opts) == (set(expected) | {"out", "out_dir", "progress"} | marks | ray)
    assert all(opts[m] is None for m in marks)
    assert opts["max_tokens"] == 256 and opts["prompt_tokens"] == 30


def test_bloom_and_train_options_are_their_jobs_fields():
    assert cli_defaults(overlap_cli.OPTIONS) == {**defaults(BloomBuildConfig), "sources": ..., "progress": True}
    job = {k: v for k, v in defaults(TrainJob).items() if k != "params"}
    assert {k: v for k, v in cli_defaults(train_cli.OPTIONS).items() if k in job} == {**job, "out": ...}


def test_detector_options_leave_the_detectors_defaults_alone():
    """Only given detector options are passed on (all default to None), and every parameter of
    every registered detector has an option."""
    from ovid.cli.watermark_options import field_name

    opts = {field_name(k): v for k, v in cli_defaults(train_cli.DETECTOR_OPTIONS).items()}
    assert set(opts.values()) == {None}
    for name in detector_names():
        missing = set(detector_class(name).param_names()) - set(opts) - {"seed"}
        assert not missing, f"{name}: no detect-train option for {missing}"
    assert set(cli_defaults(score_cli.OPTIONS)) >= set(score_cli.ENGINE_OPTIONS)
    ray = {k: v for k, v in defaults(ScoreJob).items() if k in score_cli.RAY_OPTIONS}
    assert {k: cli_defaults(score_cli.OPTIONS)[k] for k in ray} == ray and len(ray) == 5


@pytest.mark.parametrize("name", ["likelihood", "fast-detectgpt", "binoculars", "gltr", "ensemble"])
def test_engine_backed_detectors_default_to_the_engine_config(name):
    engine = defaults(EngineConfig)
    det = detector_class(name)()
    params = det.get_params()
    for k, v in params.items():
        if k in engine and v is not None:  # a detector's params are JSON-shaped: the engine's tuples are its lists
            assert v == (list(engine[k]) if isinstance(engine[k], tuple) else engine[k]), (name, k)
    if name == "ensemble":  # None: the engine's defaults, kept as None so a saved folder's JSON matches
        assert params["models"] is None and det.models_used() == [engine["model"]]
        assert params["pool_layers"] is None and det.pooled_layers() == list(engine["pool_layers"])


def test_the_classifier_defaults_to_its_training_config():
    params = detector_class("roberta")().get_params()
    assert {k: params[k] for k in defaults(TrainConfig)} == defaults(TrainConfig)


def test_study_generate_section_shares_the_generation_fields():
    section = defaults(GenerateSection)
    shared = {**defaults(SampleSettings), **defaults(SamplingParams)}
    differ = {k for k in shared if section[k] != shared[k]}
    assert differ == {"max_tokens", "prompt_tokens"}  # the study's shorter samples, said in the dataclass
    cfg = GenerateSection(models=["m"], decodings=["top-p"], top_p=0.9, n=4, prompted=False).generation_config(
        "m", "top-p", "prompts.jsonl")
    assert cfg == GenerationConfig(model="m", decoding=Decoding("top-p", top_p=0.9), n=4, max_tokens=96,
                                   prompt_tokens=16, prompts=None)


def test_memorization_section_takes_the_control_and_filter_defaults():
    m = MemorizationSection()
    assert m.control_config(seed=3) == dataclasses.replace(ControlConfig(), seed=3)
    assert (m.n, m.fpr) == (BloomBuildConfig().n, BloomBuildConfig().fpr)


@pytest.mark.parametrize("cls", [GenerationConfig, SampleSettings, SamplingParams, EngineConfig, TrainConfig,
                                 BloomBuildConfig, ControlConfig, TrainJob, GenerateSection, StudySection,
                                 MachineSection, DetectorSection, MemorizationSection, StudyConfig])
def test_configurations_take_keywords_only(cls):
    first = dataclasses.fields(cls)[0]
    with pytest.raises(TypeError, match="positional"):
        cls(default_of(first) if default_of(first) is not dataclasses.MISSING else "x")


def test_decoding_takes_only_its_strategy_by_position():
    assert Decoding("top-k", top_k=5).top_k == 5
    with pytest.raises(TypeError):
        Decoding("top-k", 5)


def test_every_cli_option_has_help():
    for params in (generate_cli.OPTIONS, score_cli.OPTIONS, train_cli.OPTIONS, overlap_cli.OPTIONS):
        for p in params:
            assert isinstance(p.default, (typer.models.OptionInfo, typer.models.ArgumentInfo))
            assert p.default.help, p.name


@pytest.mark.parametrize("name", ["likelihood", "gltr", "ensemble", "roberta", "tfidf"])
def test_detectors_take_keywords_only(name):
    with pytest.raises(TypeError, match="positional"):
        detector_class(name)("x")
