"""Report blocks for GLTR colouring, the memorization study and the reproducibility footer."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from . import fmt, plots
from .blocks import GLTR_BUCKETS, Block, Details, Heading, Note, Paragraph, Table, TokenColouring
from .data import GltrExample, StudyData
from .detection_sections import TABLES_LINK, figure_from_table, ngram_n, overlap_order, present

HASH_DIGITS = 16  # enough of a sha256 to tell files apart in a table; study.json keeps all 64


def bucket_shares(examples: list[GltrExample]) -> Table:
    """Per example, the share of its tokens in each GLTR bucket (what the colours show)."""
    rows = []
    for ex in examples:
        n = len(ex.tokens)
        counts = [sum(1 for _, b in ex.tokens if b == k) for k in range(len(GLTR_BUCKETS))]
        rows.append([ex.title, ex.label, ex.source, str(n)]
                    + [fmt.share(c / n) if n else fmt.MISSING for c in counts])
    return Table("gltr-shares", ["example", "label", "source", "tokens"] + [b for b, _, _ in GLTR_BUCKETS],
                 rows, caption="Share of tokens in each rank bucket of the scoring model.",
                 numeric=frozenset(range(3, 8)), wrap=frozenset({0}))


def token_table(i: int, ex: GltrExample) -> Table:
    """Example `i`'s tokens in order with each one's bucket in words (what its colour shows)."""
    return Table(f"gltr-tokens-{i}", ["#", "token", "rank bucket"],
                 [[str(j), text.replace("\n", "\\n").replace("\t", "\\t"),
                   f"{GLTR_BUCKETS[b][0]} ({GLTR_BUCKETS[b][1]})"] for j, (text, b) in enumerate(ex.tokens, 1)],
                 caption=f"{ex.title}: each token (spaces kept, line breaks as \\n) and its rank bucket.",
                 numeric=frozenset({0}), wrap=frozenset({1}))


def gltr_blocks(data: StudyData) -> list[Block]:
    blocks: list[Block] = [Heading("GLTR token colouring", 2, "gltr")]
    if data.gltr is None:
        return blocks + [Note("No gltr_examples.json in this study: token colouring left out.")]
    if not data.gltr:
        return blocks + [Note("gltr_examples.json has no examples: token colouring left out.")]
    blocks.append(Paragraph(
        "Each token coloured by its rank under the scoring model: green top 10, yellow top 100, "
        "red top 1000, purple beyond. Machine text tends to stay green and yellow. Each token also "
        "names its bucket (hover, or a screen reader), and under each example a table lists the "
        "tokens with their buckets."))
    blocks.append(TokenColouring(data.gltr, bucket_shares(data.gltr),
                                 [token_table(i, ex) for i, ex in enumerate(data.gltr, 1)]))
    return blocks


def memorization_blocks(data: StudyData, figures_dir: Path) -> list[Block]:
    """Overlap summary, the overlap CDF (GPT-2 paper, Figure 5) and the longest copied spans."""
    n = ngram_n(data)
    blocks: list[Block] = [Heading("Memorization", 2, "memorization")]
    names = ("overlap_summary.csv", "overlap_docs.csv", "overlap_spans.csv")
    if all(data.table(name) is None for name in names):
        return blocks + [Note("No memorization part in this study (no overlap tables).")]
    mem = (data.study or {}).get("memorization") or {}
    if mem:
        blocks.append(Paragraph(
            f"Every {n}-gram of each text is looked up in a Bloom filter of the reference corpus "
            f"{mem.get('reference', '?')} ({mem.get('reference_docs', '?')} documents; filter "
            f"false-positive rate {mem.get('fpr', '?')}). The longest spans are re-checked "
            "exactly against the reference text."))
    summary = present(data, "overlap_summary.csv", "the overlap summary")
    if isinstance(summary, Note):
        blocks.append(summary)
    else:
        ordered = sorted(summary.itertuples(), key=lambda r: overlap_order(r.group))
        blocks.append(Table(
            "overlap-summary", ["group", "documents", "median", "mean", "share with 0%", "share above 50%"],
            [[r.group, fmt.count(r.n_docs), fmt.share(r.median), fmt.share(r.mean),
              fmt.share(r.share_zero), fmt.share(r.share_above_50)] for r in ordered],
            caption=f"Share of each document's {n}-grams found in the reference "
                    f"(documents with at least one {n}-gram).",
            csv=TABLES_LINK + "overlap_summary.csv", numeric=frozenset(range(1, 6))))
    blocks.append(figure_from_table(
        data, "overlap_docs.csv", "the overlap CDF", lambda df, path: plots.plot_overlap_cdf(df, path, ngram=n),
        figures_dir, "overlap_cdf.png", f"Cumulative distribution of {n}-gram overlap per group",
        "Log x axis: documents with no overlap at all are drawn at the axis floor (see its "
        "label); the curve's height there is the share with zero overlap."))
    spans = present(data, "overlap_spans.csv", "the overlapping spans")
    if isinstance(spans, Note):
        blocks.append(spans)
    else:
        blocks.append(Table(
            "overlap-spans", ["group", "document", "overlap", "span words", "span text"],
            [[r.group, r.id, fmt.share(r.overlap), fmt.count(r.span_words), r.span_text]
             for r in spans.itertuples()],
            caption="Longest span of each worst case found verbatim in the reference.",
            csv=TABLES_LINK + "overlap_spans.csv", numeric=frozenset({2, 3}), wrap=frozenset({4})))
    return blocks


def _pairs(key: str, header: list[str], mapping: Any, value: Callable[[Any], str] = str) -> Table:
    """A two-column table from a dict (or the items of a list)."""
    items = mapping.items() if isinstance(mapping, dict) else enumerate(mapping or [])
    return Table(key, header, [[str(k), value(v)] for k, v in items], wrap=frozenset({1}))


def reproducibility_blocks(data: StudyData) -> list[Block]:
    """Versions, seeds, models, data hashes and timings from study.json."""
    blocks: list[Block] = [Heading("Reproducibility", 2, "reproducibility")]
    study = data.study
    if study is None:
        return blocks + [Note("No study.json in this study: versions, seeds and hashes unknown.")]
    run = {"study": study.get("name", fmt.MISSING), "created": study.get("created", fmt.MISSING),
           "ovid version": study.get("ovid_version", fmt.MISSING),
           "target FPR": fmt.fpr(study.get("target_fpr")),
           "models": ", ".join(map(str, study.get("models") or [])) or fmt.MISSING}
    for k, v in (study.get("memorization") or {}).items():
        run[f"memorization {k}"] = str(v)
    tables = [_pairs("run", ["run", "value"], run),
              _pairs("versions", ["package", "version"], study.get("versions") or {}),
              _pairs("seeds", ["seed", "value"], study.get("seeds") or {}),
              _pairs("data-hashes", ["file", f"sha256 (first {HASH_DIGITS})"],
                     study.get("data_hashes") or {}, lambda h: str(h)[:HASH_DIGITS]),
              _pairs("timings", ["step", "time"], study.get("timings_s") or {}, fmt.seconds)]
    blocks += [t for t in tables if t.rows]
    if study.get("config"):
        blocks.append(Details("Study configuration", json.dumps(study["config"], indent=2, sort_keys=True)))
    return blocks
