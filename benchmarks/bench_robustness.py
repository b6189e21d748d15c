"""Every detector x every attack on held-out articles of the shared xsum and writing GPT-2-XL sets,
with the defences (text normalisation) on and off, beside RAID's published figures.

    python benchmarks/bench_robustness.py                 # all attacks, both domains (about an hour on 2 cores)
    python benchmarks/bench_robustness.py --attacks homoglyph,upper_lower --domains xsum

Data: benchmarks/default_data.py's split of the first PAIRS pairs of xsum_gpt2-xl and
writing_gpt2-xl (by article, test fraction 0.5, seed 0). Detectors are calibrated (zero-shot) or
trained (gltr, tfidf, ensemble) on the training half with the default normalisation, then scored
on the held-out half. Per domain (RAID sets its thresholds per domain) and detector, each attack
applied to the held-out machine texts is scored against the clean held-out human texts (AUROC;
TPR at 1% and 5% FPR with the threshold set on those human scores), and the same attack applied
to the held-out human texts gives the FPR at the detector's saved threshold (false accusations).
The row "ensemble + attack augmentation" is the ensemble trained on the training half plus
copies of it under the word attacks article_deletion, alternative_spelling and misspelling (the
character attacks need no augmentation: normalised, an attacked copy is the clean text); the
row "ensemble + tampering feature" adds the share of characters normalisation repaired. ovid:default joins with --default (Gemma 3 statistics:
add about an hour). Synonym and paraphrase run on the first --lm-texts machine and human texts
of each domain (their machine side against all clean human texts).

Writes benchmarks/robustness.csv and benchmarks/robustness.json (machine, settings, RAID's figures).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_data import STATS_CACHE, file_texts, split  # noqa: E402

from ovid import load_detector, make_detector  # noqa: E402
from ovid.attack import ATTACKS, attack_text, attack_texts  # noqa: E402
from ovid.attack.lm import AttackLM  # noqa: E402
from ovid.reports.study.robustness import robustness_rows  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
TARGET_FPR = 0.01
DTYPE = "bfloat16"
SCORER = "smollm2-135m"
AUGMENT = ("article_deletion", "alternative_spelling", "misspelling")
ZERO_SHOT = ("likelihood", "logrank", "entropy", "lrr", "fast-detectgpt", "binoculars")
# RAID leaderboard (liamdugan/raid leaderboard/submissions/*/results.json, test split, all domains and
# models, no repetition penalty): TPR at 5% FPR, the threshold set per domain on clean human text
RAID_TPR_AT_5PCT = {
    "fast-detectgpt": {"none": 0.9149, "whitespace": 0.8295, "upper_lower": 0.7898, "synonym": 0.4949,
                       "misspelling": 0.8899, "number": 0.8539, "insert_paragraphs": 0.9013, "homoglyph": 0.7088,
                       "article_deletion": 0.8191, "alternative_spelling": 0.8980, "zero_width_space": 0.9941,
                       "paraphrase": None},
    "binoculars": {"none": 0.9374, "whitespace": 0.8353, "upper_lower": 0.8805, "synonym": 0.5556,
                   "misspelling": 0.9211, "number": 0.9100, "insert_paragraphs": 0.8472, "homoglyph": 0.4815,
                   "article_deletion": 0.8641, "alternative_spelling": 0.9238, "zero_width_space": 0.9866,
                   "paraphrase": None},
}


def detectors(train, augment: list, with_default: bool) -> dict:
    texts, labels = [t.text for t in train], [t.label for t in train]
    domains = [t.domain for t in train]
    common = dict(dtype=DTYPE, cache_dir=str(STATS_CACHE))
    dets = {}
    for name in ZERO_SHOT:
        dets[name] = make_detector(name, model=SCORER, **common).calibrate(texts, labels, TARGET_FPR, domains=domains)
    dets["gltr"] = make_detector("gltr", model=SCORER, **common).fit(texts, labels, TARGET_FPR, domains=domains)
    dets["tfidf"] = make_detector("tfidf").fit(texts, labels, TARGET_FPR, domains=domains)
    dets["ensemble"] = make_detector("ensemble", models=[SCORER], **common).fit(texts, labels, TARGET_FPR,
                                                                                domains=domains)
    if augment:
        a_texts, a_labels = texts + [t for t, _, _ in augment], labels + [y for _, y, _ in augment]
        a_domains = domains + [d for _, _, d in augment]
        dets["ensemble + attack augmentation"] = make_detector("ensemble", models=[SCORER], **common).fit(
            a_texts, a_labels, TARGET_FPR, domains=a_domains)
    dets["ensemble + tampering feature"] = make_detector("ensemble", models=[SCORER], tamper_feature=True,
                                                         **common).fit(texts, labels, TARGET_FPR, domains=domains)
    if with_default:
        det = load_detector("ovid:default")
        det.cache_dir = str(STATS_CACHE)
        dets["ovid:default"] = det
    return dets


ORDER = ["none", "homoglyph", "zero_width_space", "whitespace", "upper_lower", "insert_paragraphs", "number",
         "article_deletion", "alternative_spelling", "misspelling", "synonym", "paraphrase"]


def summary(csv: str) -> str:
    """Markdown tables of a results CSV: AUROC defended / undefended per detector and attack, the
    change of the defended AUROC from clean, the FPR on attacked human texts, and TPR at 5% FPR
    beside RAID's."""
    df = pd.read_csv(csv)
    out = []
    for domain, d in df.groupby("domain", sort=False):
        cols = [a for a in ORDER if a in set(d.attack)]
        for what, col in (("AUROC, defences on / off", "auroc"), ("FPR on attacked human texts at the saved "
                                                                    "threshold, defences on / off", "fpr_human_attacked")):
            on = d[d.defence == "on"].pivot_table(index="detector", columns="attack", values=col)
            off = d[d.defence == "off"].pivot_table(index="detector", columns="attack", values=col)
            out.append(f"\n{domain}: {what} (n = {int(d.n_machine.max())} machine, {int(d.n_human.max())} human)\n")
            out.append("| detector | " + " | ".join(c.replace("_", " ") for c in cols) + " |")
            out.append("| --- |" + " --- |" * len(cols))
            for det in on.index:
                cells = [f"{on.loc[det, c]:.3f}" + (f" / {off.loc[det, c]:.3f}" if det in off.index else "")
                         for c in cols]
                out.append(f"| {det} | " + " | ".join(cells) + " |")
        if "tpr_at_0.05" in d:
            out.append(f"\n{domain}: TPR at 5% FPR, defences on (RAID leaderboard, all domains, in brackets)\n")
            out.append("| detector | " + " | ".join(c.replace("_", " ") for c in cols) + " |")
            out.append("| --- |" + " --- |" * len(cols))
            on = d[d.defence == "on"].pivot_table(index="detector", columns="attack", values="tpr_at_0.05")
            for det in ("fast-detectgpt", "binoculars"):
                if det in on.index:
                    raid = RAID_TPR_AT_5PCT[det]
                    out.append(f"| {det} | " + " | ".join(
                        f"{on.loc[det, c]:.2f}" + (f" ({raid[c]:.2f})" if raid.get(c) is not None else "")
                        for c in cols) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summary", metavar="CSV", help="print the Markdown tables of a results CSV and stop")
    ap.add_argument("--domains", default="xsum,writing")
    ap.add_argument("--attacks", default=",".join(ATTACKS))
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--default", action="store_true", help="also ovid:default (Gemma 3 statistics)")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated detectors to keep (default: all)")
    ap.add_argument("--default-defended-only", action="store_true",
                    help="ovid:default with its defences on only (off needs Gemma on every raw attacked text)")
    ap.add_argument("--lm-texts", type=int, default=25,
                    help="synonym and paraphrase (minutes per text on 2 cores): the first N machine and N human texts")
    ap.add_argument("--out", default=str(HERE / "robustness.csv"))
    args = ap.parse_args()
    if args.summary:
        print(summary(args.summary))
        return
    t0 = time.perf_counter()
    attacks = [a for a in args.attacks.split(",") if a]
    lm = AttackLM(SCORER, DTYPE)
    halves = {d: split(file_texts(d, "gpt2-xl", args.pairs)) for d in args.domains.split(",")}
    train = [t for tr, _ in halves.values() for t in tr]
    # the character attacks are undone by normalisation (a copy under them is the same text once
    # folded), so augmentation uses the cheap word attacks the defences cannot undo
    augment = [] if args.no_augment else [
        (attack_text(a, t.text, None, args.seed, key=f"train|{i}", lm_model=lm).text, t.label, t.domain)
        for a in AUGMENT for i, t in enumerate(train)]
    dets = detectors(train, augment, args.default)
    if args.only:
        dets = {k: v for k, v in dets.items() if k in args.only.split(",")}
    print(f"{len(dets)} detectors ready in {time.perf_counter() - t0:.0f} s", flush=True)
    rows = []
    for domain, (_, test) in halves.items():
        machine = [t.text for t in test if t.label == 1]
        human = [t.text for t in test if t.label == 0]
        attacked = {}
        for a in attacks:
            ta = time.perf_counter()
            k = args.lm_texts if ATTACKS[a].uses == "lm" else len(machine) + len(human)
            texts = machine[:k] + human[:k]
            run = [x.text for x in attack_texts(a, texts, None, args.seed,
                                                keys=[f"{domain}|{i}" for i in range(len(texts))], lm_model=lm)]
            attacked[a] = (run[:len(machine[:k])], run[len(machine[:k]):])
            print(f"{domain} {a}: {len(run)} texts attacked in {time.perf_counter() - ta:.0f} s", flush=True)
        for label, det in dets.items():
            td = time.perf_counter()
            got = [r | {"domain": domain}
                   for r in robustness_rows(label, det, machine, human, attacked, TARGET_FPR, more_fprs=(0.05,),
                                            undefended=not (label == "ovid:default" and args.default_defended_only))]
            rows += got
            print(f"{domain} {label}: {len(got)} rows in {time.perf_counter() - td:.0f} s", flush=True)
        pd.DataFrame(rows).to_csv(args.out, index=False)  # after each domain: a partial run keeps its rows
    df = pd.DataFrame(rows)
    df.to_csv(args.out, index=False)
    meta = {"machine": describe(), "seconds": round(time.perf_counter() - t0), "pairs": args.pairs,
            "domains": args.domains.split(","), "attacks": attacks, "rates": {a: ATTACKS[a].rate for a in attacks},
            "seed": args.seed, "scorer": SCORER, "dtype": DTYPE, "target_fpr": TARGET_FPR,
            "raid_tpr_at_5pct_fpr": RAID_TPR_AT_5PCT, "command": " ".join(["python", *sys.argv])}
    Path(args.out).with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    on = df[df.defence == "on"].pivot_table(index=["domain", "detector"], columns="attack", values="auroc")
    print(on.round(3).to_string())


if __name__ == "__main__":
    main()
