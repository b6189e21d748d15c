"""Generation settings as dataclasses; `ovid generate` options map one-to-one onto these fields."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Strategy = Literal["pure", "top-k", "top-p", "temperature"]
STRATEGIES: tuple[str, ...] = ("pure", "top-k", "top-p", "temperature")


@dataclass(frozen=True)
class Decoding:
    strategy: Strategy = "pure"  # pure = ancestral sampling from the full distribution
    top_k: int = 40  # used by top-k; 40 is the gpt-2-output-dataset's "-k40" setting
    top_p: float = 0.96  # used by top-p; 0.96 as in the GPT-2 release's nucleus samples
    # Applies to every strategy; None means 1.0, except for "temperature" where it means 0.7
    # (the setting DetectGPT and Fast-DetectGPT report).
    temperature: float | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown decoding {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.temperature is not None and self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")

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


@dataclass(frozen=True)
class GenerationConfig:
    model: str = "smollm2-135m"  # registry name, Hub id, local folder or .gguf path
    decoding: Decoding = field(default_factory=Decoding)
    n: int | None = None  # samples to write; None = one per prompt (required when unconditional)
    max_tokens: int = 256  # new tokens per sample (the gpt-2-output-dataset used 1024)
    batch_size: int = 16  # samples generated together (left-padded, KV cache)
    seed: int = 0  # with the same batch size, the same seed gives the same texts
    prompts: str | None = None  # corpus whose texts' first tokens prompt the model; None = unconditional
    prompt_tokens: int = 30  # prompt length in tokens (DetectGPT / Fast-DetectGPT use 30)
    dtype: str = "auto"  # auto (bfloat16 where native: AVX512-BF16/AMX CPU, GPU; else float32), float32, bfloat16

    def __post_init__(self) -> None:
        if self.n is not None and self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.n is None and self.prompts is None:
            raise ValueError("n is required for unconditional samples (no prompts given)")
        for name in ("max_tokens", "batch_size", "prompt_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    def identity(self) -> dict:
        """The settings a resumed run must share with the run that started the file."""
        d = asdict(self)
        d["decoding"] = self.decoding.describe()
        d.pop("n")  # a resumed run may ask for more samples
        return d
