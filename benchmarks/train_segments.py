"""Mixed authorship: build mixed texts from ../shared, fit the segment model, measure it on held-out articles.

    OVID_BENCH_CACHE=... python benchmarks/train_segments.py [--per-type 15] [--train-per-type 6] [--save]

Sources, per domain: the paired files of ../shared/data/modern (a human text and the machine text
written for the same source; the licensed files only, so the fitted numbers may ship) and the
GPT-2-era Fast-DetectGPT files (a human article and a model's continuation of its opening; the
continuation's sentences that repeat the opening are dropped). Every text is cut into sentences
by ovid's splitter (pysbd). Four kinds of mixed text, each from one source pair:
- human-machine: 2-6 human sentences, then 2-6 machine sentences;
- machine-human: 2-6 machine sentences, then 2-6 later human sentences;
- insert: 4-10 human sentences with a block of 2-3 machine sentences inserted inside;
- edit: 3-10 human sentences with one of them replaced by a machine sentence.
The sizes and places come from a generator seeded by (SEED, file, source key, kind): the same
mixtures every run. A mixture is held out when its source article is (ovid's split by source
text), so no held-out article was seen in fitting.

Fitting (training halves only): the sentence model on the sentences of pure human and machine
texts and of the training mixtures; the HMM's switch chance by boundary accuracy on the training
mixtures; the span model on random runs of sentences from pure texts; the threshold so that at
most 1% of each domain's training human texts has any span flagged.

Measured on held-out articles: sentence AUROC (posterior P(machine)) per domain, boundary error
on human-machine and machine-human texts, the share of human-only texts with any span flagged
(exact Clopper-Pearson intervals; also on the fairness essays), the share of machine-only texts
with a span flagged, and the cost of a segments call against a score call (same run).
Writes benchmarks/segments.json and the RESULTS.md section; --save writes
detect/shipped/segments/smollm2-135m.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import default_data  # noqa: E402
import detector_features  # noqa: E402
import modern_data  # noqa: E402

from ovid.detect.mixtures import boundary_error, join, own_sentences, sentence_labels, sentences_of  # noqa: E402
from ovid.detect.segments import (  # noqa: E402
    SHIPPED,
    Logistic,
    SegmentModel,
    group_features,
    posteriors,
    prepare,
    segment,
    sentence_features,
    viterbi,
)
from ovid.metrics import auroc, clopper_pearson, threshold_at_fpr  # noqa: E402
from ovid.splits import document_key, is_test_document  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
MODEL = "smollm2-135m"
RECIPE = "fold"
SEED = 0
TARGET_FPR = 0.01
KINDS = ("human-machine", "machine-human", "insert", "edit")
SWITCHES = (0.02, 0.05, 0.1, 0.2, 0.3)
PURE_TRAIN_PER_FILE = 60  # pure training texts per file for the sentence and span models
HUMAN_TEST_PER_DOMAIN = 40


@dataclass(frozen=True)
class Source:
    human: str
    machine: str
    domain: str
    file: str
    key: str
    test: bool


@dataclass(frozen=True)
class Mixed:
    text: str
    labels: tuple[int, ...]  # per source sentence
    pieces: tuple[tuple[int, int], ...]  # each source sentence's characters in `text`
    kind: str
    domain: str
    file: str
    key: str
    test: bool


def sources() -> list[Source]:
    out = []
    for name in modern_data.modern_files():
        if name in modern_data.UNPAIRED or name in modern_data.UNLICENSED:
            continue
        texts = modern_data.file_texts(name)
        half = len(texts) // 2
        for h, m in zip(texts[:half], texts[half:]):
            out.append(Source(h.text, m.text, h.domain, name, h.key, h.test))
    for domain in default_data.DOMAINS:
        for gen in default_data.GENERATORS:
            texts = default_data.file_texts(domain, gen, 100)
            half = len(texts) // 2  # human articles, then their continuations in the same order
            for h, m in zip(texts[:half], texts[half:]):
                key = document_key(h.text)
                out.append(Source(h.text, m.text, f"gpt2-{domain}", f"{domain}_{gen}", key,
                                  is_test_document(key, 0.5, default_data.SPLIT_SEED)))
    return out


def _rng(src: Source, kind: str) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(f"{SEED}|{src.file}|{src.key}|{kind}".encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


def mix(src: Source, kind: str) -> Mixed | None:
    """One mixed text. Machine sentences are taken from the place that lines up with the human
    sentences they join (a rewrite's sentence i paraphrases the human sentence i), so a mixture
    never says the same thing twice, and an edit replaces a sentence by the model's version of it."""
    h, m = sentences_of(src.human), own_sentences(src.machine, src.human)
    rng = _rng(src, kind)
    if len(h) < 4 or len(m) < 3:
        return None

    def machine(at: int, k: int) -> list[str]:
        return m[at:at + k] if at + k <= len(m) else m[-k:]

    if kind == "human-machine":
        a, b = int(rng.integers(2, min(6, len(h) - 1) + 1)), int(rng.integers(2, min(6, len(m)) + 1))
        parts = [(s, 0) for s in h[:a]] + [(s, 1) for s in machine(a, b)]
    elif kind == "machine-human":
        b = int(rng.integers(2, min(6, len(m), len(h) - 2) + 1))
        a = int(rng.integers(2, min(6, len(h) - b) + 1))
        parts = [(s, 1) for s in m[:b]] + [(s, 0) for s in h[b:b + a]]
    elif kind == "insert":
        n = int(rng.integers(4, min(10, len(h)) + 1))
        k = int(rng.integers(2, min(3, len(m)) + 1))
        at = int(rng.integers(1, n))
        parts = [(s, 0) for s in h[:at]] + [(s, 1) for s in machine(at, k)] + [(s, 0) for s in h[at:n]]
    else:  # edit
        n = int(rng.integers(3, min(10, len(h)) + 1))
        at = int(rng.integers(0, n))
        parts = [(s, 0) for s in h[:n]]
        parts[at] = (machine(at, 1)[0], 1)
    j = join(parts, kind, src.domain)
    return Mixed(j.text, j.labels, j.pieces, kind, src.domain, src.file, src.key, src.test)


def mixtures(srcs: list[Source], per_type: int, train_per_type: int) -> list[Mixed]:
    """Per domain and kind, the first `per_type` held-out and `train_per_type` training mixtures
    (sources in file order, files interleaved so each generator of a domain is represented)."""
    out, count = [], {}
    by_domain: dict[str, list[Source]] = {}
    for s in srcs:
        by_domain.setdefault(s.domain, []).append(s)
    for domain, group in by_domain.items():
        files = sorted({s.file for s in group})
        lanes = [[s for s in group if s.file == f] for f in files]
        order = [lane[i] for i in range(max(map(len, lanes))) for lane in lanes if i < len(lane)]
        for kind in KINDS:
            for s in order:
                want = per_type if s.test else train_per_type
                k = (domain, kind, s.test)
                if count.get(k, 0) >= want:
                    continue
                mx = mix(s, kind)
                if mx is not None:
                    out.append(mx)
                    count[k] = count.get(k, 0) + 1
    return out








# -- fitting ----------------------------------------------------------------------------------------
def pure_training_texts(srcs: list[Source]) -> list[tuple[str, int, str]]:
    out, seen = [], {}
    for s in srcs:
        if s.test or seen.get(s.file, 0) >= PURE_TRAIN_PER_FILE:
            continue
        seen[s.file] = seen.get(s.file, 0) + 1
        out += [(s.human, 0, s.domain), (s.machine, 1, s.domain)]
    return list({t: (t, lab, d) for t, lab, d in out}.values())


def random_spans(prep, labels, rng) -> tuple[list, list]:
    """One random run of sentences from each pure text, and the whole text: span features and labels."""
    X, y = [], []
    for (sents, stats, index), lab in zip(prep, labels):
        n = len(sents.original)
        if n == 0:
            continue
        a = int(rng.integers(0, n))
        b = int(rng.integers(a + 1, n + 1))
        for lo, hi in ((a, b), (0, n)):
            X.append(group_features(stats, (index >= lo) & (index < hi)))
            y.append(lab)
    return X, y


def fit_model(engine, srcs: list[Source], train_mix: list[Mixed]) -> tuple[SegmentModel, dict]:
    pure = pure_training_texts(srcs)
    prep_pure = prepare(engine, [t for t, _, _ in pure], RECIPE, progress=True)
    prep_mix = prepare(engine, [m.text for m in train_mix], RECIPE, progress=True)
    Xs, ys = [], []
    for (sents, stats, index), (_, lab, _) in zip(prep_pure, pure):
        f = sentence_features(stats, index, len(sents.original))
        Xs.append(f)
        ys.append(np.full(len(f), lab))
    mix_labels = []
    for (sents, stats, index), mx in zip(prep_mix, train_mix):
        lab = sentence_labels(mx, sents.original)
        mix_labels.append(lab)
        Xs.append(sentence_features(stats, index, len(sents.original)))
        ys.append(lab)
    sentence = Logistic.fit(np.concatenate(Xs), np.concatenate(ys))
    rng = np.random.default_rng(SEED)
    X, y = random_spans(prep_pure, [lab for _, lab, _ in pure], rng)
    span = Logistic.fit(np.array(X), np.array(y))
    # the switch chance: boundary accuracy on the training mixtures with one change of author
    best, table = None, {}
    for sw in SWITCHES:
        errs = []
        for (sents, stats, index), mx, lab in zip(prep_mix, train_mix, mix_labels):
            if mx.kind in ("human-machine", "machine-human") and len(lab):
                lo = sentence.log_odds(sentence_features(stats, index, len(sents.original)))
                errs.append(boundary_error(lab, viterbi(lo, sw)))
        table[sw] = float(np.mean(np.array(errs) <= 1))
        if best is None or table[sw] > table[best]:
            best = sw
    model = SegmentModel(model=MODEL, recipe=RECIPE, sentence=sentence, span=span, switch=best, p_start=0.5,
                         threshold=0.0, target_fpr=TARGET_FPR)
    # the threshold: at most 1% of each domain's training human texts with any span flagged
    humans = [(p, d) for p, (_, lab, d) in zip(prep_pure, pure) if lab == 0]
    worst = [max_eligible_score(segment(st, s, ix, model), model) for (s, st, ix), _ in humans]
    threshold = threshold_at_fpr(np.array(worst), TARGET_FPR, groups=[d for _, d in humans], every_group=True)
    model = replace(model, threshold=float(threshold),
                    trained_on={"pure_texts": len(pure), "mixtures": len(train_mix), "seed": SEED,
                                "files": sorted({s.file for s in srcs if not s.test}),
                                "switch_boundary_accuracy": table,
                                "data": "../shared/data: modern licensed paired files, fastdetectgpt; training halves"})
    return model, table


def max_eligible_score(seg, model: SegmentModel) -> float:
    scores = [sp.score for sp in seg.spans
              if sp.sentences >= model.min_sentences and sp.tokens >= model.min_tokens]
    return max(scores) if scores else -50.0


# -- measuring --------------------------------------------------------------------------------------
def measure(engine, model: SegmentModel, test_mix: list[Mixed], humans: list[tuple[str, str]],
            machines: list[tuple[str, str]]) -> dict:
    prep = prepare(engine, [m.text for m in test_mix], RECIPE, progress=True)
    by_domain: dict[str, dict] = {}
    for (sents, stats, index), mx in zip(prep, test_mix):
        lab = sentence_labels(mx, sents.original)
        lo = model.sentence.log_odds(sentence_features(stats, index, len(sents.original)))
        post = posteriors(lo, model.switch, model.p_start)
        d = by_domain.setdefault(mx.domain, {"labels": [], "post": [], "raw": [], "errors": [], "kinds": {}})
        d["labels"] += lab.tolist()
        d["post"] += post.tolist()
        d["raw"] += lo.tolist()
        if mx.kind in ("human-machine", "machine-human"):
            d["errors"].append(boundary_error(lab, viterbi(lo, model.switch, model.p_start)))
        k = d["kinds"].setdefault(mx.kind, {"labels": [], "post": []})
        k["labels"] += lab.tolist()
        k["post"] += post.tolist()
    rows = {}
    for dom, d in sorted(by_domain.items()):
        errs = np.array(d["errors"])
        rows[dom] = {"sentences": len(d["labels"]), "sentence_auroc": auroc(np.array(d["labels"]), np.array(d["post"])),
                     "sentence_auroc_alone": auroc(np.array(d["labels"]), np.array(d["raw"])),
                     "boundary_within_1": float(np.mean(errs <= 1)), "boundary_median_error": float(np.median(errs)),
                     "boundary_texts": len(errs),
                     "by_kind": {k: auroc(np.array(v["labels"]), np.array(v["post"])) for k, v in d["kinds"].items()
                                 if len(set(v["labels"])) == 2}}
    return {"mixtures": rows, "human_only": flagged(engine, model, humans),
            "machine_only": flagged(engine, model, machines)}


def flagged(engine, model: SegmentModel, texts: list[tuple[str, str]]) -> dict:
    """Per domain: texts with any span flagged machine, spans flagged among spans with a verdict."""
    prep = prepare(engine, [t for t, _ in texts], RECIPE, progress=True)
    out: dict[str, dict] = {}
    for (s, st, ix), (_, dom) in zip(prep, texts):
        seg = segment(st, s, ix, model)
        d = out.setdefault(dom, {"texts": 0, "any": 0, "spans": 0, "spans_flagged": 0, "one_span": 0})
        d["texts"] += 1
        d["any"] += any(sp.verdict == "machine" for sp in seg.spans)
        d["one_span"] += len(seg.spans) == 1
        judged = [sp for sp in seg.spans if sp.verdict in ("machine", "human")]
        d["spans"] += len(judged)
        d["spans_flagged"] += sum(sp.verdict == "machine" for sp in judged)
    for d in out.values():
        d["share"] = d["any"] / d["texts"]
        d["interval"] = list(clopper_pearson(d["any"], d["texts"]))
    return out


def held_out_pure(srcs: list[Source]) -> tuple[list, list]:
    humans, machines, seen = [], [], {}
    for s in srcs:
        if not s.test or seen.get(s.domain, 0) >= HUMAN_TEST_PER_DOMAIN:
            continue
        seen[s.domain] = seen.get(s.domain, 0) + 1
        humans.append((s.human, s.domain))
        machines.append((s.machine, s.domain))
    humans = list({t: (t, d) for t, d in humans}.values())
    fair = [(t.text, t.domain) for t in modern_data.fairness_texts()]
    return humans + fair, machines


def cost_ratio(rounds: int = 3, n: int = 12) -> dict:
    """A segments call against a score call on the same new texts, each with a cold cache (same run)."""
    from ovid import load_detector

    det = load_detector("ovid:default")
    srcs = [s for s in sources() if s.test][:n * rounds * 2]
    ratios = []
    for r in range(rounds):
        a = [s.human + f" ({r}a)" for s in srcs[r * 2 * n:(r * 2 + 1) * n]]
        b = [s.human + f" ({r}b)" for s in srcs[(r * 2 + 1) * n:(r * 2 + 2) * n]]
        t0 = time.perf_counter()
        det.decision_function(a)
        t1 = time.perf_counter()
        det.segments(b)
        t2 = time.perf_counter()
        ratios.append((t2 - t1) / (t1 - t0))
    return {"ratios": ratios, "median": float(np.median(ratios)), "texts_per_call": n}


START, END = "<!-- segments:start (train_segments.py writes this section) -->", "<!-- segments:end -->"


def results_section(r: dict) -> str:
    mixed = r["mixtures"]
    mean_auc = np.mean([d["sentence_auroc"] for d in mixed.values()])
    mean_bnd = np.mean([d["boundary_within_1"] for d in mixed.values()])
    all_err = np.median([d["boundary_median_error"] for d in mixed.values()])
    m = r["machine"]
    where = (f"{m['cpu']}, {m['cores']} cores, AVX512-BF16 {'yes' if m['avx512_bf16'] else 'no'}, "
             f"AMX {'yes' if m['amx_bf16'] else 'no'}, torch {m['torch']}")
    lines = [START, "## Mixed authorship: which sentences a machine wrote (`ovid score --segments`)", "",
             f"`OVID_BENCH_CACHE=... {r['command']}` on {where}. Segment model for SmolLM2-135M "
             f"(float32, `fold`), fitted on the training halves; {r['training_mixtures']} training and "
             f"{r['held_out_mixtures']} held-out mixtures (human-machine, machine-human, a machine block "
             "inserted, one sentence replaced) from the shared files; every figure below is on held-out "
             f"articles. HMM switch chance {r['model']['switch']}, span threshold {r['model']['threshold']:.3f} "
             "(log-odds).", "",
             f"**Sentence AUROC (posterior P(machine)) mean {mean_auc:.3f}; boundary within one sentence "
             f"{mean_bnd:.1%} of human-machine and machine-human texts (median of the domains' median errors: "
             f"{all_err:.1f} sentences).** The targets are 0.90 and 70%: this model, five per-sentence statistics, "
             "is far from them; the statistics of one sentence say little on their own.", "",
             "| domain | sentences | sentence AUROC | alone (no HMM) | human-machine | machine-human | insert | edit "
             "| boundary within 1 | median error |", "|---|---|---|---|---|---|---|---|---|---|"]
    for dom, d in mixed.items():
        k = d["by_kind"]
        lines.append(f"| {dom} | {d['sentences']} | {d['sentence_auroc']:.3f} | {d['sentence_auroc_alone']:.3f} | "
                     + " | ".join(f"{k[x]:.3f}" if x in k else "-" for x in KINDS)
                     + f" | {d['boundary_within_1']:.0%} ({d['boundary_texts']}) | {d['boundary_median_error']:.1f} |")
    lines += ["", "Human-only held-out texts: texts with any span flagged machine (the promise: at most 1%; "
              "95% Clopper-Pearson interval), and machine-only texts with a span flagged.", "",
              "| domain | human texts flagged | interval | one span | machine texts flagged |", "|---|---|---|---|---|"]
    for dom, d in r["human_only"].items():
        m = r["machine_only"].get(dom)
        lo, hi = d["interval"]
        lines.append(f"| {dom} | {d['any']}/{d['texts']} | [{lo:.3f}, {hi:.3f}] | {d['one_span']} | "
                     + (f"{m['any']}/{m['texts']} |" if m else "- |"))
    h = sum(d["any"] for d in r["human_only"].values()), sum(d["texts"] for d in r["human_only"].values())
    lo, hi = clopper_pearson(*h)
    lines += ["", f"All human texts: {h[0]}/{h[1]} with a span flagged, interval [{lo:.3f}, {hi:.3f}]."]
    if "cost" in r:
        c = r["cost"]
        rounds = ", ".join(f"{x:.2f}" for x in c["ratios"])
        lines += ["", f"Cost: a segments call against a score call on {c['texts_per_call']} new texts each "
                  f"(cold caches, same run): median {c['median']:.2f}x over rounds {rounds}."]
    return "\n".join(lines + [END]) + "\n"


def write_results(r: dict) -> None:
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    section = results_section(r)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1].lstrip("\n")
    else:
        title, _, body = text.partition("\n\n")
        text = title + "\n\n" + section + "\n" + body
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-type", type=int, default=15)
    ap.add_argument("--train-per-type", type=int, default=6)
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--cost", action="store_true", help="also time segments against score (needs the saved model)")
    ap.add_argument("--cost-only", action="store_true", help="time segments against score, add it to segments.json")
    ap.add_argument("--results-only", action="store_true", help="rewrite the RESULTS.md section from segments.json")
    args = ap.parse_args()
    if args.results_only or args.cost_only:
        result = json.loads((HERE / "segments.json").read_text())
        if args.cost_only:
            result["cost"] = cost_ratio()
            (HERE / "segments.json").write_text(json.dumps(result, indent=1) + "\n")
        write_results(result)
        return
    engine = detector_features.engine_for(MODEL)
    srcs = sources()
    mixed = mixtures(srcs, args.per_type, args.train_per_type)
    train_mix, test_mix = [m for m in mixed if not m.test], [m for m in mixed if m.test]
    print(f"{len(srcs)} source pairs; {len(train_mix)} training and {len(test_mix)} held-out mixtures", flush=True)
    model, _ = fit_model(engine, srcs, train_mix)
    if args.save:
        SHIPPED.mkdir(parents=True, exist_ok=True)
        (SHIPPED / f"{MODEL}.json").write_text(model.to_json(), encoding="utf-8")
    humans, machines = held_out_pure(srcs)
    result = measure(engine, model, test_mix, humans, machines)
    result.update(model={"switch": model.switch, "threshold": model.threshold}, machine=describe(),
                  command="python benchmarks/train_segments.py " + " ".join(sys.argv[1:]),
                  held_out_mixtures=len(test_mix), training_mixtures=len(train_mix))
    if args.cost:
        result["cost"] = cost_ratio()
    (HERE / "segments.json").write_text(json.dumps(result, indent=1) + "\n")
    write_results(result)
    mixed_rows = result["mixtures"]
    shared = [r for d, r in mixed_rows.items()]
    print(f"sentence AUROC mean {np.mean([r['sentence_auroc'] for r in shared]):.3f}; boundary within 1: "
          f"{np.mean([r['boundary_within_1'] for r in shared]):.3f}")
    for d, r in mixed_rows.items():
        print(f"{d:18s} sentence AUROC {r['sentence_auroc']:.3f} (alone {r['sentence_auroc_alone']:.3f}) "
              f"boundary<=1 {r['boundary_within_1']:.2f} median {r['boundary_median_error']:.1f}  {r['by_kind']}")
    for d, r in result["human_only"].items():
        print(f"human {d:28s} any span flagged {r['any']}/{r['texts']} one span {r['one_span']}")
    for d, r in result["machine_only"].items():
        print(f"machine {d:26s} any span flagged {r['any']}/{r['texts']}")


if __name__ == "__main__":
    main()
