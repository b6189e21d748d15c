"""The memorization study of a study file's [memorization] section: the reference corpus's
n-gram filter, the groups of samples checked against it (each generated corpus, the positive
control before and after memorising, held-out human text), and its three tables."""
from __future__ import annotations

from pathlib import Path

from ovid.corpus import Record, append_jsonl, read_corpus
from ovid.generate import Decoding, GenerationConfig, sample_corpus
from ovid.hashing import digest
from ovid.log import logger
from ovid.models import saved_model_info
from ovid.overlap.bloom import FORMAT as BLOOM_FORMAT
from ovid.overlap.bloom import BloomFilter
from ovid.overlap.measure import build_filter, continuation_words, overlap_summary, overlap_table, worst_spans
from ovid.overlap.ngrams import count_ngrams, words
from ovid.splits import split_by_document

from ..study.corpora import shown_path
from .control import memorise

say = logger("ovid report")


def reference_split(cfg, human: list[Record]) -> tuple[list[Record], list[Record]]:
    """(reference, held-out human). Without a reference corpus, a share of the human documents
    (split by document, with a seed of its own) is the reference."""
    m = cfg.memorization
    if m.reference:
        ref = [r for src in m.reference for r in read_corpus(src)]
        return ref, human
    held, ref = split_by_document(human, [r.text for r in human], m.reference_fraction, cfg.study.seed + 1)
    return ref, held


def load_or_build_filter(ref_texts: list[str], path: Path, n: int, fpr: float) -> BloomFilter:
    key = digest([ref_texts, n, fpr, BLOOM_FORMAT])  # a new filter layout rebuilds old files
    marker = path.with_suffix(".key")
    if path.exists() and marker.exists() and marker.read_text() == key:
        return BloomFilter.load(path)
    bloom = build_filter(ref_texts, count_ngrams(ref_texts, n), fpr, n)
    bloom.save(path, n=n, fpr=fpr)
    marker.write_text(key)
    return bloom


def sample_groups(corpora, ref_ids: set[str]) -> dict[str, list[tuple[str, list[str]]]]:
    """Continuations of generated samples whose prompt is a reference text; unconditional
    samples (no prompt, as in the GPT-2 paper) count whole."""
    groups = {}
    for c in corpora:
        docs = [(r.id, continuation_words(r.extra["prompt"], r.extra["continuation"]))
                for r in c.records if r.extra.get("prompt_id") in ref_ids and "continuation" in r.extra]
        docs += [(r.id, words(r.text)) for r in c.records
                 if "prompt_id" not in r.extra and {"length", "ended"} <= r.extra.keys()]
        if docs:
            groups[c.name] = docs
    return groups


def control_groups(cfg, ref: list[Record], out: Path, progress: bool) -> dict[str, list[tuple[str, list[str]]]]:
    """The same model untouched and after memorising some reference texts, same prompts."""
    m = cfg.memorization
    texts = ref[:m.control_texts]
    folder = out / "memorization"
    model_dir = memorise([r.text for r in texts], folder / "control-model",
                         m.control_config(seed=cfg.study.seed), progress)
    losses = saved_model_info(model_dir)["losses"]
    say(f"control: {m.control_model} memorised {len(texts)} texts, loss {losses[0]:.2f} -> {losses[-1]:.2f}")
    prompts = folder / "control-prompts.jsonl"
    if not prompts.exists():
        append_jsonl(prompts, [{"id": r.id, "text": r.text, "label": 0} for r in texts])
    groups = {}
    for name, model in ((f"control: {m.control_model} untouched", m.control_model),
                        (f"control: {m.control_model} memorised", str(model_dir))):
        gen = GenerationConfig(model=model, decoding=Decoding("top-k"), max_tokens=m.max_tokens,
                               batch_size=m.batch_size, seed=cfg.study.seed, prompts=str(prompts),
                               prompt_tokens=m.prompt_tokens)
        slug = "memorised" if model == str(model_dir) else "untouched"
        path, _ = sample_corpus(gen, folder / f"control-{slug}.jsonl", progress)
        groups[name] = [(r.id, continuation_words(r.extra["prompt"], r.extra["continuation"]))
                        for r in read_corpus(path)]
    return groups


def memorization_tables(cfg, human: list[Record], corpora, out: Path, progress: bool):
    m = cfg.memorization
    ref, held = reference_split(cfg, human)
    ref_texts = [r.text for r in ref]
    bloom = load_or_build_filter(ref_texts, out / "memorization" / "reference.bloom", m.n, m.fpr)
    groups = sample_groups(corpora, {r.id for r in ref})
    if m.control:
        groups.update(control_groups(cfg, ref, out, progress))
    groups["human (held out)"] = [(r.id, words(r.text)) for r in held]
    docs, _ = overlap_table(groups, bloom, m.n)
    summary = overlap_summary(docs)
    texts = {(g, i): ws for g, d in groups.items() for i, ws in d}
    spans = worst_spans(docs, texts, ref_texts, per_group=3, n=m.n)
    shown = [shown_path(src, out, cfg.source) for src in m.reference or []]
    info = {"n": m.n, "fpr": m.fpr, "reference": shown or "human share",
            "reference_docs": len(ref), "held_out_docs": len(held), "filter_bits": bloom.m,
            "filter_k": bloom.k, "filter_estimated_fpr": bloom.estimated_fpr()}
    return docs, summary, spans, info
