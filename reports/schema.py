"""The data contract between a study run (computation) and reports/ (rendering only).

A study writes its results into DIR/tables/ as CSV (and two JSON files); reports/ reads them and
never computes a metric. Each entry: file name -> the columns it must have, in order.

Interval columns (`*_lo`, `*_hi`) are 95% intervals. A rate that counts k of n texts (TPR, FPR,
accuracy, within_1, flagged) has the exact (Clopper-Pearson) interval, which never claims more
certainty than its n allows (0 of 50 flagged: [0, 0.071]); AUROC and F1, which are no share of
texts, have the percentile bootstrap interval over the study's `bootstrap` resamples.
"""
from __future__ import annotations

TABLES: dict[str, list[str]] = {
    # one row per (detector, machine corpus): held-out test texts of that corpus vs held-out human
    "detection.csv": ["detector", "corpus", "model", "params", "decoding", "n_human", "n_machine",
                      "auroc", "auroc_lo", "auroc_hi", "tpr", "tpr_lo", "tpr_hi", "fpr", "fpr_lo", "fpr_hi",
                      "accuracy", "accuracy_lo", "accuracy_hi", "f1", "f1_lo", "f1_hi", "threshold", "n_train"],
    # per detector and domain of the held-out human texts (their "domain"/"dataset" field, else
    # their file's name): the false-positive rate at the detector's threshold
    "fpr_by_domain.csv": ["detector", "domain", "n_human", "fpr", "fpr_lo", "fpr_hi", "threshold"],
    # a trained detector fitted on corpus `train_corpus` only, tested on `test_corpus`
    "cross_size.csv": ["detector", "train_corpus", "train_params", "test_corpus", "test_params",
                       "auroc", "tpr"],
    # texts truncated to `length` tokens (scoring model's tokens; human and machine alike)
    "length.csv": ["detector", "corpus", "length", "auroc", "tpr"],
    # detection under attack (a study's [robustness] section), per detector, attack and defence
    # (on: the detector's normalisation; off: none): attacked held-out machine texts against clean
    # held-out human texts (AUROC; TPR with the threshold at the target FPR on those human scores),
    # and the held-out human texts under the same attack at the detector's saved threshold; the
    # rates' intervals are exact (Clopper-Pearson) 95%
    "robustness.csv": ["detector", "attack", "level", "defence", "n_human", "n_machine", "auroc", "tpr", "tpr_lo",
                       "tpr_hi", "fpr_human_attacked", "fpr_human_attacked_lo", "fpr_human_attacked_hi",
                       "fpr_human_clean", "fpr_human_clean_lo", "fpr_human_clean_hi", "threshold"],
    # a study's [watermark] section: per generating model and scheme, the exact test (a text is
    # marked when p < the section's fpr) on the samples cut to `length` tokens (max_tokens: uncut)
    # or under an attack (at max_tokens): TPR over the marked samples, FPR over the plain samples of
    # the same prompts and over the human texts (each with its exact Clopper-Pearson 95% interval),
    # AUROC of the test's z against each, median z
    "watermark.csv": ["model", "scheme", "attack", "level", "length", "n", "tpr", "tpr_lo", "tpr_hi", "fpr_plain",
                      "fpr_plain_lo", "fpr_plain_hi", "fpr_human", "fpr_human_lo", "fpr_human_hi", "auroc_plain",
                      "auroc_human", "median_z"],
    # the samples' quality: perplexity under another model (per text, then median and mean),
    # distinct-1/2/3 over whitespace words pooled over the set, mean words; scheme "none": plain
    "watermark_quality.csv": ["model", "scheme", "quality_model", "n", "ppl_median", "ppl_mean", "distinct_1",
                              "distinct_2", "distinct_3", "words_mean"],
    # the study's post-hoc detectors on the same samples: human texts against the marked and the
    # plain samples
    "watermark_posthoc.csv": ["model", "scheme", "detector", "auroc_marked", "auroc_plain"],
    # mixed authorship (the "Mixed texts" section), one segment model per row group: per domain of
    # the held-out human texts and kind (human-machine: a human opening, then a machine text;
    # machine-human: the reverse; "human only": the held-out human texts as they are), the sentence
    # AUROC of the posterior P(machine), the share of texts whose predicted change of author is
    # within one sentence of the true one and the median error (sentences), and the share of texts
    # with any span flagged machine at the segment model's span threshold (set to flag `span_fpr` of
    # human spans); intervals are exact (Clopper-Pearson) 95%
    "mixed.csv": ["detector", "model", "span_fpr", "domain", "kind", "n_texts", "sentence_auroc", "within_1",
                  "within_1_lo", "within_1_hi", "median_error", "flagged", "flagged_lo", "flagged_hi"],
    # ROC curve points per detector, all machine corpora pooled against the human test texts
    "roc.csv": ["detector", "fpr", "tpr"],
    # per-document 8-gram overlap with the reference corpus; group e.g. "smollm2-135m top-k",
    # "memorised control", "human (held out)"
    "overlap_docs.csv": ["group", "id", "n_ngrams", "overlap"],
    "overlap_summary.csv": ["group", "n_docs", "median", "mean", "share_zero", "share_above_50"],
    # longest overlapping spans of the worst cases, re-checked exactly against the reference text
    "overlap_spans.csv": ["group", "id", "overlap", "span_words", "span_text"],
    # the answer for a release decision: per model (and decoding), the best detector at the FPR
    "summary.csv": ["model", "params", "decoding", "best_detector", "tpr", "tpr_lo", "tpr_hi",
                    "auroc", "target_fpr", "median_overlap"],
}

# Columns a study of an earlier version may lack: read as missing values, not refused.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "detection.csv": frozenset({"n_train", "fpr_lo", "fpr_hi"}),
    "robustness.csv": frozenset({f"{rate}_{end}" for rate in ("tpr", "fpr_human_attacked", "fpr_human_clean")
                                 for end in ("lo", "hi")}),
    "watermark.csv": frozenset({f"{rate}_{end}" for rate in ("tpr", "fpr_plain", "fpr_human") for end in ("lo", "hi")}),
}

# DIR/tables/gltr_examples.json: a list of
#   {"title": str, "label": "human" | "machine", "source": str,
#    "tokens": [[token_text, bucket], ...]}   bucket 0 top-10, 1 top-100, 2 top-1000, 3 beyond
# DIR/study.json: {"name", "created", "ovid_version", "versions": {...}, "seeds": {...},
#    "models": [...], "data_hashes": {path: sha256}, "timings_s": {step: seconds},
#    "target_fpr": float, "memorization": {"n": 8, "fpr": float, "reference": str,
#    "reference_docs": int, "filter_bits": int, "filter_k": int}, "config": {the study TOML}}
GLTR_EXAMPLES = "gltr_examples.json"
STUDY_JSON = "study.json"
