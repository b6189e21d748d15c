"""A study is a small TOML file, parsed into dataclasses and validated with errors that name the
key at fault. Paths are relative to the TOML file's folder.

    [study]          name, seed, target_fpr, test_fraction, length_buckets, bootstrap, examples
    [human]          corpus = "ovid:human-demo" (or a list); records labelled machine are dropped
    [generate]       models, decodings, top_k, top_p, temperature, n, prompted, max_tokens, prompt_tokens,
                     batch_size, dtype, seed  (samples prompted with the human texts)
    [[machine]]      corpus, name, model, params, decoding   (existing machine corpora)
    [[detectors]]    name = "fast-detectgpt", plus that detector's parameters
    [cross_size]     detector = "tfidf"   (a trained detector; fitted per corpus, tested on all)
    [memorization]   reference, reference_fraction, n, fpr, prompt_tokens, max_tokens, control,
                     control_model, control_texts, control_steps, control_lr, control_tokens,
                     control_batch_size
"""
from __future__ import annotations

import dataclasses
import difflib
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import OvidError


@dataclass
class StudySection:
    name: str = "study"
    seed: int = 0
    target_fpr: float = 0.01  # FPR on held-out human text at which TPR is reported
    test_fraction: float = 0.5  # share of source documents held out for testing
    length_buckets: list[int] = field(default_factory=lambda: [16, 32, 64, 128])  # tokens
    bootstrap: int = 1000  # resamples for the 95% intervals
    examples: int = 2  # GLTR-coloured examples per class


@dataclass
class HumanSection:
    corpus: list[str] = field(default_factory=lambda: ["ovid:human-demo"])


@dataclass
class GenerateSection:
    models: list[str] = field(default_factory=lambda: ["smollm2-135m"])
    decodings: list[str] = field(default_factory=lambda: ["pure", "top-k"])
    top_k: int = 40
    top_p: float = 0.96
    temperature: float | None = None
    n: int | None = None  # samples per corpus; default one per human text
    prompted: bool = True  # False: unconditional samples, as the GPT-2 output dataset (needs n)
    max_tokens: int = 96
    prompt_tokens: int = 16
    batch_size: int = 16
    dtype: str = "auto"  # auto: bfloat16 where native (AVX512-BF16/AMX CPU, GPU), else float32
    seed: int = 0


@dataclass
class MachineSection:
    corpus: str
    name: str | None = None  # default: the file's name
    model: str | None = None
    params: int | None = None  # parameter count: the size axis
    decoding: str = "unknown"


@dataclass
class DetectorSection:
    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        model = self.params.get("model") or self.params.get("encoder")
        models = self.params.get("models")
        if models:
            model = "+".join(models)
        return f"{self.name} ({Path(str(model)).name})" if model else self.name


@dataclass
class CrossSizeSection:
    detector: str = "tfidf"


@dataclass
class MemorizationSection:
    reference: list[str] | None = None  # default: a share of the human corpus
    reference_fraction: float = 0.5  # share of human documents used as the reference corpus
    n: int = 8
    fpr: float = 1e-3  # Bloom filter false-positive bound
    prompt_tokens: int = 16
    max_tokens: int = 64
    control: bool = True  # fine-tune a model on reference texts as a positive control
    control_model: str = "smollm2-135m"
    control_texts: int = 8
    control_steps: int = 30
    control_lr: float = 1e-4
    control_tokens: int = 128
    control_batch_size: int = 2


@dataclass
class StudyConfig:
    study: StudySection
    human: HumanSection
    generate: GenerateSection | None
    machine: list[MachineSection]
    detectors: list[DetectorSection]
    cross_size: CrossSizeSection | None
    memorization: MemorizationSection | None
    source: Path  # the TOML file
    raw: dict  # the parsed TOML, for study.json


def _type_ok(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin is typing.Union or origin is getattr(__import__("types"), "UnionType", None):
        return any(_type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin is list:
        (inner,) = typing.get_args(tp)
        return isinstance(value, list) and all(_type_ok(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _type_name(tp: Any) -> str:
    return str(tp).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _build(cls, data: Any, where: str, src: Path, list_keys: tuple[str, ...] = ()):
    if not isinstance(data, dict):
        raise OvidError(f"{src}: {where} must be a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(names)})"
            raise OvidError(f"{src}: {where}: unknown key {key!r}{hint}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise OvidError(f"{src}: {where}: missing required key {f.name!r}")
            continue
        value = data[f.name]
        if f.name in list_keys and isinstance(value, str):
            value = [value]
        if not _type_ok(value, hints[f.name]):
            raise OvidError(f"{src}: {where}.{f.name} must be {_type_name(hints[f.name])}, "
                            f"got {type(value).__name__} {value!r}")
        kwargs[f.name] = value
    return cls(**kwargs)


def _resolve_corpus(value: str, src: Path, where: str) -> str:
    if value.startswith(("ovid:", "hf:")):
        return value
    path = (src.parent / value).resolve() if not Path(value).is_absolute() else Path(value)
    if not path.exists():
        raise OvidError(f"{src}: {where}: no such corpus {value!r} (looked at {path})")
    return str(path)


def load_study(path: str | Path) -> StudyConfig:
    """Parse and validate a study file; every error names the file and the key at fault."""
    from ovid.detect.registry import detector_class

    src = Path(path)
    if not src.is_file():
        raise OvidError(f"{src}: no such study file")
    try:
        raw = tomllib.loads(src.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise OvidError(f"{src}: invalid TOML ({e})") from None
    known = {"study", "human", "generate", "machine", "detectors", "cross_size", "memorization"}
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            raise OvidError(f"{src}: unknown section [{key}]" + (f" (did you mean [{close[0]}]?)" if close else ""))
    study = _build(StudySection, raw.get("study", {}), "[study]", src)
    human = _build(HumanSection, raw.get("human", {}), "[human]", src, ("corpus",))
    human.corpus = [_resolve_corpus(c, src, "[human].corpus") for c in human.corpus]
    generate = _build(GenerateSection, raw["generate"], "[generate]", src) if "generate" in raw else None
    if generate is not None and not generate.prompted and generate.n is None:
        raise OvidError(f"{src}: [generate].n is required when prompted = false")
    if generate is not None:
        from ovid.generate import Decoding
        for i, d in enumerate(generate.decodings):
            try:
                Decoding(d, generate.top_k, generate.top_p, generate.temperature)
            except ValueError as e:
                raise OvidError(f"{src}: [generate].decodings[{i}]: {e}") from None
    machine_raw = raw.get("machine", [])
    if not isinstance(machine_raw, list):
        raise OvidError(f"{src}: [[machine]] must be an array of tables")
    machine = [_build(MachineSection, m, f"[[machine]][{i}]", src) for i, m in enumerate(machine_raw)]
    for i, m in enumerate(machine):
        m.corpus = _resolve_corpus(m.corpus, src, f"[[machine]][{i}].corpus")
    if generate is None and not machine:
        raise OvidError(f"{src}: no machine text: add a [generate] section or [[machine]] corpora")
    detectors = []
    for i, d in enumerate(raw.get("detectors", [])):
        where = f"[[detectors]][{i}]"
        if not isinstance(d, dict) or "name" not in d:
            raise OvidError(f"{src}: {where}: missing required key 'name'")
        name = d["name"]
        try:
            cls = detector_class(name)
        except OvidError as e:
            raise OvidError(f"{src}: {where}.name: {e}") from None
        params = {k: v for k, v in d.items() if k != "name"}
        for k in params:
            if k not in cls.param_names():
                raise OvidError(f"{src}: {where}: detector {name!r} takes no parameter {k!r} "
                                f"(it takes: {', '.join(cls.param_names())})")
        detectors.append(DetectorSection(name, params))
    if not detectors:
        raise OvidError(f"{src}: no [[detectors]]: name at least one")
    cross = _build(CrossSizeSection, raw["cross_size"], "[cross_size]", src) if "cross_size" in raw else None
    if cross is not None and cross.detector not in {d.name for d in detectors}:
        raise OvidError(f"{src}: [cross_size].detector {cross.detector!r} is not one of the [[detectors]]")
    if cross is not None and not detector_class(cross.detector).trained:
        raise OvidError(f"{src}: [cross_size].detector {cross.detector!r} is zero-shot; the transfer "
                        f"matrix needs a trained detector (tfidf, gltr, roberta, ensemble)")
    memo = _build(MemorizationSection, raw["memorization"], "[memorization]", src, ("reference",)) \
        if "memorization" in raw else None
    if memo is not None and memo.reference:
        memo.reference = [_resolve_corpus(c, src, "[memorization].reference") for c in memo.reference]
    return StudyConfig(study, human, generate, machine, detectors, cross, memo, src, raw)
