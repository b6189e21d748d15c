"""Rendering: a study's result files (the contract in reports/schema.py) as an HTML page, a
Markdown file and PNG figures. Reads and renders only; no metric is computed here."""
from .data import ReportDataError
from .report import render_report

__all__ = ["ReportDataError", "render_report"]
