"""Report blocks for mixed authorship: where each segmenting detector puts the change of author in
texts a person began and a model finished (and the reverse), and how often it flags a span of a
text a person wrote alone."""
from __future__ import annotations

from . import fmt
from .blocks import Block, Heading, Note, Paragraph, Table
from .data import StudyData
from .detection_sections import TABLES_LINK


def mixed_blocks(data: StudyData) -> list[Block]:
    df = data.table("mixed.csv")
    if df is None:  # the study asked for no mixed texts
        return []
    blocks: list[Block] = [Heading("Mixed texts", 2, "mixed")]
    if df.empty:
        return blocks + [Note("mixed.csv has no rows: no detector of this study reads a language model's tokens, "
                              "so none can say which sentences a machine wrote.")]
    span_fpr = df.span_fpr.dropna()
    promise = (f"meant to flag about {fmt.fpr(span_fpr.iloc[0])} of human spans" if len(span_fpr)
               else "whose false-positive rate is not recorded")
    mixed = df[df.kind != "human only"]
    if len(mixed):
        within = (mixed.within_1 * mixed.n_texts).sum() / mixed.n_texts.sum()
        blocks.append(Paragraph(
            f"Texts built from the held-out texts: a human opening followed by a machine text, and the reverse "
            f"(2-4 sentences each). Over all of them the predicted change of author is within one sentence of "
            f"the true one in {fmt.share(within)} of texts. Each span of at least two sentences gets a verdict at "
            f"the detector's span threshold, {promise}; the human-only rows "
            f"count held-out human texts with any span flagged."))
    rows = []
    for r in df.itertuples():
        rows.append([r.detector, r.domain, r.kind, fmt.count(r.n_texts), fmt.num(r.sentence_auroc, 3),
                     fmt.with_ci(r.within_1, r.within_1_lo, r.within_1_hi), fmt.num(r.median_error, 1),
                     fmt.with_ci(r.flagged, r.flagged_lo, r.flagged_hi)])
    blocks.append(Table(
        "mixed", ["detector", "domain", "mixture", "texts", "sentence AUROC", "boundary within 1 sentence",
                  "median error (sentences)", "texts with a span flagged"], rows,
        caption="Sentence AUROC: each sentence's posterior P(machine) against who wrote it. Boundary: the share of "
                "texts whose first predicted change of author is within one sentence of the true one. Brackets: "
                "exact (Clopper-Pearson) 95% intervals. On human-only texts, a flagged span is a false accusation.",
        csv=TABLES_LINK + "mixed.csv", numeric=frozenset({3, 4, 5, 6, 7})))
    return blocks
