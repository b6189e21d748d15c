"""The "Mixed texts" table of a study: texts a person began and a model finished (and the
reverse), built from the study's held-out texts, and how well each segmenting detector finds where
the author changes; the study's held-out human texts measure its per-span false alarms."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from ovid.corpus import Record, record_domain
from ovid.detect.mixtures import (
    HUMAN,
    MACHINE,
    Mixture,
    boundary_error,
    join,
    own_sentences,
    sentence_labels,
    sentences_of,
)
from ovid.metrics import auroc, exact_rate

from ..schema import TABLES
from .config import StudyConfig
from .corpora import Corpus, Split

KINDS = ("human-machine", "machine-human")
HUMAN_ONLY = "human only"
MIN_SENTENCES = 2  # each author writes at least this many sentences of a mixture


def continuation_of(human: Record, corpora: list[Corpus], split: Split, i: int) -> Record | None:
    """A held-out machine text for `human`: the model's continuation of this very text where there
    is one (generated from it: its prompt_id; or a paired file's: the same pair number), else the
    i-th held-out machine text, corpora taken in turn."""
    pair = human.extra.get("pair")
    for c in corpora:
        for r in split.test.get(c.name, []):
            if r.extra.get("prompt_id") == human.id or (pair is not None and r.extra.get("pair") == pair
                                                         and r.source == human.source):
                return r
    pools = [split.test[c.name] for c in corpora if split.test.get(c.name)]
    if not pools:
        return None
    pool = pools[i % len(pools)]
    return pool[(i // len(pools)) % len(pool)]


def build_mixtures(split: Split, corpora: list[Corpus], per_kind: int, seed: int) -> list[Mixture]:
    """Up to `per_kind` texts of each kind per domain of the held-out human texts: 2-4 sentences
    of the first author, then 2-4 of the second (seeded)."""
    rng = np.random.default_rng(seed)
    count: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for i, h in enumerate(split.human_test):
        domain = record_domain(h)
        m = continuation_of(h, corpora, split, i)
        if m is None:
            continue
        hs, ms = sentences_of(h.text), own_sentences(m.text, h.text)
        if len(hs) < MIN_SENTENCES or len(ms) < MIN_SENTENCES:
            continue
        for kind in KINDS:
            if count[domain, kind] >= per_kind:
                continue
            a = int(rng.integers(MIN_SENTENCES, min(4, len(hs)) + 1))
            b = int(rng.integers(MIN_SENTENCES, min(4, len(ms)) + 1))
            if kind == "human-machine":
                parts = [(s, HUMAN) for s in hs[:a]] + [(s, MACHINE) for s in ms[:b]]
            else:
                parts = [(s, MACHINE) for s in ms[:b]] + [(s, HUMAN) for s in hs[len(hs) - a:]]
            out.append(join(parts, kind, domain))
            count[domain, kind] += 1
    return out


def segmenting_detectors(dets: dict) -> dict:
    """label -> detector, one per segment model (detectors of one language model share it)."""
    out, seen = {}, set()
    for label, det in dets.items():
        if det.can_segment():
            key = det.segment_model().model
            if key not in seen:
                seen.add(key)
                out[label] = det
    return out


def mixed_rows(label: str, model, mixtures: list[Mixture], segs: list, human_domains: list[str],
               human_segs: list) -> list[dict]:
    """`model`: the detector's segment model. Per domain and kind: sentence AUROC, boundary within
    one sentence (exact interval), median error and texts with a span flagged; per domain, the
    held-out human texts with a span flagged."""
    head = {"detector": label, "model": model.model, "span_fpr": model.target_fpr}
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for mx, seg in zip(mixtures, segs):
        groups[mx.domain, mx.kind].append((mx, seg))
    rows = []
    for (domain, kind), pairs in sorted(groups.items()):
        labels, post, errors, flagged = [], [], [], 0
        for mx, seg in pairs:
            lab = sentence_labels(mx, seg.sentences)
            labels += lab.tolist()
            post += seg.sentence_p_machine
            errors.append(boundary_error(lab, np.array(seg.sentence_machine, int)))
            flagged += any(sp.verdict == "machine" for sp in seg.spans)
        errs = np.array(errors)
        w, w_lo, w_hi = exact_rate(int(np.sum(errs <= 1)), len(errs))
        f, f_lo, f_hi = exact_rate(flagged, len(pairs))
        rows.append({**head, "domain": domain, "kind": kind, "n_texts": len(pairs),
                     "sentence_auroc": auroc(np.array(labels), np.array(post)) if len(set(labels)) == 2 else np.nan,
                     "within_1": w, "within_1_lo": w_lo, "within_1_hi": w_hi, "median_error": float(np.median(errs)),
                     "flagged": f, "flagged_lo": f_lo, "flagged_hi": f_hi})
    by_domain: dict[str, list] = defaultdict(list)
    for domain, seg in zip(human_domains, human_segs):
        by_domain[domain].append(any(sp.verdict == "machine" for sp in seg.spans))
    for domain, flags in sorted(by_domain.items()):
        f, f_lo, f_hi = exact_rate(int(sum(flags)), len(flags))
        rows.append({**head, "domain": domain, "kind": HUMAN_ONLY, "n_texts": len(flags),
                     "sentence_auroc": np.nan, "within_1": np.nan, "within_1_lo": np.nan, "within_1_hi": np.nan,
                     "median_error": np.nan, "flagged": f, "flagged_lo": f_lo, "flagged_hi": f_hi})
    return rows


def mixed_table(dets: dict, corpora: list[Corpus], split: Split, cfg: StudyConfig) -> pd.DataFrame:
    mixtures = build_mixtures(split, corpora, cfg.study.mixed, cfg.study.seed)
    humans = [r.text for r in split.human_test]
    rows = []
    for label, det in segmenting_detectors(dets).items():
        segs = det.segmentations([mx.text for mx in mixtures]) if mixtures else []
        human_segs = det.segmentations(humans) if humans else []
        rows += mixed_rows(label, det.segment_model(), mixtures, segs,
                           [record_domain(r) for r in split.human_test], human_segs)
    return pd.DataFrame(rows, columns=TABLES["mixed.csv"])
