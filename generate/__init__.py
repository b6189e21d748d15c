"""Sample corpora from causal LMs (GPT-2 at every size, or any model in the registry).
Names load on first use, so importing this package loads neither torch nor transformers."""
from ovid.lazy import lazy_exports

_EXPORTS = {"Decoding": "config", "GenerationConfig": "config", "SampleSettings": "config",
            "SamplingParams": "config", "sample_corpus": "corpus_job", "sample_grid": "grid",
            "corpus_name": "grid", "expand_models": "grid", "generate_dataset": "ray_generation"}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
