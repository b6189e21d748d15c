"""Report blocks for a study's [watermark] section: detectability against length and under each
attack (figures, then the table), the quality cost, and the post-hoc detectors on the same
samples."""
from __future__ import annotations

from pathlib import Path

from ovid.watermark.config import TEST

from . import fmt, plots
from .blocks import Block, Figure, Heading, Note, Table
from .data import StudyData
from .detection_sections import FIGURES_LINK, TABLES_LINK


def watermark_level(data: StudyData) -> float | None:
    section = ((data.study or {}).get("config") or {}).get("watermark") or {}
    return section.get("fpr", TEST.alpha)


def watermark_blocks(data: StudyData, figures_dir: Path) -> list[Block]:
    df = data.table("watermark.csv")
    if df is None:  # the study has no [watermark] section
        return []
    blocks: list[Block] = [Heading("Watermarks", 2, "watermark")]
    if df.empty:
        return blocks + [Note("watermark.csv has no rows: the watermark section is left out.")]
    level = watermark_level(data)
    plots.plot_watermark_length(df, figures_dir / "watermark_length.png")
    blocks.append(Figure(
        FIGURES_LINK + "watermark_length.png", "Watermark detection against text length",
        f"Share of the watermarked samples whose exact p-value is below {level:g} (solid), and of the plain "
        f"samples of the same prompts (dashed: the false positives; the test promises at most {level:g}), "
        "each cut to the first N tokens.", TABLES_LINK + "watermark.csv"))
    if (df.attack != "none").any():
        plots.plot_watermark_attacks(df, figures_dir / "watermark_attacks.png")
        blocks.append(Figure(
            FIGURES_LINK + "watermark_attacks.png", "Watermark detection under attack",
            f"Share of the watermarked samples still found at p < {level:g} after each attack (uncut samples).",
            TABLES_LINK + "watermark.csv"))
    rows = [[r.model, r.scheme, r.attack, r.level, str(int(r.length)), str(int(r.n)),
             fmt.with_ci(r.tpr, r.tpr_lo, r.tpr_hi, 3), fmt.with_ci(r.fpr_plain, r.fpr_plain_lo, r.fpr_plain_hi, 3),
             fmt.with_ci(r.fpr_human, r.fpr_human_lo, r.fpr_human_hi, 3), fmt.num(r.auroc_plain, 3),
             fmt.num(r.auroc_human, 3), fmt.num(r.median_z, 1)] for r in df.itertuples()]
    # a study from before the rates' intervals has none to show: its headers promise none
    exact = df.tpr_lo.notna().any()
    ci = " [exact 95% CI]" if exact else ""
    blocks.append(Table(
        "watermark", ["model", "scheme", "attack", "level", "tokens", "n", f"TPR at p < {level:g}{ci}",
                      f"FPR, plain{ci}", f"FPR, human{ci}", "AUROC vs plain", "AUROC vs human", "median z"], rows,
        caption="The exact one-sided test of each scheme (binomial tail; repeated n-grams counted once). TPR: "
                "watermarked samples found; FPR: plain samples of the same prompts, and the prompts' human "
                "texts after the prompt, found at the same level. AUROC: the test's z as a score. "
                + ("Brackets: exact (Clopper-Pearson) 95% intervals of the rates, which count samples: 0 of 40 "
                   "plain samples found reads [0.000, 0.088], so a few dozen samples cannot show an FPR as low as "
                   "the test's level."
                   if exact else "This study predates intervals for these rates: run it again for exact ones."),
        csv=TABLES_LINK + "watermark.csv", numeric=frozenset(range(4, 12))))
    quality = data.table("watermark_quality.csv")
    if quality is not None and not quality.empty:
        blocks.append(Table(
            "watermark-quality", ["model", "scheme", "perplexity judged by", "n", "median perplexity",
                                  "mean perplexity", "distinct-1", "distinct-2", "distinct-3", "mean words"],
            [[r.model, r.scheme, r.quality_model, str(int(r.n)), fmt.num(r.ppl_median, 1), fmt.num(r.ppl_mean, 1),
              fmt.num(r.distinct_1, 3), fmt.num(r.distinct_2, 3), fmt.num(r.distinct_3, 3), fmt.num(r.words_mean, 1)]
             for r in quality.itertuples()],
            caption="What the watermark costs: perplexity of each set under another model (lower reads as more "
                    "fluent to it), and distinct n-grams over all of the set's words (higher: more diverse). "
                    "Scheme none: the plain samples of the same prompts.",
            csv=TABLES_LINK + "watermark_quality.csv", numeric=frozenset(range(3, 10))))
    posthoc = data.table("watermark_posthoc.csv")
    if posthoc is not None and not posthoc.empty:
        blocks.append(Table(
            "watermark-posthoc", ["model", "scheme", "detector", "AUROC, watermarked", "AUROC, plain"],
            [[r.model, r.scheme, r.detector, fmt.num(r.auroc_marked, 3), fmt.num(r.auroc_plain, 3)]
             for r in posthoc.itertuples()],
            caption="The study's post-hoc detectors on the same samples (human texts after the prompt against "
                    "the watermarked and the plain samples): what a detector without the key sees.",
            csv=TABLES_LINK + "watermark_posthoc.csv", numeric=frozenset({3, 4})))
    return blocks
