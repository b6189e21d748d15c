"""Reports: render a study's result files (the contract in `ovid.study_tables`) as an HTML page
and a Markdown file with figures. Reads and renders only; no metric is computed here."""
from .data import ReportDataError
from .render import render_report

__all__ = ["ReportDataError", "render_report"]
