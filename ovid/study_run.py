"""`ovid report STUDY.toml --out DIR`: run a study in one batch, then render it.

Every expensive step leaves a reusable result in DIR, so a second run (or a run restarted after
an interruption) redoes only what changed: generated corpora (resumable files, in a folder named
by a hash of their settings), token statistics (the engine's Parquet cache), trained detectors
(saved folders with a key of their parameters and training texts), the Bloom filter and the
memorised control model. Metrics, tables and the report are recomputed each run (seconds).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import __version__
from .atomic import atomic_open, write_json
from .corpus import Record, append_jsonl, read_corpus
from .study_config import DetectorSection, StudyConfig, load_study
from .study_metrics import detection_metrics, roc_points
from .study_tables import GLTR_EXAMPLES, STUDY_JSON, TABLES
from .splits import split_by_document


def log(msg: str) -> None:
    print(f"[ovid report] {msg}", file=sys.stderr, flush=True)


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


@dataclass
class Corpus:
    name: str
    model: str | None
    params: int | None
    decoding: str
    records: list[Record]
    path: str


@dataclass
class Split:
    human_train: list[Record]
    human_test: list[Record]
    train: dict[str, list[Record]]  # corpus name -> machine training texts
    test: dict[str, list[Record]]


def read_human(cfg: StudyConfig) -> list[Record]:
    seen, out = set(), []
    for i, src in enumerate(cfg.human.corpus):
        for r in read_corpus(src):
            if r.label == 1 or r.text in seen:
                continue
            seen.add(r.text)
            rid = r.id if len(cfg.human.corpus) == 1 else f"{i}:{r.id}"
            out.append(Record(rid, r.text, 0, r.source, r.extra))
    return out


def generate_corpora(cfg: StudyConfig, human: list[Record], out: Path, progress: bool) -> list[Corpus]:
    from ovid.generate import Decoding, GenerationConfig, corpus_name, sample_corpus
    from ovid.generate.study import expand_models
    g = cfg.generate
    folder = out / "corpora" / f"gen-{digest([dataclasses.asdict(g), [r.text for r in human]])}"
    folder.mkdir(parents=True, exist_ok=True)
    prompts = folder / "prompts.jsonl"
    if not prompts.exists():
        append_jsonl(prompts, [{"id": r.id, "text": r.text, "label": 0} for r in human])
    corpora = []
    for model in expand_models(g.models):
        for dec_name in g.decodings:
            dec = Decoding(dec_name, g.top_k, g.top_p, g.temperature)
            gen = GenerationConfig(model, dec, g.n, g.max_tokens, g.batch_size, g.seed,
                                   str(prompts) if g.prompted else None, g.prompt_tokens, g.dtype)
            path, meta = sample_corpus(gen, folder / corpus_name(model, dec), progress)
            log(f"corpus {path.name}: {meta['n_written']} samples")
            recs = [Record(r.id, r.text, 1, r.source, r.extra) for r in read_corpus(path)]
            corpora.append(Corpus(f"{Path(model).name} {dec.tag}", model, parameter_count(model, g.dtype),
                                  dec_name, recs, str(path)))
    return corpora


def parameter_count(model: str, dtype: str) -> int:
    """The registry's figure, else a count of the (already loaded) model's parameters."""
    from ovid.models import load_causal_lm, resolve

    known = resolve(model).params
    return known if known else sum(p.numel() for p in load_causal_lm(model, dtype)[0].parameters())


def existing_corpora(cfg: StudyConfig) -> list[Corpus]:
    out = []
    for m in cfg.machine:
        recs = [Record(r.id, r.text, 1, r.source, r.extra) for r in read_corpus(m.corpus) if r.label != 0]
        out.append(Corpus(m.name or Path(m.corpus).name, m.model, m.params, m.decoding, recs, m.corpus))
    return out


def make_split(cfg: StudyConfig, human: list[Record], corpora: list[Corpus]) -> Split:
    f, seed = cfg.study.test_fraction, cfg.study.seed
    h_train, h_test = split_by_document(human, [r.text for r in human], f, seed)
    train, test = {}, {}
    for c in corpora:
        train[c.name], test[c.name] = split_by_document(c.records, [r.text for r in c.records], f, seed)
    return Split(h_train, h_test, train, test)


def _texts(recs: list[Record]) -> list[str]:
    return [r.text for r in recs]


def build_detector(spec: DetectorSection, texts: list[str], labels: list[int], cfg: StudyConfig,
                   folder: Path, cache: Path):
    """Fit (or calibrate) a detector on training texts; reuse a saved one with the same key."""
    from ovid.detect import load_detector, make_detector
    from ovid.detect.registry import detector_class

    cls = detector_class(spec.name)
    params = dict(spec.params)
    if "cache_dir" in cls.param_names() and "cache_dir" not in params:
        params["cache_dir"] = str(cache)
    key = digest([spec.name, spec.params, cfg.study.target_fpr, texts, labels])
    marker = folder / "study-key.txt"
    if marker.exists() and marker.read_text() == key:
        det = load_detector(folder)
        if "cache_dir" in params:
            det.cache_dir = params["cache_dir"]
        return det, True
    det = make_detector(spec.name, **params)
    if cls.trained:
        det.fit(texts, labels, cfg.study.target_fpr)
    else:  # zero-shot: the threshold comes from the held-out (training-side) human texts
        det.calibrate(texts, labels, cfg.study.target_fpr)
    det.save(folder)
    marker.write_text(key)
    return det, False


def detector_slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in label).strip("-")


def score(det, texts: list[str]) -> np.ndarray:
    return np.asarray(det.score(texts), dtype=float) if texts else np.zeros(0)


def train_texts(split: Split, names: list[str] | None = None) -> tuple[list[str], list[int]]:
    machine = [r for n, recs in split.train.items() if names is None or n in names for r in recs]
    return _texts(split.human_train) + _texts(machine), [0] * len(split.human_train) + [1] * len(machine)


def detection_tables(dets: dict, corpora: list[Corpus], split: Split, cfg: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, roc = [], []
    for label, det in dets.items():
        h = score(det, _texts(split.human_test))
        pooled = []
        for c in corpora:
            m = score(det, _texts(split.test[c.name]))
            pooled.append(m)
            if len(m) == 0 or len(h) == 0:
                continue
            met = detection_metrics(h, m, det.threshold_, cfg.study.bootstrap, cfg.study.seed)
            rows.append({"detector": label, "corpus": c.name, "model": c.model, "params": c.params,
                         "decoding": c.decoding, "n_human": len(h), "n_machine": len(m), **met})
        fpr, tpr = roc_points(h, np.concatenate(pooled))
        roc += [{"detector": label, "fpr": a, "tpr": b} for a, b in zip(fpr, tpr)]
    return pd.DataFrame(rows)[TABLES["detection.csv"]], pd.DataFrame(roc, columns=TABLES["roc.csv"])


def cross_size_table(cfg: StudyConfig, corpora: list[Corpus], split: Split, out: Path, cache: Path) -> pd.DataFrame:
    spec = next(d for d in cfg.detectors if d.name == cfg.cross_size.detector)
    rows = []
    h_test = _texts(split.human_test)
    for c in corpora:
        texts, labels = train_texts(split, [c.name])
        det, reused = build_detector(spec, texts, labels, cfg, out / "detectors" / "cross-size" / detector_slug(c.name), cache)
        log(f"cross-size: {spec.label} trained on {c.name}" + (" (reused)" if reused else ""))
        h = score(det, h_test)
        for t in corpora:
            m = score(det, _texts(split.test[t.name]))
            met = detection_metrics(h, m, det.threshold_, 0)
            rows.append({"detector": spec.label, "train_corpus": c.name, "train_params": c.params,
                         "test_corpus": t.name, "test_params": t.params, "auroc": met["auroc"], "tpr": met["tpr"]})
    return pd.DataFrame(rows, columns=TABLES["cross_size.csv"])


def length_tokenizer(cfg: StudyConfig):
    from ovid.models import load_tokenizer

    for d in cfg.detectors:
        if isinstance(d.params.get("model"), str):
            return load_tokenizer(d.params["model"])
    return load_tokenizer("smollm2-135m")


def truncate(texts: list[str], tok, n: int) -> list[str]:
    return [tok.decode(tok(t, add_special_tokens=False).input_ids[:n]) for t in texts]


def length_table(dets: dict, corpora: list[Corpus], split: Split, cfg: StudyConfig) -> pd.DataFrame:
    tok = length_tokenizer(cfg)
    rows = []
    for length in cfg.study.length_buckets:
        h_texts = truncate(_texts(split.human_test), tok, length)
        m_texts = {c.name: truncate(_texts(split.test[c.name]), tok, length) for c in corpora}
        for label, det in dets.items():
            h = score(det, h_texts)
            for c in corpora:
                m = score(det, m_texts[c.name])
                if len(m) and len(h):
                    met = detection_metrics(h, m, det.threshold_, 0)
                    rows.append({"detector": label, "corpus": c.name, "length": length,
                                 "auroc": met["auroc"], "tpr": met["tpr"]})
    return pd.DataFrame(rows, columns=TABLES["length.csv"])


def gltr_examples(cfg: StudyConfig, corpora: list[Corpus], split: Split) -> list[dict]:
    from ovid.detect import make_detector

    spec = next((d for d in cfg.detectors if d.name == "gltr"), None)
    model = (spec.params.get("model") if spec else None) or next(
        (d.params["model"] for d in cfg.detectors if isinstance(d.params.get("model"), str)), "smollm2-135m")
    det = make_detector("gltr", model=model, dtype=(spec.params.get("dtype", "auto") if spec else "auto"))
    picks = [("human", r) for r in split.human_test[:cfg.study.examples]]
    for i in range(cfg.study.examples):
        c = corpora[i % len(corpora)]
        if len(split.test[c.name]) > i // len(corpora):
            picks.append(("machine", split.test[c.name][i // len(corpora)]))
    out = []
    for label, r in picks:
        out.append({"title": f"{label}: {Path(r.source).name} #{r.id}", "label": label, "source": r.source,
                    "tokens": [[t, int(b)] for t, b in det.token_buckets(r.text)]})
    return out


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


def write_table(out: Path, name: str, df: pd.DataFrame) -> None:
    with atomic_open(out / "tables" / name, "w", encoding="utf-8", newline="") as f:
        df.to_csv(f, index=False)


def file_hash(path: str) -> str | None:
    p = Path(path)
    if not p.is_file():
        return None
    return hashlib.sha256(p.read_bytes()).hexdigest()


def timed(timings: dict, step: str, fn: Callable):
    t0 = time.perf_counter()
    result = fn()
    timings[step] = round(time.perf_counter() - t0, 1)
    return result


def run_study(study_path: str | Path, out_dir: str | Path, progress: bool = True) -> Path:
    """Run every part of the study and render DIR/index.html; returns its path."""
    from ovid.reports import render_report

    from .study_memorization import memorization_tables

    cfg = load_study(study_path)
    out = Path(out_dir)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    cache = out / "cache"
    timings: dict[str, float] = {}
    human = read_human(cfg)
    corpora = timed(timings, "generate", lambda: (generate_corpora(cfg, human, out, progress) if cfg.generate else [])
                    + existing_corpora(cfg))
    split = make_split(cfg, human, corpora)
    log(f"{len(human)} human texts ({len(split.human_test)} held out), {len(corpora)} machine corpora")

    def fit_all():
        texts, labels = train_texts(split)
        dets = {}
        for spec in cfg.detectors:
            det, reused = build_detector(spec, texts, labels, cfg, out / "detectors" / detector_slug(spec.label), cache)
            log(f"detector {spec.label}" + (" (reused)" if reused else " (fitted)"))
            dets[spec.label] = det
        return dets

    dets = timed(timings, "detectors", fit_all)
    detection, roc = timed(timings, "score", lambda: detection_tables(dets, corpora, split, cfg))
    write_table(out, "detection.csv", detection)
    write_table(out, "roc.csv", roc)
    if cfg.cross_size and len(corpora) > 1:
        write_table(out, "cross_size.csv", timed(timings, "cross_size", lambda: cross_size_table(cfg, corpora, split, out, cache)))
    if cfg.study.length_buckets:
        write_table(out, "length.csv", timed(timings, "length", lambda: length_table(dets, corpora, split, cfg)))
    examples = timed(timings, "gltr_examples", lambda: gltr_examples(cfg, corpora, split))
    with atomic_open(out / "tables" / GLTR_EXAMPLES, "w", encoding="utf-8") as f:
        json.dump(examples, f, ensure_ascii=False)
    overlap_summary, memo_info = None, None
    if cfg.memorization:
        docs, overlap_summary, spans, memo_info = timed(
            timings, "memorization", lambda: memorization_tables(cfg, human, corpora, out, progress))
        write_table(out, "overlap_docs.csv", docs)
        write_table(out, "overlap_summary.csv", overlap_summary)
        write_table(out, "overlap_spans.csv", spans)
    write_table(out, "summary.csv", summary_table(detection, overlap_summary, cfg))
    write_json(out / STUDY_JSON, study_record(cfg, corpora, timings, memo_info))
    page = render_report(out)
    log(f"report: {page}")
    return page


def study_record(cfg: StudyConfig, corpora: list[Corpus], timings: dict, memo_info: dict | None) -> dict:
    import sklearn
    import torch
    import transformers

    sources = list(cfg.human.corpus) + [c.path for c in corpora]
    return {"name": cfg.study.name, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "ovid_version": __version__,
            "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                         "transformers": transformers.__version__, "scikit-learn": sklearn.__version__,
                         "numpy": np.__version__, "pandas": pd.__version__},
            "seeds": {"study": cfg.study.seed, "generate": cfg.generate.seed if cfg.generate else None},
            "models": sorted({c.model for c in corpora if c.model} |
                             {str(d.params.get("model") or d.params.get("encoder")) for d in cfg.detectors
                              if d.params.get("model") or d.params.get("encoder")}),
            "data_hashes": {s: file_hash(s) for s in sources}, "timings_s": timings,
            "target_fpr": cfg.study.target_fpr, "memorization": memo_info, "config": cfg.raw,
            "study_file": str(cfg.source)}
