"""Watermarks in a study ([watermark]): for each model, one sample per prompt with each scheme and
one plain sample from the same prompt (the first held-out human texts); then each scheme's exact
test on the samples cut to each length, on the samples under each attack, the samples' quality
(perplexity under another model, distinct n-grams), and the post-hoc detectors on the same texts.

Everything is measured on the generated continuations, and on the same human texts after their
first prompt_tokens tokens: the prompt is not the model's text. The positives are the marked
samples; the negatives the plain samples and the human texts; a text is marked when p < fpr, so
the FPR is the test's own promise and the tables show whether it holds (each rate with its exact
Clopper-Pearson 95% interval, which says how far a few dozen samples can show it).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from ovid.attack import ATTACKS, attack_texts
from ovid.attack.lm import AttackLM
from ovid.corpus import Record, read_corpus
from ovid.detect import make_detector
from ovid.log import logger
from ovid.metrics import auroc_of
from ovid.models import load_tokenizer

from ..schema import TABLES
from .config import StudyConfig, WatermarkSection
from .corpora import Split, prompt_file
from .statistics import rate_columns

say = logger("ovid report")
PLAIN = "none"  # the scheme column of the plain samples


@dataclasses.dataclass
class ModelSamples:
    model: str
    human: list[str]  # the prompts' human texts after the prompt (uncut)
    plain: list[str]
    marked: dict[str, list[str]]  # scheme -> continuations


def tokens_after(text: str, tokenizer, start: int, length: int | None = None) -> str:
    """The text of tokens [start, start + length) of `text` (to its end when length is None)."""
    ids = tokenizer(text, add_special_tokens=False).input_ids
    return tokenizer.decode(ids[start:None if length is None else start + length])


def generate_samples(wm: WatermarkSection, prompts: list[Record], out: Path, progress: bool) -> list[ModelSamples]:
    """Marked and plain samples of every model, resumable, in a folder named by the settings."""
    from ovid.generate import sample_corpus

    prompts_path = prompt_file(out / "watermark", wm, prompts)
    folder = prompts_path.parent
    result = []
    for model in wm.models:
        texts = {}
        for scheme in [PLAIN, *wm.schemes]:
            gen = wm.generation_config(model, None if scheme == PLAIN else scheme, str(prompts_path))
            path, meta = sample_corpus(gen, folder / f"{Path(model).name}-{scheme}.jsonl", progress)
            texts[scheme] = [r.extra.get("continuation", r.text) for r in read_corpus(path)]
            say(f"watermark samples {path.name}: {meta['n_written']}")
        tok = load_tokenizer(model)
        human = [tokens_after(r.text, tok, wm.prompt_tokens) for r in prompts]
        result.append(ModelSamples(model, human, texts.pop(PLAIN), texts))
    return result


def test_texts(det, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(z, p) of each text; an untested text (nothing to score) counts as p = 1."""
    rows = det.test(texts) if texts else []
    return (np.array([r["z"] for r in rows], dtype=float),
            np.array([1.0 if r["p_value"] is None else r["p_value"] for r in rows], dtype=float))


def test_metrics(marked: tuple, plain: tuple, human: tuple, fpr: float) -> dict:
    (zm, pm), (zp, pp), (zh, ph) = marked, plain, human
    return {"n": len(zm), **rate_columns("tpr", pm < fpr), **rate_columns("fpr_plain", pp < fpr),
            **rate_columns("fpr_human", ph < fpr), "auroc_plain": auroc_of(zp, zm), "auroc_human": auroc_of(zh, zm),
            "median_z": float(np.median(zm))}


def detector_for(wm: WatermarkSection, model: str, scheme: str):
    # min_tokens 1: the length table itself shows how short is too short
    return make_detector("watermark", model=model, min_tokens=1, alpha=wm.fpr,
                         **dataclasses.asdict(wm.watermark_config(scheme)))


def cut(texts: list[str], tokenizer, length: int) -> list[str]:
    return [tokens_after(t, tokenizer, 0, length) for t in texts]


def detection_rows(wm: WatermarkSection, s: ModelSamples, attacked: dict[str, dict[str, list[str]]]) -> list[dict]:
    """Rows of watermark.csv for one model: each scheme at each length (up to max_tokens, the
    samples uncut), then under each attack (at max_tokens: attacked marked samples against the
    clean negatives)."""
    tok = load_tokenizer(s.model)
    rows = []
    for scheme, marked in s.marked.items():
        det = detector_for(wm, s.model, scheme)
        for length in sorted({n for n in wm.lengths if n < wm.max_tokens} | {wm.max_tokens}):
            # at max_tokens the texts as they are (the human ones cut to it)
            texts = (marked, s.plain, cut(s.human, tok, length)) if length == wm.max_tokens else \
                (cut(marked, tok, length), cut(s.plain, tok, length), cut(s.human, tok, length))
            m, p, h = (test_texts(det, t) for t in texts)
            rows.append({"model": s.model, "scheme": scheme, "attack": "none", "level": "none",
                         "length": length, **test_metrics(m, p, h, wm.fpr)})
        p, h = test_texts(det, s.plain), test_texts(det, cut(s.human, tok, wm.max_tokens))
        for name, by_scheme in attacked.items():
            rows.append({"model": s.model, "scheme": scheme, "attack": name, "level": ATTACKS[name].level,
                         "length": wm.max_tokens, **test_metrics(test_texts(det, by_scheme[scheme]), p, h, wm.fpr)})
    return rows


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts' words, pooled (Li et al. 2016's distinct-n)."""
    grams = [tuple(w[i:i + n]) for w in (t.split() for t in texts) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else float("nan")


def quality_rows(wm: WatermarkSection, s: ModelSamples) -> list[dict]:
    """Perplexity under another model (the mean token log-likelihood's exponent, per text, then
    the median) and distinct-1/2/3, for the plain and each marked set."""
    judge = wm.quality_model(s.model)
    lik = make_detector("likelihood", model=judge, normalize="none")
    rows = []
    for scheme, texts in [(PLAIN, s.plain), *s.marked.items()]:
        kept = [t for t in texts if t.strip()]
        ppl = np.exp(-lik.decision_function(kept)) if kept else np.array([np.nan])
        rows.append({"model": s.model, "scheme": scheme, "quality_model": judge, "n": len(kept),
                     "ppl_median": float(np.median(ppl)), "ppl_mean": float(np.mean(ppl)),
                     "distinct_1": distinct_n(kept, 1), "distinct_2": distinct_n(kept, 2),
                     "distinct_3": distinct_n(kept, 3),
                     "words_mean": float(np.mean([len(t.split()) for t in kept])) if kept else float("nan")})
    return rows


def posthoc_rows(dets: dict, s: ModelSamples) -> list[dict]:
    """Each study detector's AUROC, human texts against the plain and each marked set: what a
    detector without the key sees of the same samples."""
    rows = []
    for label, det in dets.items():
        h = np.asarray(det.decision_function(s.human), dtype=float)
        p = np.asarray(det.decision_function(s.plain), dtype=float)
        for scheme, texts in s.marked.items():
            m = np.asarray(det.decision_function(texts), dtype=float)
            rows.append({"model": s.model, "scheme": scheme, "detector": label,
                         "auroc_marked": auroc_of(h, m), "auroc_plain": auroc_of(h, p)})
    return rows


def attack_samples(wm: WatermarkSection, s: ModelSamples, lm: AttackLM | None) -> dict[str, dict[str, list[str]]]:
    """attack -> scheme -> the marked samples under that attack (each seeded by its position)."""
    acfg = wm.attack_config()
    out = {}
    for name in acfg.attacks:
        out[name] = {scheme: [a.text for a in attack_texts(name, texts, acfg.rate, acfg.seed, lm_model=lm)]
                     for scheme, texts in s.marked.items()}
        say(f"watermark attack {name} on {s.model}'s samples")
    return out


def watermark_tables(cfg: StudyConfig, split: Split, dets: dict, out: Path,
                     progress: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(watermark.csv, watermark_quality.csv, watermark_posthoc.csv)."""
    wm = cfg.watermark
    prompts = split.human_test[:wm.n]
    samples = generate_samples(wm, prompts, out, progress)
    acfg = wm.attack_config()
    lm = AttackLM(acfg.attack_model, acfg.dtype) if any(ATTACKS[a].uses for a in acfg.attacks) else None
    detection, quality, posthoc = [], [], []
    for s in samples:
        detection += detection_rows(wm, s, attack_samples(wm, s, lm))
        quality += quality_rows(wm, s)
        if wm.posthoc:
            posthoc += posthoc_rows(dets, s)
    return (pd.DataFrame(detection, columns=TABLES["watermark.csv"]),
            pd.DataFrame(quality, columns=TABLES["watermark_quality.csv"]),
            pd.DataFrame(posthoc, columns=TABLES["watermark_posthoc.csv"]))
