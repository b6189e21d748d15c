"""The configurations that detectors share, kept free of torch so that the CLI can build its
options from them without loading a model stack: the scoring engine's (`EngineConfig`) and the
fine-tuned classifier's training loop (`TrainConfig`). Detectors take these fields as keyword
parameters (the scikit-learn contract) with these defaults."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ovid.normalize import DEFAULT_RECIPE  # noqa: F401  (re-exported for the detectors' signatures)
from ovid.settings import (
    at_least,
    check_settings,
    dtype_check,
    fraction,
    one_of,
    positive,
    seed_range,
    setting,
    training_dtype_check,
)


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    model: str = setting("smollm2-135m", "Scoring model (Binoculars' performer): registry name, Hub id, "
                         "folder or .gguf.", check=lambda m: None if isinstance(m, str) and m else "must name a model")
    reference_model: str | None = setting(None, "Reference (sampling/observer) model for Fast-DetectGPT and "
                                          "Binoculars; default: the scoring model itself.")
    dtype: str = setting("auto", "Weights: auto (bfloat16 where the CPU/GPU runs it natively, else float32), "
                         "float32, bfloat16 or int8 (CPU: the decoder body quantized, used only where the model's "
                         "statistics pass a check against float32); statistics are float32.", check=dtype_check)
    max_length: int | None = setting(None, "Scoring window in tokens, document token included "
                                     "(default: min(model's, 1024)).", check=at_least(3, optional=True))
    stride: int | None = setting(None, "New tokens scored per later window (default: all but an eighth of "
                                 "the window, kept as context).",
                                 check=at_least(1, optional=True))
    token_budget: int = setting(4096, "Padded tokens per forward batch.", check=at_least(1))
    cache_dir: str | None = setting(None, "Folder for cached token statistics (default: memory only).")
    pool_layers: tuple[int, ...] = setting((), "Hidden-state layers (0 = embeddings, -1 = the last, after the final "
                                           "norm) averaged over each text's scored tokens and returned with its "
                                           "statistics, from the same pass.",
                                           check=lambda v: None if isinstance(v, tuple) and all(
                                               isinstance(i, int) and not isinstance(i, bool) for i in v)
                                           else "must be a tuple of layer indices")
    # always, never, or auto = once one call has COMPILE_MIN_TOKENS tokens to score, fewer for a
    # larger vocabulary (the one-time compile costs ~10-30 s on 2 cores)
    compile: str = setting("auto", "torch.compile the decoder blocks and the statistics: auto, always or never.",
                           check=one_of("auto", "always", "never"))

    def __post_init__(self) -> None:
        check_settings(self)

    def key(self, window: int, stride: int) -> str:
        """What names the statistics in a cache: every field that changes them."""
        d = asdict(self)
        for k in ("cache_dir", "token_budget", "compile"):  # do not change the statistics
            d.pop(k)
        if not d["pool_layers"]:  # keys of engines without pooled layers stay as they were
            d.pop("pool_layers")
        d.update(max_length=window, stride=stride)
        return "|".join(f"{k}={v}" for k, v in sorted(d.items()))


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    max_length: int = setting(256, "Tokens per crop, special tokens included (OpenAI's detector: up to 512).",
                              check=at_least(4))
    min_length: int = setting(16, "Shortest random crop, so short texts are seen in training.", check=at_least(1))
    epochs: int = setting(3, "Training epochs.", check=at_least(1))
    batch_size: int = setting(16, "Texts per training step.", check=at_least(1))
    lr: float = setting(5e-5, "AdamW peak learning rate.", check=positive())
    weight_decay: float = setting(0.01, "AdamW weight decay.", check=at_least(0))
    warmup: float = setting(0.1, "Share of steps spent warming up linearly.", check=fraction(closed_low=True))
    patience: int = setting(2, "Validations without a better AUROC before early stopping.", check=at_least(1))
    eval_every: int = setting(0, "Steps between validations; 0 = once per epoch.", check=at_least(0))
    checkpoint_every: int = setting(50, "Steps between checkpoints (and at each validation).", check=at_least(1))
    dtype: str = setting("float32", "Compute dtype of training and scoring: float32, bfloat16 or auto (bf16 where "
                         "native); bf16 runs under autocast, the weights and optimizer stay float32.",
                         check=training_dtype_check)
    train_layers: int = setting(0, "Train only the top N transformer blocks and the head (the rest frozen, "
                                "so their backward pass is skipped); 0 = all.", check=at_least(0))
    seed: int = setting(0, "Random seed (data order, crops, splits).", check=seed_range())

    def __post_init__(self) -> None:
        check_settings(self)


CALIBRATIONS = ("platt", "isotonic")  # how scores become P(machine)
ENGINE = EngineConfig()  # the defaults, for detectors' signatures
TRAINING = TrainConfig()


@dataclass(frozen=True, kw_only=True)
class CheckSettings:
    """How a text is judged for a person (ovid.check, `ovid score -`, the service)."""
    max_tokens: int = setting(1024, "Tokens scored per text: a longer text is scored on its first max_tokens "
                              "tokens and reported as truncated.", check=at_least(2))
    short_tokens: int = setting(50, "Texts with fewer scored tokens are flagged too short to judge.",
                                check=at_least(0))
    language: str = setting("en", "The language the detectors were made for: texts in another are flagged "
                            "(ISO 639-1 code; empty: no check).")

    def __post_init__(self) -> None:
        check_settings(self)
