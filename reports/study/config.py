"""A study is a small TOML file, parsed into dataclasses and validated with errors that name the
key at fault. Paths are relative to the TOML file's folder. Each section is a dataclass whose
fields are the section's keys; [generate] and [memorization] share their fields' definitions
with the stages' own configurations (generate/config.py, overlap/bloom_build.py,
reports/memorization/control.py).

    [study]          name, seed, target_fpr, test_fraction, length_buckets, bootstrap, examples
    [human]          corpus = "ovid:human-demo" (or a list); records labelled machine are dropped
    [generate]       models, decodings, top_k, top_p, temperature, n, prompted, max_tokens, prompt_tokens,
                     batch_size, dtype, seed  (samples prompted with the human texts)
    [[machine]]      corpus, name, model, params, decoding   (existing machine corpora)
    [[detectors]]    name = "fast-detectgpt", plus that detector's parameters
    [cross_size]     detector = "tfidf"   (a trained detector; fitted per corpus, tested on all)
    [robustness]     attacks, rate, seed, attack_model, undefended, max_texts  (detection under attack)
    [watermark]      models, schemes, key, gamma, delta, context_width, seeding_scheme, ngram_len, depth,
                     decoding, n, max_tokens, prompt_tokens, batch_size, seed, dtype, lengths, fpr,
                     attacks, rate, attack_seed, attack_model, quality_models, posthoc
    [memorization]   reference, reference_fraction, n, fpr, prompt_tokens, max_tokens, batch_size,
                     control, control_model, control_texts, control_steps, control_lr, control_tokens,
                     control_batch_size
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from ovid.attack.config import AttackConfig
from ovid.errors import OvidError
from ovid.generate import Decoding, GenerationConfig, SampleSettings, SamplingParams
from ovid.names import did_you_mean
from ovid.overlap.bloom_build import BloomBuildConfig
from ovid.settings import (
    MAX_BOOTSTRAP,
    MAX_NEW_TOKENS,
    MAX_SAMPLES,
    SettingError,
    at_least,
    check_settings,
    each,
    field_help,
    fraction,
    seed_range,
    setting,
    type_name,
    type_ok,
)
from ovid.textio import read_text
from ovid.watermark.config import SCHEMES, TEST, WatermarkConfig

from ..memorization.control import ControlConfig


class Section:
    """A table of the study file; `check_section` holds the checks that need more than one key."""

    def check_section(self, where: str) -> None:
        pass


@dataclass(kw_only=True)
class StudySection(Section):
    name: str = setting("study", "Title of the report.")
    seed: int = setting(0, "Seed of the splits, the bootstrap and the memorization control.", check=seed_range())
    target_fpr: float = setting(0.01, "FPR on held-out human text at which TPR is reported.", check=fraction())
    test_fraction: float = setting(0.5, "Share of source documents held out for testing.", check=fraction())
    length_buckets: list[int] = setting(factory=lambda: [16, 32, 64, 128],
                                        help="Text lengths (scoring-model tokens) of the length table.",
                                        check=each(at_least(1)))
    bootstrap: int = setting(1000, "Resamples for the percentile bootstrap 95% intervals of AUROC and F1 (0: "
                             "none); rates that count texts (TPR, FPR, accuracy) always get exact Clopper-Pearson "
                             "intervals.", check=at_least(0, high=MAX_BOOTSTRAP))
    examples: int = setting(2, "GLTR-coloured examples per class.", check=at_least(0))
    mixed: int = setting(10, "Mixed texts per domain and kind (human then machine, machine then human) in the "
                         "Mixed texts section, built from the held-out texts; 0: no section.", check=at_least(0))

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(kw_only=True)
class HumanSection(Section):
    corpus: list[str] = setting(factory=lambda: ["ovid:human-demo"],
                                help="Human corpora; records labelled machine are dropped.")

    def check_section(self, where: str) -> None:
        if not self.corpus:
            raise OvidError(f"{where}.corpus is empty; name at least one corpus of human texts")


@dataclass(frozen=True, kw_only=True)
class GenerateSection(Section, SampleSettings, SamplingParams):
    """[generate]: one corpus per model x decoding. Every key but models, decodings and prompted
    is a field of `SampleSettings` or `SamplingParams` (generate/config.py), with its meaning."""
    models: list[str] = setting(factory=lambda: ["smollm2-135m"], help="Models or families (gpt2, offline).")
    decodings: list[str] = setting(factory=lambda: ["pure", "top-k"], help="Decoding strategies.")
    prompted: bool = setting(True, "Prompt with the human texts; false: unconditional samples, as the "
                             "GPT-2 output dataset (needs n).")
    # A study's own defaults, shorter than `ovid generate`'s 256 and 30 on purpose: it samples
    # every model x decoding once per human text, and 96 new tokens after a 16-token prompt keep
    # such a grid within minutes on 2 cores.
    max_tokens: int = setting(96, "New tokens per sample.", check=at_least(1, high=MAX_NEW_TOKENS))
    prompt_tokens: int = setting(16, "Prompt length in tokens.")

    def check_section(self, where: str) -> None:
        if not self.prompted and self.n is None:
            raise OvidError(f"{where}.n is required when prompted = false")
        for i, d in enumerate(self.decodings):
            try:
                self.decoding(d)
            except ValueError as e:
                raise OvidError(f"{where}.decodings[{i}]: {e}") from None

    def decoding(self, strategy: str) -> Decoding:
        return Decoding(strategy, **{f.name: getattr(self, f.name) for f in dataclasses.fields(SamplingParams)})

    def generation_config(self, model: str, strategy: str, prompts: str) -> GenerationConfig:
        """The settings of one corpus of the grid (prompts: the human texts, used when prompted)."""
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(SampleSettings)}
        return GenerationConfig(model=model, decoding=self.decoding(strategy),
                                prompts=prompts if self.prompted else None, **shared)


@dataclass(kw_only=True)
class MachineSection(Section):
    corpus: str = setting(help="An existing machine corpus (any format ovid reads).")
    name: str | None = setting(None, "Row name in the tables (default: the file's name).")
    model: str | None = setting(None, "The model that wrote it.")
    params: int | None = setting(None, "Its parameter count: the size axis.")
    decoding: str = setting("unknown", "How it was decoded.")


@dataclass(kw_only=True)
class DetectorSection(Section):
    name: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_table(cls, d: Any, where: str) -> "DetectorSection":
        """A [[detectors]] table: a shipped detector as it is, or a registry name with parameters in range."""
        from ovid.detect.persistence import SHIPPED_PREFIX, shipped_detector_path
        from ovid.detect.registry import detector_class, make_detector

        if not isinstance(d, dict) or "name" not in d:
            raise OvidError(f"{where}: missing required key 'name'")
        name = d["name"]
        if not isinstance(name, str):
            raise OvidError(f"{where}.name must be a detector's name (a string), got {type(name).__name__}")
        if name.startswith(SHIPPED_PREFIX):  # a shipped detector: used as it is
            try:
                shipped_detector_path(name)
            except OvidError as e:
                raise OvidError(f"{where}.name: {e}") from None
            extra = sorted(set(d) - {"name"})
            if extra:
                raise OvidError(f"{where}: {name} is used as shipped; it takes no parameter {extra[0]!r}")
            return cls(name=name)
        try:
            det_cls = detector_class(name)
        except OvidError as e:
            raise OvidError(f"{where}.name: {e}") from None
        try:
            params = det_cls.canonical_params({k: v for k, v in d.items() if k != "name"})
        except OvidError as e:
            raise OvidError(f"{where}: {e}") from None
        for k in params:
            if k not in det_cls.param_names():
                raise OvidError(f"{where}: detector {name!r} takes no parameter {k!r} "
                                f"(it takes: {', '.join(det_cls.param_names())})")
        try:
            make_detector(name, **params)  # values in range; loads no model
        except SettingError as e:
            raise OvidError(f"{where}.{e.field} {e.problem}") from None
        except (OvidError, TypeError) as e:
            raise OvidError(f"{where}: {e}") from None
        return cls(name=name, params=params)

    @property
    def label(self) -> str:
        model = self.params.get("model") or self.params.get("backbone") or self.params.get("encoder")
        models = self.params.get("models")
        if models:
            model = "+".join(models)
        return f"{self.name} ({Path(str(model)).name})" if model else self.name


@dataclass(kw_only=True)
class CrossSizeSection(Section):
    detector: str = setting("tfidf", "A trained detector of [[detectors]], fitted per corpus and tested on all.")

    def check_detectors(self, detectors: list[DetectorSection]) -> None:
        from ovid.detect.persistence import SHIPPED_PREFIX
        from ovid.detect.registry import detector_class

        trained = "the transfer matrix needs a detector trained in the study (tfidf, gltr, classifier, ensemble)"
        if self.detector not in {d.name for d in detectors}:
            raise OvidError(f"[cross_size].detector {self.detector!r} is not one of the [[detectors]]")
        if self.detector.startswith(SHIPPED_PREFIX):
            raise OvidError(f"[cross_size].detector {self.detector!r} is shipped already trained; {trained}")
        if not detector_class(self.detector).trained:
            raise OvidError(f"[cross_size].detector {self.detector!r} is zero-shot; {trained}")


_ATTACK = AttackConfig()
CHEAP_ATTACKS = ["homoglyph", "zero_width_space", "whitespace", "upper_lower", "insert_paragraphs", "number",
                 "article_deletion", "alternative_spelling"]  # no model needed: seconds, not minutes


@dataclass(kw_only=True)
class RobustnessSection(Section):
    """[robustness]: held-out machine texts under each attack against clean held-out human texts
    (RAID's protocol), and held-out human texts under each attack at the detector's threshold. The
    attack keys are `AttackConfig`'s (attack/config.py)."""
    attacks: list[str] = setting(factory=lambda: list(CHEAP_ATTACKS),
                                 help="Attacks (ovid attack's names); misspelling, synonym and paraphrase run an LM.")
    rate: float | None = setting(None, field_help(AttackConfig, "rate"))
    seed: int = setting(_ATTACK.seed, field_help(AttackConfig, "seed"), check=seed_range())
    attack_model: str = setting(_ATTACK.attack_model, field_help(AttackConfig, "attack_model"))
    undefended: bool = setting(True, "Also score with each detector's normalisation off, side by side.")
    max_texts: int = setting(200, "Held-out machine (and human) texts attacked, at most: the first of each.",
                             check=at_least(1))

    def __post_init__(self) -> None:
        check_settings(self)
        try:
            self.attack_config()
        except SettingError as e:
            raise SettingError(e.field, e.problem) from None

    def attack_config(self) -> AttackConfig:
        return AttackConfig(attacks=tuple(self.attacks), rate=self.rate, seed=self.seed, attack_model=self.attack_model)


_MARK = WatermarkConfig(key=15485863)
_SAMPLE = SampleSettings()


@dataclass(kw_only=True)
class WatermarkSection(Section):
    """[watermark]: for each model, samples with each scheme and plain samples from the same
    prompts (the first held-out human texts); each scheme's test against length, under attack, its
    quality cost, and the post-hoc detectors on the same samples. The scheme keys are
    `WatermarkConfig`'s (ovid/watermark/config.py), the sampling keys `SampleSettings`' and the
    attack keys `AttackConfig`'s."""
    models: list[str] = setting(factory=lambda: ["smollm2-135m"], help="Models that generate (each its own samples).")
    schemes: list[str] = setting(factory=lambda: list(SCHEMES), help="Watermark schemes: kgw, synthid.",
                                 check=each(lambda s: None if s in SCHEMES else f"must be kgw or synthid, got {s!r}"))
    # a study's key is no secret: it is in the study file (transformers' default key)
    key: int = setting(_MARK.key, field_help(WatermarkConfig, "key"))
    gamma: float = setting(_MARK.gamma, field_help(WatermarkConfig, "gamma"))
    delta: float = setting(_MARK.delta, field_help(WatermarkConfig, "delta"))
    context_width: int = setting(_MARK.context_width, field_help(WatermarkConfig, "context_width"))
    seeding_scheme: str = setting(_MARK.seeding_scheme, field_help(WatermarkConfig, "seeding_scheme"))
    ngram_len: int = setting(_MARK.ngram_len, field_help(WatermarkConfig, "ngram_len"))
    depth: int = setting(_MARK.depth, field_help(WatermarkConfig, "depth"))
    # top-k 40 (the GPT-2 release's samples): SynthID then marks 40 candidates a step, not the
    # whole vocabulary, which on a CPU is the difference between minutes and an hour
    decoding: str = setting("top-k", field_help(Decoding, "strategy"))
    n: int = setting(64, "Prompts (the first held-out human texts), one watermarked and one plain sample each.",
                     check=at_least(1, high=MAX_SAMPLES))
    max_tokens: int = setting(256, field_help(SampleSettings, "max_tokens"), check=at_least(1, high=MAX_NEW_TOKENS))
    prompt_tokens: int = setting(_SAMPLE.prompt_tokens, field_help(SampleSettings, "prompt_tokens"), check=at_least(1))
    batch_size: int = setting(_SAMPLE.batch_size, field_help(SampleSettings, "batch_size"), check=at_least(1))
    seed: int = setting(_SAMPLE.seed, field_help(SampleSettings, "seed"), check=seed_range())
    dtype: str = setting(_SAMPLE.dtype, field_help(SampleSettings, "dtype"))
    lengths: list[int] = setting(factory=lambda: [16, 32, 64, 128, 256], help="Text lengths (generating model's "
                                 "tokens) at which detection is measured.", check=each(at_least(1)))
    fpr: float = setting(TEST.alpha, "The test's level: a text is watermarked when p < fpr (TPR is reported at it).",
                         check=fraction())
    attacks: list[str] = setting(factory=lambda: ["homoglyph", "zero_width_space", "alternative_spelling",
                                                  "article_deletion", "synonym", "paraphrase"],
                                 help="Attacks on the watermarked samples (ovid attack's names).")
    rate: float | None = setting(None, field_help(AttackConfig, "rate"))
    attack_seed: int = setting(_ATTACK.seed, field_help(AttackConfig, "seed"), check=seed_range())
    attack_model: str = setting(_ATTACK.attack_model, field_help(AttackConfig, "attack_model"))
    quality_models: list[str] = setting(factory=lambda: ["gemma3-270m", "smollm2-135m"],
                                        help="Perplexity is measured with the first of these that is not the "
                                             "generating model.")
    posthoc: bool = setting(True, "Also score the samples with the study's [[detectors]].")

    def __post_init__(self) -> None:
        check_settings(self)
        for scheme in self.schemes:
            self.watermark_config(scheme)
        self.decoding_config()
        try:
            self.attack_config()
        except SettingError as e:
            raise SettingError({"seed": "attack_seed"}.get(e.field, e.field), e.problem) from None

    def watermark_config(self, scheme: str) -> WatermarkConfig:
        return WatermarkConfig(scheme=scheme, **{f: getattr(self, f) for f in (
            "key", "gamma", "delta", "context_width", "seeding_scheme", "ngram_len", "depth")})

    def decoding_config(self) -> Decoding:
        try:
            return Decoding(self.decoding)
        except SettingError as e:
            raise SettingError("decoding", e.problem) from None

    def attack_config(self) -> AttackConfig:
        return AttackConfig(attacks=tuple(self.attacks), rate=self.rate, seed=self.attack_seed,
                            attack_model=self.attack_model)

    def generation_config(self, model: str, scheme: str | None, prompts: str) -> GenerationConfig:
        return GenerationConfig(model=model, decoding=self.decoding_config(), prompts=prompts, n=self.n,
                                max_tokens=self.max_tokens, prompt_tokens=self.prompt_tokens,
                                batch_size=self.batch_size, seed=self.seed, dtype=self.dtype,
                                watermark=self.watermark_config(scheme) if scheme else None)

    def quality_model(self, generator: str) -> str:
        return next((m for m in self.quality_models if m != generator), self.quality_models[0])


_CONTROL = ControlConfig()
_BLOOM = BloomBuildConfig()



@dataclass(kw_only=True)
class MemorizationSection(Section):
    """[memorization]: the filter's settings are `BloomBuildConfig`'s (overlap/bloom_build.py),
    the control_* keys are `ControlConfig`'s (reports/memorization/control.py), by default."""
    reference: list[str] | None = setting(None, "Reference (training) corpora; default: a share of the human corpus.")
    reference_fraction: float = setting(0.5, "Share of human documents used as the reference corpus.",
                                        check=fraction())
    n: int = setting(_BLOOM.n, field_help(BloomBuildConfig, "n"), check=at_least(1))
    fpr: float = setting(_BLOOM.fpr, field_help(BloomBuildConfig, "fpr"), check=fraction())
    # the samples checked for copying: shorter than `ovid generate`'s defaults, like [generate]'s
    prompt_tokens: int = setting(16, "Prompt length of the control's samples, in tokens.", check=at_least(1))
    max_tokens: int = setting(64, "New tokens of the control's samples.", check=at_least(1))
    batch_size: int = setting(8, "Control samples generated together.", check=at_least(1))
    control: bool = setting(True, "Fine-tune a model on reference texts as a positive control.")
    control_model: str = setting(_CONTROL.model, field_help(ControlConfig, "model"))
    control_texts: int = setting(8, "Reference texts it memorises.", check=at_least(1))
    control_steps: int = setting(_CONTROL.steps, field_help(ControlConfig, "steps"))
    control_lr: float = setting(_CONTROL.lr, field_help(ControlConfig, "lr"))
    control_tokens: int = setting(_CONTROL.max_tokens, field_help(ControlConfig, "max_tokens"))
    control_batch_size: int = setting(_CONTROL.batch_size, field_help(ControlConfig, "batch_size"))

    def __post_init__(self) -> None:
        check_settings(self)
        try:
            self.control_config(seed=0)
        except SettingError as e:  # name the study key, not ControlConfig's field
            key = {"model": "control_model", "max_tokens": "control_tokens"}.get(e.field, f"control_{e.field}")
            raise SettingError(key, e.problem) from None

    def control_config(self, seed: int) -> ControlConfig:
        return ControlConfig(model=self.control_model, steps=self.control_steps, lr=self.control_lr,
                             max_tokens=self.control_tokens, batch_size=self.control_batch_size, seed=seed)


@dataclass(kw_only=True)
class StudyConfig:
    study: StudySection
    human: HumanSection
    generate: GenerateSection | None
    machine: list[MachineSection]
    detectors: list[DetectorSection]
    cross_size: CrossSizeSection | None
    memorization: MemorizationSection | None
    robustness: RobustnessSection | None
    watermark: WatermarkSection | None
    source: Path  # the TOML file
    raw: dict  # the parsed TOML, for study.json


SECTIONS = ("study", "human", "generate", "machine", "detectors", "cross_size", "memorization", "robustness",
            "watermark")


def _build(cls, data: Any, where: str, list_keys: tuple[str, ...] = ()):
    """A section's table as its dataclass, after its own checks (`check_section`); errors name the key."""
    if not isinstance(data, dict):
        raise OvidError(f"{where} must be a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            raise OvidError(f"{where}: unknown key {key!r} ({did_you_mean(key, names, n=1)})")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise OvidError(f"{where}: missing required key {f.name!r}")
            continue
        value = data[f.name]
        if f.name in list_keys and isinstance(value, str):
            value = [value]
        if not type_ok(value, hints[f.name]):
            raise OvidError(f"{where}.{f.name} must be {type_name(hints[f.name])}, "
                            f"got {type(value).__name__} {value!r}")
        kwargs[f.name] = value
    try:
        section = cls(**kwargs)
    except SettingError as e:
        raise OvidError(f"{where}.{e.field} {e.problem}") from None
    section.check_section(where)
    return section


def _resolve_corpus(value: str, src: Path, where: str) -> str:
    """A corpus named in the study: built-in and hub names as they are, paths relative to the file."""
    if value.startswith(("ovid:", "hf:")):
        return value
    path = (src.parent / value).resolve() if not Path(value).is_absolute() else Path(value)
    if not path.exists():
        raise OvidError(f"{where}: no such corpus {value!r} (looked at {path})")
    return str(path)


def load_study(path: str | Path) -> StudyConfig:
    """Parse and validate a study file; every error names the file (once, here) and the key at fault."""
    src = Path(path)
    if not src.is_file():
        raise OvidError(f"{src}: no such study file")
    raw = _read_toml(src)
    try:
        return _parse(raw, src)
    except OvidError as e:
        raise OvidError(f"{src}: {e}") from None


def _read_toml(src: Path) -> dict:
    try:
        return tomllib.loads(read_text(src))
    except tomllib.TOMLDecodeError as e:
        raise OvidError(f"{src}: invalid TOML ({e})") from None
    except RecursionError:
        raise OvidError(f"{src}: invalid TOML (nested too deep)") from None
    except ValueError as e:  # an integer of 4,300+ digits
        raise OvidError(f"{src}: invalid TOML ({str(e)[:120]})") from None


def _parse(raw: dict, src: Path) -> StudyConfig:
    for key in raw:
        if key not in SECTIONS:
            raise OvidError(f"unknown section [{key}] ({did_you_mean(key, sorted(SECTIONS), 1, '[{}]'.format)})")
    human = _build(HumanSection, raw.get("human", {}), "[human]", ("corpus",))
    human.corpus = [_resolve_corpus(c, src, "[human].corpus") for c in human.corpus]
    generate = _build(GenerateSection, raw["generate"], "[generate]") if "generate" in raw else None
    machine = _machine_sections(raw.get("machine", []), src)
    if generate is None and not machine:
        raise OvidError("no machine text: add a [generate] section or [[machine]] corpora")
    detectors = _detector_sections(raw.get("detectors", []))
    cross = _build(CrossSizeSection, raw["cross_size"], "[cross_size]") if "cross_size" in raw else None
    if cross is not None:
        cross.check_detectors(detectors)
    memo = _build(MemorizationSection, raw["memorization"], "[memorization]", ("reference",)) \
        if "memorization" in raw else None
    if memo is not None and memo.reference:
        memo.reference = [_resolve_corpus(c, src, "[memorization].reference") for c in memo.reference]
    return StudyConfig(study=_build(StudySection, raw.get("study", {}), "[study]"), human=human, generate=generate,
                       machine=machine, detectors=detectors, cross_size=cross, memorization=memo,
                       robustness=_attack_section(RobustnessSection, raw, "robustness", ("attacks",)),
                       watermark=_attack_section(WatermarkSection, raw, "watermark",
                                                 ("attacks", "models", "schemes", "quality_models")),
                       source=src, raw=raw)


def _machine_sections(tables: Any, src: Path) -> list[MachineSection]:
    if not isinstance(tables, list):
        raise OvidError("[[machine]] must be an array of tables")
    machine = [_build(MachineSection, m, f"[[machine]][{i}]") for i, m in enumerate(tables)]
    for i, m in enumerate(machine):
        m.corpus = _resolve_corpus(m.corpus, src, f"[[machine]][{i}].corpus")
    return machine


def _attack_section(cls, raw: dict, name: str, list_keys: tuple[str, ...]):
    """[robustness] or [watermark]; an unknown attack name (from AttackConfig) is named by its key."""
    if name not in raw:
        return None
    try:
        return _build(cls, raw[name], f"[{name}]", list_keys)
    except OvidError as e:
        raise OvidError(str(e) if str(e).startswith(f"[{name}]") else f"[{name}].attacks: {e}") from None


def _detector_sections(tables: Any) -> list[DetectorSection]:
    if not isinstance(tables, list):
        raise OvidError(f"[[detectors]] must be an array of tables, got {type(tables).__name__}")
    detectors = [DetectorSection.from_table(d, f"[[detectors]][{i}]") for i, d in enumerate(tables)]
    if not detectors:
        raise OvidError("no [[detectors]]: name at least one")
    return detectors
