"""Generation settings as dataclasses: `ovid generate` builds its options from these fields and a
study's [generate] section shares `SampleSettings` and `SamplingParams`."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from ovid.settings import (
    MAX_NEW_TOKENS,
    MAX_SAMPLES,
    SettingError,
    at_least,
    check_settings,
    fraction,
    one_of,
    positive,
    seed_range,
    setting,
    training_dtype_check,
)
from ovid.watermark.config import WatermarkConfig

Strategy = Literal["pure", "top-k", "top-p", "temperature"]
STRATEGIES: tuple[str, ...] = ("pure", "top-k", "top-p", "temperature")


@dataclass(frozen=True, kw_only=True)
class SamplingParams:
    """The knobs of the decoding strategies; each strategy reads the ones it needs."""
    top_k: int = setting(40, "k for top-k sampling (40: the gpt-2-output-dataset's -k40 sets).", check=at_least(1))
    top_p: float = setting(0.96, "p for nucleus (top-p) sampling (0.96: the GPT-2 release's nucleus samples).",
                           check=fraction(closed_high=True))
    # None means 1.0, except for "temperature" where it means 0.7 (DetectGPT's and
    # Fast-DetectGPT's setting); it applies to every strategy
    temperature: float | None = setting(None, "Softmax temperature (default 1.0; 0.7 for the temperature strategy).",
                                        check=positive(optional=True))

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class Decoding(SamplingParams):
    """A decoding strategy with its parameters: Decoding("top-k", top_k=40)."""
    strategy: Strategy = setting("pure", "pure (ancestral sampling from the full distribution), "
                                 "top-k, top-p or temperature.", check=one_of(*STRATEGIES))

    @property
    def effective_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.7 if self.strategy == "temperature" else 1.0

    def generate_kwargs(self) -> dict:
        """Keyword arguments for transformers' `generate` (top_k=0 switches top-k off)."""
        return {"do_sample": True,
                "top_k": self.top_k if self.strategy == "top-k" else 0,
                "top_p": self.top_p if self.strategy == "top-p" else 1.0,
                "temperature": self.effective_temperature}

    @property
    def tag(self) -> str:
        """Short name used in corpus file names: pure, k40, p0.96, t0.7 (gpt-2-output style)."""
        base = {"pure": "pure", "top-k": f"k{self.top_k}", "top-p": f"p{self.top_p:g}",
                "temperature": f"t{self.effective_temperature:g}"}[self.strategy]
        t = self.effective_temperature
        return base if self.strategy == "temperature" or t == 1.0 else f"{base}-t{t:g}"

    def describe(self) -> dict:
        return {"strategy": self.strategy,
                "top_k": self.top_k if self.strategy == "top-k" else None,
                "top_p": self.top_p if self.strategy == "top-p" else None,
                "temperature": self.effective_temperature}


@dataclass(frozen=True, kw_only=True)
class SampleSettings:
    """How many samples, how long, how batched and seeded: shared by `GenerationConfig` and a
    study's [generate] section."""
    n: int | None = setting(None, "Samples to write (default: one per prompt; required when unconditional).",
                            flags=("-n",), check=at_least(1, optional=True, high=MAX_SAMPLES))
    max_tokens: int = setting(256, "New tokens per sample (the gpt-2-output-dataset used 1024).",
                              check=at_least(1, high=MAX_NEW_TOKENS))
    batch_size: int = setting(16, "Samples generated together (left-padded, KV cache).", check=at_least(1))
    seed: int = setting(0, "Random seed; the same seed and batch size give the same texts.", check=seed_range())
    prompt_tokens: int = setting(30, "Prompt length in tokens (DetectGPT and Fast-DetectGPT use 30).",
                                 check=at_least(1))
    dtype: str = setting("auto", "auto (bfloat16 where the CPU/GPU runs it natively, else float32), "
                         "float32 or bfloat16.", check=training_dtype_check)

    def __post_init__(self) -> None:
        check_settings(self)


DEFAULT_INSTRUCTION = "Write a news article that begins: {prompt}"


@dataclass(frozen=True, kw_only=True)
class GenerationConfig(SampleSettings):
    """One corpus: which model, which decoding, prompted by which texts."""
    model: str = setting("smollm2-135m", "Registry name, Hub id, local folder or .gguf path.")
    decoding: Decoding = setting(factory=Decoding)
    prompts: str | None = setting(None, "Corpus whose texts' first tokens prompt the model (any format "
                                  "ovid reads, or ovid:human-demo); default: unconditional samples.")
    chat: bool = setting(False, "Prompt an instruct model through its chat template with an instruction built "
                         "from each prompt text; the sample is the reply alone (needs --prompts).")
    instruction: str = setting(DEFAULT_INSTRUCTION, "The instruction of --chat; {prompt} stands for the first "
                               "--prompt-tokens tokens of the prompt text.")
    watermark: WatermarkConfig | None = setting(None, "Mark the samples with this watermark (default: none).")
    record_key: bool = setting(False, "Write the watermark's secret key into the corpus's .meta.json (by "
                               "default only the scheme and its parameters go there).")

    def __post_init__(self) -> None:
        check_settings(self)
        if self.n is None and self.prompts is None:
            raise SettingError("n", "is required for unconditional samples (no prompts given)")
        if self.chat and self.prompts is None:
            raise SettingError("chat", "needs prompts: the instruction is built from each prompt text")
        if self.record_key and self.watermark is None:
            raise SettingError("record_key", "needs a watermark: there is no key to record")
        if "{prompt}" not in self.instruction:
            raise SettingError("instruction", f"must contain {{prompt}} (where the prompt text goes), "
                               f"got {self.instruction!r}")

    def chat_instruction(self, prompt: str) -> str:
        return self.instruction.replace("{prompt}", prompt)

    def identity(self) -> dict:
        """The settings a resumed run must share with the run that started the file."""
        d = asdict(self)
        d["decoding"] = self.decoding.describe()
        d.pop("n")  # a resumed run may ask for more samples
        d.pop("record_key")
        # the key never goes here (a resumed run's samples are tested against it instead)
        d["watermark"] = self.watermark.describe() if self.watermark else None
        if self.watermark is None:  # as corpora were described before watermarks existed
            d.pop("watermark")
        if not self.chat:  # as corpora were described before chat existed: they still resume
            d.pop("chat")
            d.pop("instruction")
        return d
