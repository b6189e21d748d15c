"""The data the shipped default detector is trained and measured on, defined once.

The 15 Fast-DetectGPT files (xsum, writing, squad x 5 generators), the first PAIRS pairs of each
(the same articles across the files of a domain), split by article (ovid/splits.py: test
fraction 0.5, seed 0): the training half trains, the held-out half only measures. Each record
carries its domain and generator."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ovid.corpus import read_corpus
from ovid.splits import split_by_document

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "fastdetectgpt"
DOMAINS = ("xsum", "writing", "squad")
GENERATORS = ("gpt2-xl", "opt-2.7b", "gpt-neo-2.7B", "gpt-j-6B", "gpt-neox-20b")
PAIRS = 200
SPLIT_SEED = 0
MODELS = ("smollm2-135m", "gemma3-270m")
STATS_CACHE = HERE / ".cache" / "stats"


@dataclass(frozen=True)
class Text:
    text: str
    label: int
    domain: str
    generator: str  # the file's generator (a human text is listed under each file it pairs with)


def _pairs(domain: str, generator: str, pairs: int):
    recs = list(read_corpus(DATA / f"{domain}_{generator}.raw_data.json"))
    half = min(pairs, len(recs) // 2)  # human originals, then their continuations in the same order
    return recs[:half], recs[len(recs) // 2:len(recs) // 2 + half]


def file_texts(domain: str, generator: str, pairs: int = PAIRS) -> list[Text]:
    """The file's machine texts with their articles' human texts. Each file holds its own copy
    of the domain's human articles, truncated a little differently; one copy (the GPT-2-XL
    file's) stands for all, so every file of a domain is measured against the same humans."""
    human, _ = _pairs(domain, GENERATORS[0], pairs)
    _, machine = _pairs(domain, generator, pairs)
    return [Text(r.text, r.label, domain, generator) for r in human + machine]


def split(texts: list[Text]) -> tuple[list[Text], list[Text]]:
    return split_by_document(texts, [t.text for t in texts], 0.5, SPLIT_SEED)


def all_files(pairs: int = PAIRS) -> dict[tuple[str, str], tuple[list[Text], list[Text]]]:
    """(domain, generator) -> (training half, held-out half)."""
    return {(d, g): split(file_texts(d, g, pairs)) for d in DOMAINS for g in GENERATORS}


if __name__ == "__main__":  # precompute both scoring models' statistics into the cache
    import argparse
    import sys
    import time

    from ovid.detect.engine import EngineConfig, get_engine
    from ovid.normalize import DEFAULT_RECIPE, RECIPES, normalize_texts

    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=PAIRS)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--normalize", default=DEFAULT_RECIPE, choices=RECIPES)
    args = ap.parse_args()
    # the statistics of the texts as the detector sees them: through its normalisation
    texts = sorted(set(normalize_texts([t.text for tr, te in all_files(args.pairs).values() for t in tr + te],
                                       args.normalize)))
    for m in args.models.split(","):
        t0 = time.perf_counter()
        eng = get_engine(EngineConfig(model=m, dtype="bfloat16", cache_dir=str(STATS_CACHE), compile="always"))
        n = 0
        for a in range(0, len(texts), 300):  # chunks: the disk cache fills as it goes (resumable)
            n += sum(len(s) for s in eng.token_stats(texts[a:a + 300], progress=True))
            eng.memory.clear()
        print(f"{m}: {len(texts)} texts, {n} tokens, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
