"""Report blocks for the detection study: the summary, the detection table and its figures.

Values are formatted and sorted for display here; every number comes from a study table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import fmt, plots
from .blocks import Block, Figure, Heading, Note, Paragraph, Table
from .data import StudyData

TABLES_LINK = "tables/"  # relative link from index.html / report.md to the CSV files
FIGURES_LINK = "figures/"


def present(data: StudyData, name: str, what: str) -> pd.DataFrame | Note:
    """The table `name`, or a one-line note saying why `what` is left out."""
    df = data.table(name)
    if df is None:
        return Note(f"No {name} in this study: {what} left out.")
    if df.empty:
        return Note(f"{name} has no rows: {what} left out.")
    return df


def figure_from_table(data: StudyData, table: str, what: str, plot, figures_dir: Path, png: str,
                      title: str, caption: str) -> Block:
    """Plot `table` with `plot(df, path)` into a Figure linking the table, or the note saying why
    it is missing."""
    df = present(data, table, what)
    if isinstance(df, Note):
        return df
    plot(df, figures_dir / png)
    return Figure(FIGURES_LINK + png, title, caption, TABLES_LINK + table)


def target_fpr(data: StudyData) -> float | None:
    """The FPR the study fixed its thresholds at (summary.csv, else study.json)."""
    summary = data.table("summary.csv")
    if summary is not None and summary.target_fpr.notna().any():
        return float(summary.target_fpr.dropna().iloc[0])
    value = (data.study or {}).get("target_fpr")
    return float(value) if value is not None else None


def exact_rates(data: StudyData) -> bool:
    """Whether the study's rate intervals (TPR, accuracy) are exact (Clopper-Pearson). They came
    with detection.csv's FPR interval; a study from before bootstrapped every interval."""
    detection = data.table("detection.csv")
    return detection is not None and detection.fpr_lo.notna().any()


def rate_ci(data: StudyData) -> str:
    """The bracket header of a rate column: which interval it is."""
    return "exact 95% CI" if exact_rates(data) else "bootstrap 95% CI"


def bootstrap_resamples(data: StudyData) -> str:
    """ "1000 resamples" from the study's configuration, or "" if it does not say."""
    n = (((data.study or {}).get("config") or {}).get("study") or {}).get("bootstrap")
    return f"{n} resamples" if isinstance(n, int) else ""


def ngram_n(data: StudyData) -> int:
    return int(((data.study or {}).get("memorization") or {}).get("n", 8))


def overlap_order(group: str) -> int:
    """Memorised control first, held-out human last, model samples between."""
    g = group.lower()
    return 0 if "memoris" in g or "memoriz" in g else 2 if "human" in g else 1


def summary_blocks(data: StudyData) -> list[Block]:
    """The one-screen answer: per model and decoding, the best detector at the target FPR."""
    blocks: list[Block] = [Heading("Summary", 2, "summary")]
    summary = present(data, "summary.csv", "the summary")
    fpr, n = target_fpr(data), ngram_n(data)
    if isinstance(summary, Note):
        blocks.append(summary)
    else:
        interval = ("its exact (Clopper-Pearson) 95% interval" if exact_rates(data)
                    else "its 95% percentile bootstrap interval")
        blocks.append(Paragraph(
            f"Per model and decoding, the detector that catches the most machine texts while "
            f"flagging at most {fmt.fpr(fpr)} of held-out human texts; in brackets {interval} "
            "of the share caught."))
        rows = summary.sort_values(["params", "model", "decoding"], kind="stable")
        blocks.append(Table(
            "summary",
            ["model", "parameters", "decoding", "best detector", f"TPR at FPR {fmt.fpr(fpr)} [{rate_ci(data)}]",
             "AUROC", f"median {n}-gram overlap"],
            [[r.model, fmt.params(r.params), r.decoding, r.best_detector,
              fmt.with_ci(r.tpr, r.tpr_lo, r.tpr_hi), fmt.num(r.auroc), fmt.share(r.median_overlap)]
             for r in rows.itertuples()],
            csv=TABLES_LINK + "summary.csv", numeric=frozenset({1, 4, 5, 6})))
    overlap = data.table("overlap_summary.csv")
    if overlap is not None and not overlap.empty:
        ordered = sorted(overlap.itertuples(), key=lambda r: overlap_order(r.group))
        parts = [f"{r.group}: median {fmt.share(r.median)}, {fmt.share(r.share_above_50)} of "
                 f"documents above 50%" for r in ordered]
        blocks.append(Paragraph(f"{n}-gram overlap with the reference corpus — " + "; ".join(parts) + "."))
    return blocks


def detection_order(detection: pd.DataFrame) -> pd.DataFrame:
    """The detection table's rows in display order: by model size, model, decoding, corpus, and
    the best detector first."""
    return detection.sort_values(["params", "model", "decoding", "corpus", "tpr"],
                                 ascending=[True, True, True, True, False], kind="stable")


def detection_table(data: StudyData, detection: pd.DataFrame) -> Table:
    rows = detection_order(detection)
    n_train = rows["n_train"] if "n_train" in rows else pd.Series([None] * len(rows), index=rows.index)
    rate = rate_ci(data)
    resamples = bootstrap_resamples(data)
    if exact_rates(data):
        intervals = ("Brackets: 95% intervals, exact (Clopper-Pearson) for TPR, FPR and accuracy, which count "
                     "texts (0 of 50 reads [0.00, 0.07], never a certain 0), and percentile bootstrap"
                     + (f" ({resamples})" if resamples else "") + " for AUROC and F1.")
    else:
        intervals = ("Brackets: 95% percentile bootstrap intervals; this study predates exact intervals for "
                     "rates, so a rate of 0 of n reads [0.00, 0.00] — run the study again for exact ones.")
    return Table(
        "detection",
        ["detector", "trained on (texts)", "corpus", "model", "parameters", "decoding", "texts (human / machine)",
         "AUROC [bootstrap 95% CI]", f"TPR [{rate}]", f"FPR [{rate}]", f"accuracy [{rate}]",
         "F1 [bootstrap 95% CI]", "threshold"],
        [[r.detector, fmt.count(n), r.corpus, r.model, fmt.params(r.params), r.decoding,
          f"{fmt.count(r.n_human)} / {fmt.count(r.n_machine)}", fmt.with_ci(r.auroc, r.auroc_lo, r.auroc_hi),
          fmt.with_ci(r.tpr, r.tpr_lo, r.tpr_hi), fmt.with_ci(r.fpr, r.fpr_lo, r.fpr_hi, 3),
          fmt.with_ci(r.accuracy, r.accuracy_lo, r.accuracy_hi), fmt.with_ci(r.f1, r.f1_lo, r.f1_hi),
          fmt.MISSING if fmt.is_missing(r.threshold) else f"{r.threshold:.4g}"]
         for r, n in zip(rows.itertuples(), n_train)],
        caption="Held-out machine texts of each corpus against held-out human texts. " + intervals
                + " \"Trained on\": the texts that fitted (or, for a zero-shot detector, calibrated) the "
                "detector — a classifier fitted on a few dozen texts says little about what the same method "
                "does with thousands.",
        csv=TABLES_LINK + "detection.csv", numeric=frozenset(range(4, 13)) - {5} | {1})


def fpr_domain_table(fpr: pd.DataFrame) -> Table:
    return Table(
        "fpr-by-domain",
        ["detector", "domain", "human texts", "FPR [exact 95% CI]", "threshold"],
        [[r.detector, r.domain, fmt.count(r.n_human), fmt.with_ci(r.fpr, r.fpr_lo, r.fpr_hi, 3),
          fmt.MISSING if fmt.is_missing(r.threshold) else f"{r.threshold:.4g}"] for r in fpr.itertuples()],
        caption="Share of each domain's held-out human texts flagged as machine-written at the detector's "
                "threshold: a detector keeps its promise only if every domain stays near the target FPR.",
        csv=TABLES_LINK + "fpr_by_domain.csv", numeric=frozenset({2, 3, 4}))


def detection_blocks(data: StudyData, figures_dir: Path) -> list[Block]:
    """The detection table, the same rates as a dot plot, and detection rate against model size."""
    blocks: list[Block] = [Heading("Detection", 2, "detection")]
    detection = present(data, "detection.csv", "the detection table and size plot")
    if isinstance(detection, Note):
        blocks.append(detection)
    else:
        fpr = target_fpr(data)
        interval = "exact (Clopper-Pearson)" if exact_rates(data) else "percentile bootstrap"
        blocks.append(detection_table(data, detection))
        plots.plot_detection_rates(detection_order(detection), figures_dir / "detection_rates.png", fpr)
        blocks.append(Figure(
            FIGURES_LINK + "detection_rates.png", "TPR at the target FPR per detector and corpus, with 95% intervals",
            f"The table's TPR at FPR {fmt.fpr(fpr)}, one row per detector and corpus in the table's order; the "
            f"bar is its {interval} 95% interval.", TABLES_LINK + "detection.csv"))
        by_domain = data.table("fpr_by_domain.csv")
        if by_domain is not None and not by_domain.empty:
            blocks.append(Heading("False positives by domain", 3, "fpr-by-domain"))
            blocks.append(fpr_domain_table(by_domain))
        blocks.append(Heading("Detection rate against model size", 3, "size"))
        if detection.params.notna().any():
            plots.plot_detection_vs_size(detection, figures_dir / "detection_vs_size.png", fpr)
            blocks.append(Figure(
                FIGURES_LINK + "detection_vs_size.png", "TPR at the target FPR against model size",
                f"TPR at FPR {fmt.fpr(fpr)} with {interval} 95% intervals, one line per decoding.",
                TABLES_LINK + "detection.csv"))
        else:
            blocks.append(Note("No corpus has a parameter count, so there is no size plot."))
    return blocks


def transfer_blocks(data: StudyData, figures_dir: Path) -> list[Block]:
    """Cross-size transfer heat map and detection against text length."""
    blocks: list[Block] = [Heading("Cross-size transfer", 2, "cross-size")]
    blocks.append(figure_from_table(
        data, "cross_size.csv", "the cross-size transfer part", plots.plot_cross_size, figures_dir,
        "cross_size.png", "AUROC heat map: trained on one corpus, tested on another",
        "AUROC of a detector trained on the row's corpus and tested on the column's; "
        "both ordered by model size."))
    blocks.append(Heading("Text length", 2, "length"))
    blocks.append(figure_from_table(
        data, "length.csv", "the text-length part", plots.plot_length, figures_dir, "length.png",
        "AUROC against text length", "Human and machine texts truncated to the same number of tokens."))
    return blocks


def roc_blocks(data: StudyData, figures_dir: Path) -> list[Block]:
    """ROC curves on a log false-positive axis."""
    blocks: list[Block] = [Heading("ROC curves", 2, "roc")]
    roc = present(data, "roc.csv", "the ROC curves")
    if isinstance(roc, Note):
        blocks.append(roc)
    else:
        detection = data.table("detection.csv")
        n_human = None if detection is None or detection.n_human.isna().all() else detection.n_human.max()
        plots.plot_roc(roc, figures_dir / "roc.png", None if n_human is None else int(n_human),
                       target_fpr(data))
        blocks.append(Figure(
            FIGURES_LINK + "roc.png", "ROC curves on a log false-positive axis",
            "All machine corpora pooled against the human test texts; log FPR axis.",
            TABLES_LINK + "roc.csv"))
    return blocks
