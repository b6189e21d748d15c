"""A grid of corpora in one call: every model (a family expands to its members) x every
decoding, one corpus each."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from ovid.corpus import meta_path
from ovid.models import REGISTRY, family_members
from ovid.paths import check_output_dir
from ovid.ray_tasks import RaySettings

from .config import Decoding, GenerationConfig
from .corpus_job import sample_corpus


def expand_models(names: Sequence[str]) -> list[str]:
    """Family names (gpt2, offline) expand to their members, smallest first."""
    families = {s.family for s in REGISTRY.values() if s.family}
    out: list[str] = []
    for name in names:
        out.extend(family_members(name) if name in families else [name])
    return out


def corpus_name(model: str, decoding: Decoding, watermark: str | None = None) -> str:
    """Predictable file name: `gpt2-xl-k40.jsonl`, `smollm2-135m-pure.jsonl`, and with a
    watermark `smollm2-135m-pure-kgw.jsonl`."""
    safe = model.replace("/", "_").replace(".gguf", "")
    return f"{Path(safe).name}-{decoding.tag}{'-' + watermark if watermark else ''}.jsonl"


def is_corpus_folder(folder: Path) -> bool:
    """Every file is a corpus ovid generated (NAME.jsonl with its NAME.meta.json) or such a meta."""
    names = {p.name for p in folder.iterdir()}
    return all((n.endswith(".jsonl") and meta_path(folder / n).name in names) or n.endswith(".meta.json")
               for n in names)


def sample_grid(base: GenerationConfig, models: Sequence[str], decodings: Sequence[Decoding],
                 out_dir: str | Path, progress: bool = True, ray: RaySettings = RaySettings()) -> list[tuple[Path, dict]]:
    """One corpus per (model, decoding) in `out_dir`; each is resumable like `sample_corpus`."""
    check_output_dir(out_dir, inputs=[base.prompts] if base.prompts else [], ours=is_corpus_folder,
                     option="--out-dir", what="of corpora made by ovid generate")
    results = []
    for model in expand_models(models):
        for dec in decodings:
            cfg = replace(base, model=model, decoding=dec)
            name = corpus_name(model, dec, base.watermark.scheme if base.watermark else None)
            results.append(sample_corpus(cfg, Path(out_dir) / name, progress, ray))
    return results
