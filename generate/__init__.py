"""Sample corpora from causal LMs (GPT-2 at every size, or any model in the registry)."""
from .config import Decoding, GenerationConfig
from .corpus_job import sample_corpus
from .study import corpus_name, sample_study

__all__ = ["Decoding", "GenerationConfig", "sample_corpus", "sample_study", "corpus_name"]
