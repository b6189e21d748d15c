"""`ovid bloom`: build the n-gram overlap index of a training corpus."""
from __future__ import annotations

from typing import List

from ovid.overlap.bloom_build import BloomBuildConfig
from ovid.settings import field_help

from .options import argument, field_options, option, with_options

OPTIONS = [argument("sources", List[str], field_help(BloomBuildConfig, "sources")),
           *field_options(BloomBuildConfig, skip=("sources",)),
           option("progress", bool, True, "Show progress lines.")]


def bloom(*, progress: bool, **settings) -> None:
    """Build the n-gram Bloom filter of a training corpus: parallel, streaming, resumable."""
    from ovid.overlap.bloom_build import build_bloom

    build_bloom(BloomBuildConfig(**settings), progress=progress)


command = with_options(OPTIONS, bloom)
