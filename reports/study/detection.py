"""The detection tables of a study (reports/schema.py): detection rates with exact intervals
(AUROC and F1 bootstrapped) and ROC points, the cross-size transfer matrix, detection by text
length, GLTR-coloured examples and the summary for a release decision."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ovid.corpus import record_domain
from ovid.detect import make_detector
from ovid.log import logger
from ovid.metrics import fpr_by_group
from ovid.models import load_tokenizer

from ..schema import TABLES
from .config import StudyConfig
from .corpora import Corpus, Split, shown_path, texts
from .detectors import build_detector, detector_slug, score, train_texts
from .statistics import detection_metrics, roc_points

say = logger("ovid report")


def fpr_domain_table(dets: dict, split: Split, cfg: StudyConfig) -> pd.DataFrame:
    """Each detector's false-positive rate on the held-out human texts of each domain."""
    domains = [record_domain(r) for r in split.human_test]
    rows = []
    for label, det in dets.items():
        h = score(det, texts(split.human_test))
        for domain, v in fpr_by_group(h, domains, det.threshold_).items():
            rows.append({"detector": label, "domain": domain, "n_human": v["n"], "fpr": v["fpr"],
                         "fpr_lo": v["fpr_lo"], "fpr_hi": v["fpr_hi"], "threshold": det.threshold_})
    return pd.DataFrame(rows, columns=TABLES["fpr_by_domain.csv"])


def detection_tables(dets: dict, corpora: list[Corpus], split: Split, cfg: StudyConfig,
                     n_train: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, roc = [], []
    for label, det in dets.items():
        h = score(det, texts(split.human_test))
        pooled = []
        for c in corpora:
            m = score(det, texts(split.test[c.name]))
            pooled.append(m)
            if len(m) == 0 or len(h) == 0:
                continue
            met = detection_metrics(h, m, det.threshold_, cfg.study.bootstrap, cfg.study.seed)
            rows.append({"detector": label, "corpus": c.name, "model": c.model, "params": c.params,
                         "decoding": c.decoding, "n_human": len(h), "n_machine": len(m), **met,
                         "n_train": n_train.get(label, 0)})
        fpr, tpr = roc_points(h, np.concatenate(pooled))
        roc += [{"detector": label, "fpr": a, "tpr": b} for a, b in zip(fpr, tpr)]
    return pd.DataFrame(rows)[TABLES["detection.csv"]], pd.DataFrame(roc, columns=TABLES["roc.csv"])


def cross_size_table(cfg: StudyConfig, corpora: list[Corpus], split: Split, out: Path, cache: Path) -> pd.DataFrame:
    spec = next(d for d in cfg.detectors if d.name == cfg.cross_size.detector)
    rows = []
    h_test = texts(split.human_test)
    for c in corpora:
        train, labels = train_texts(split, [c.name])
        det, reused = build_detector(spec, train, labels, cfg, out / "detectors" / "cross-size" / detector_slug(c.name),
                                     cache)
        say(f"cross-size: {spec.label} trained on {c.name}" + (" (reused)" if reused else ""))
        h = score(det, h_test)
        for t in corpora:
            m = score(det, texts(split.test[t.name]))
            met = detection_metrics(h, m, det.threshold_, 0)
            rows.append({"detector": spec.label, "train_corpus": c.name, "train_params": c.params,
                         "test_corpus": t.name, "test_params": t.params, "auroc": met["auroc"], "tpr": met["tpr"]})
    return pd.DataFrame(rows, columns=TABLES["cross_size.csv"])


def length_tokenizer(cfg: StudyConfig):
    for d in cfg.detectors:
        if isinstance(d.params.get("model"), str):
            return load_tokenizer(d.params["model"])
    return load_tokenizer("smollm2-135m")


def truncate(batch: list[str], tok, n: int) -> list[str]:
    return [tok.decode(tok(t, add_special_tokens=False).input_ids[:n]) for t in batch]


def length_table(dets: dict, corpora: list[Corpus], split: Split, cfg: StudyConfig) -> pd.DataFrame:
    tok = length_tokenizer(cfg)
    rows = []
    for length in cfg.study.length_buckets:
        h_texts = truncate(texts(split.human_test), tok, length)
        m_texts = {c.name: truncate(texts(split.test[c.name]), tok, length) for c in corpora}
        for label, det in dets.items():
            h = score(det, h_texts)
            for c in corpora:
                m = score(det, m_texts[c.name])
                if len(m) and len(h):
                    met = detection_metrics(h, m, det.threshold_, 0)
                    rows.append({"detector": label, "corpus": c.name, "length": length,
                                 "auroc": met["auroc"], "tpr": met["tpr"]})
    return pd.DataFrame(rows, columns=TABLES["length.csv"])


def gltr_examples(cfg: StudyConfig, corpora: list[Corpus], split: Split, out: Path) -> list[dict]:
    spec = next((d for d in cfg.detectors if d.name == "gltr"), None)
    model = (spec.params.get("model") if spec else None) or next(
        (d.params["model"] for d in cfg.detectors if isinstance(d.params.get("model"), str)), "smollm2-135m")
    det = make_detector("gltr", model=model, dtype=(spec.params.get("dtype", "auto") if spec else "auto"))
    picks = [("human", r) for r in split.human_test[:cfg.study.examples]]
    for i in range(cfg.study.examples):
        c = corpora[i % len(corpora)]
        if len(split.test[c.name]) > i // len(corpora):
            picks.append(("machine", split.test[c.name][i // len(corpora)]))
    return [{"title": f"{label}: {Path(r.source).name} #{r.id}", "label": label,
             "source": shown_path(r.source, out, cfg.source),
             "tokens": [[t, int(b)] for t, b in det.token_buckets(r.text)]} for label, r in picks]


def summary_table(detection: pd.DataFrame, overlap: pd.DataFrame | None, cfg: StudyConfig) -> pd.DataFrame:
    rows = []
    for corpus, g in detection.groupby("corpus", sort=False):
        best = g.sort_values(["tpr", "auroc"], ascending=False).iloc[0]
        med = np.nan
        if overlap is not None and len(overlap):
            hit = overlap[overlap.group == corpus]
            med = float(hit["median"].iloc[0]) if len(hit) else np.nan
        rows.append({"model": best.model or corpus, "params": best.params, "decoding": best.decoding,
                     "best_detector": best.detector, "tpr": best.tpr, "tpr_lo": best.tpr_lo,
                     "tpr_hi": best.tpr_hi, "auroc": best.auroc, "target_fpr": cfg.study.target_fpr,
                     "median_overlap": med})
    return pd.DataFrame(rows, columns=TABLES["summary.csv"])
