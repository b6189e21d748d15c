"""`render_report`: a study folder's result files in, index.html + report.md + figures out."""
from __future__ import annotations

from pathlib import Path

from ovid.atomic import atomic_open

from .blocks import Block, Figure
from .data import StudyData, load_study
from .detection_sections import detection_blocks, roc_blocks, summary_blocks, transfer_blocks
from .html_page import render_html
from .markdown_page import render_markdown
from .mixed_sections import mixed_blocks
from .robustness_sections import robustness_blocks
from .study_sections import gltr_blocks, memorization_blocks, reproducibility_blocks
from .watermark_sections import watermark_blocks

FIGURES = "figures"


def report_blocks(data: StudyData, figures_dir: Path) -> list[Block]:
    """Every block of the report, in page order; writes the figures into `figures_dir`."""
    return (summary_blocks(data) + detection_blocks(data, figures_dir) + robustness_blocks(data, figures_dir)
            + watermark_blocks(data, figures_dir) + mixed_blocks(data) + transfer_blocks(data, figures_dir)
            + roc_blocks(data, figures_dir)
            + gltr_blocks(data) + memorization_blocks(data, figures_dir)
            + reproducibility_blocks(data))


def render_report(study_dir: str | Path) -> Path:
    """Write `study_dir`/index.html and `study_dir`/report.md (same content) and the figures as PNG
    files in `study_dir`/figures/, from the study's tables and study.json. Returns index.html's
    path. The page embeds every figure, so it stands alone; report.md links the files.

    A missing table is skipped with a one-line note; a present table with a missing column
    raises `ReportDataError` naming the file and the column.
    """
    data = load_study(study_dir)
    figures_dir = data.study_dir / FIGURES
    figures_dir.mkdir(exist_ok=True)
    blocks = report_blocks(data, figures_dir)
    name = (data.study or {}).get("name") or data.study_dir.resolve().name
    title = f"Detection and memorization report: {name}"
    intro = ("Every number below is read from the study's files in tables/ and study.json; "
             "each table and figure links to its CSV.")
    images = {b.src: (data.study_dir / b.src).read_bytes() for b in blocks if isinstance(b, Figure)}
    index = data.study_dir / "index.html"
    with atomic_open(index, "w", encoding="utf-8") as f:
        f.write(render_html(title, intro, blocks, images))
    markdown = data.study_dir / "report.md"
    with atomic_open(markdown, "w", encoding="utf-8") as f:
        f.write(render_markdown(title, intro, blocks))
    for page in (index, markdown):
        page.chmod(0o644)  # the atomic temp file is private (0600); a report is meant to be shared
    return index
