"""`ovid bloom`: build the n-gram overlap index of a training corpus."""
from __future__ import annotations

from typing import List

from ovid.overlap.bloom_build import BloomBuildConfig
from ovid.settings import field_help

from .options import alias, argument, field_options, option, with_options

SETTINGS = field_options(BloomBuildConfig, skip=("sources",), spell={"n": "--ngram-len"})
OPTIONS = [argument("sources", List[str], field_help(BloomBuildConfig, "sources")),
           *SETTINGS,
           option("progress", bool, True, "Show progress lines."),
           alias("--n", next(p for p in SETTINGS if p.name == "n"))]  # --n is the sample count in generate


def bloom(*, progress: bool, **settings) -> None:
    """Build the n-gram Bloom filter of a training corpus: parallel, streaming, resumable."""
    from ovid.overlap.bloom_build import build_bloom

    build_bloom(BloomBuildConfig(**settings), progress=progress)


command = with_options(OPTIONS, bloom)
