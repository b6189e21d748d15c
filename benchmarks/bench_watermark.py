"""Watermarks, measured: the exact test's false positives on thousands of unmarked texts, the
acceptance check (64 SmolLM2 samples of 128 tokens with KGW), and for both schemes with SmolLM2
and Gemma 3: detectability against length, under attack, the quality cost and the post-hoc
detectors on the same samples, beside the papers' figures.

    python benchmarks/bench_watermark.py                    # all parts (about an hour on 2 cores)
    python benchmarks/bench_watermark.py --parts null,done  # minutes
    python benchmarks/bench_watermark.py --parts study --models smollm2-135m --n 32

null: every human and machine text of the 15 shared Fast-DetectGPT files (none carries a
watermark), tested with each scheme under each model's tokenizer: the share with p below 0.05,
0.01 and 0.001 for the exact binomial p-value and for the normal tail that transformers'
WatermarkDetector reports. done: `ovid generate --watermark kgw`'s defaults (pure sampling,
gamma 0.25, delta 2) on 64 prompts (the first 30 tokens of 32 xsum and 32 writing human texts),
128 new tokens, against the same prompts' plain samples and the human texts after the prompt.
study: the [watermark] section of a study (reports/study/watermark.py) on the same kind of
prompts, top-k 40, 256 tokens.

Writes benchmarks/watermark*.csv and benchmarks/watermark.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_data import DATA, GENERATORS, _pairs  # noqa: E402

from ovid import make_detector  # noqa: E402
from ovid.attack.lm import AttackLM  # noqa: E402
from ovid.corpus import Record, read_corpus  # noqa: E402
from ovid.generate import Decoding, GenerationConfig, sample_corpus  # noqa: E402
from ovid.metrics import auroc_of  # noqa: E402
from ovid.models import load_tokenizer  # noqa: E402
from ovid.reports.study.config import WatermarkSection  # noqa: E402
from ovid.reports.study.watermark import (  # noqa: E402
    attack_samples,
    detection_rows,
    generate_samples,
    posthoc_rows,
    quality_rows,
    test_texts,
    tokens_after,
)
from ovid.watermark.config import WatermarkConfig  # noqa: E402
from ovid.watermark.stats import normal_p_value  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
WORK = HERE / ".cache" / "watermark"
KEY = 15485863
LEVELS = (0.05, 0.01, 0.001)
# The papers' figures (see RESULTS.md for where each comes from)
PUBLISHED = {
    "kgw_detect_at_z4_gamma0.5_delta2_T200_opt1.3b_multinomial": 0.984,
    "kgw_fpr_at_z4_normal_tail": 3.2e-5,
    "kgw_auc_T200_dipper_paraphrase": {"lefthash": 0.926, "selfhash": 0.966},
    "kgw_auc_T200_gpt_paraphrase": {"lefthash": 0.857, "selfhash": 0.906},
    "synthid_defaults": {"ngram_len": 5, "depth": 30, "sampling_table_size": 65536},
}


def prompt_records(n: int) -> list[Record]:
    """The first n/2 human texts of the xsum and of the writing GPT-2-XL files."""
    out = []
    for domain in ("xsum", "writing"):
        human, _ = _pairs(domain, GENERATORS[0], n // 2 + n % 2)
        out += [Record(f"{domain}-{i}", r.text, 0, r.source) for i, r in enumerate(human)]
    return out[:n]


def null_part(models: list[str], keys: list[int]) -> list[dict]:
    texts = list(dict.fromkeys(r.text for f in sorted(DATA.glob("*.raw_data.json")) for r in read_corpus(f)))
    rows = []
    for model, scheme, key in ((m, s, k) for m in models for s in ("kgw", "synthid") for k in keys):
        det = make_detector("watermark", model=model, scheme=scheme, key=key, min_tokens=1)
        t0 = time.perf_counter()
        z, p = test_texts(det, texts)
        row = {"model": model, "scheme": scheme, "key": key, "n_texts": len(texts),
               "seconds": round(time.perf_counter() - t0, 1)}
        for a in LEVELS:
            row[f"exact_below_{a:g}"] = float(np.mean(p < a))
            row[f"normal_below_{a:g}"] = float(np.mean(normal_p_value(z) < a))
        rows.append(row)
        print(row, flush=True)
        pd.DataFrame(rows).to_csv(HERE / "watermark_null.csv", index=False)
    return rows


def done_part() -> dict:
    prompts = prompt_records(64)
    folder = WORK / "done"
    folder.mkdir(parents=True, exist_ok=True)
    pfile = folder / "prompts.jsonl"
    pfile.write_text("".join(json.dumps({"id": r.id, "text": r.text, "label": 0}) + "\n" for r in prompts))
    wm = WatermarkConfig(key=KEY)
    base = dict(model="smollm2-135m", decoding=Decoding("pure"), prompts=str(pfile), max_tokens=128, batch_size=16)
    t0 = time.perf_counter()
    marked, _ = sample_corpus(GenerationConfig(**base, watermark=wm), folder / "kgw.jsonl", progress=False)
    plain, _ = sample_corpus(GenerationConfig(**base), folder / "plain.jsonl", progress=False)
    gen_s = time.perf_counter() - t0
    tok = load_tokenizer("smollm2-135m")
    cont = lambda f: [r.extra["continuation"] for r in read_corpus(f)]  # noqa: E731
    human = [tokens_after(r.text, tok, 30) for r in prompts]
    det = make_detector("watermark", model="smollm2-135m", key=KEY)
    (zm, pm), (zp, pp), (zh, ph) = (test_texts(det, t) for t in (cont(marked), cont(plain), human))
    rows = det.test(cont(marked))
    out = {"n": len(zm), "generation_seconds": round(gen_s, 1),
           "tokens_scored_median": float(np.median([r["tokens_scored"] for r in rows])),
           "untested": sum(r["watermark"] != "tested" for r in rows),
           "auroc_vs_human": auroc_of(zh, zm), "auroc_vs_plain": auroc_of(zp, zm),
           "share_p_below_1e-3": float(np.mean(pm < 1e-3)), "plain_p_below_1e-3": float(np.mean(pp < 1e-3)),
           "human_p_below_1e-3": float(np.mean(ph < 1e-3)), "median_z": float(np.median(zm)),
           "green_rate_median": float(np.median([r["success_rate"] for r in rows]))}
    print(out, flush=True)
    return out


def study_part(models: list[str], n: int, attacks: list[str]) -> tuple[list, list, list]:
    wm = WatermarkSection(models=models, n=n, attacks=attacks, dtype="bfloat16")
    prompts = prompt_records(n)
    samples = generate_samples(wm, prompts, WORK / "study", progress=False)
    acfg = wm.attack_config()
    lm = AttackLM(acfg.attack_model, "bfloat16")
    dets = {"fast-detectgpt (smollm2-135m)": make_detector("fast-detectgpt", model="smollm2-135m", dtype="bfloat16"),
            "ovid:default": __import__("ovid").load_detector("ovid:default")}
    detection, quality, posthoc = [], [], []
    for s in samples:
        t0 = time.perf_counter()
        attacked = attack_samples(wm, s, lm)
        print(f"{s.model}: attacks {time.perf_counter() - t0:.0f} s", flush=True)
        detection += detection_rows(wm, s, attacked)
        quality += quality_rows(wm, s)
        posthoc += posthoc_rows(dets, s)
        pd.DataFrame(detection).to_csv(HERE / "watermark.csv", index=False)  # as it goes
    return detection, quality, posthoc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", default="null,done,study")
    ap.add_argument("--models", default="smollm2-135m,gemma3-270m")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--null-keys", default="15485863,12345,2026",
                    help="Keys of the null part: for one key the texts share their common n-grams' colours")
    ap.add_argument("--attacks", default="homoglyph,zero_width_space,alternative_spelling,article_deletion,"
                                         "synonym,paraphrase")
    args = ap.parse_args()
    parts, models = args.parts.split(","), args.models.split(",")
    record_path = HERE / "watermark.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    record.update(machine=describe(), published=PUBLISHED, key=KEY)
    if "null" in parts:
        rows = null_part(models, [int(k) for k in args.null_keys.split(",")])
        pd.DataFrame(rows).to_csv(HERE / "watermark_null.csv", index=False)
    if "done" in parts:
        record["done"] = done_part()
    if "study" in parts:
        t0 = time.perf_counter()
        detection, quality, posthoc = study_part(models, args.n, args.attacks.split(","))
        pd.DataFrame(detection).to_csv(HERE / "watermark.csv", index=False)
        pd.DataFrame(quality).to_csv(HERE / "watermark_quality.csv", index=False)
        pd.DataFrame(posthoc).to_csv(HERE / "watermark_posthoc.csv", index=False)
        record["study"] = {"seconds": round(time.perf_counter() - t0), "n": args.n, "models": models,
                           "settings": dataclasses.asdict(WatermarkSection(models=models, n=args.n,
                                                                           attacks=args.attacks.split(",")))}
    # read again: another part may have finished while this one ran
    latest = json.loads(record_path.read_text()) if record_path.exists() else {}
    record_path.write_text(json.dumps(latest | record, indent=2) + "\n")


if __name__ == "__main__":
    main()
