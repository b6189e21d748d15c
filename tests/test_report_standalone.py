"""The report's index.html on its own: copied without its folder into an empty one (as when moved
or mailed) and opened offline in headless Chromium through Playwright, it still shows every figure
of the report, and the browser fetches nothing but the page."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from test_reports import fake_study

from ovid.reports.render import render_report

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium "
                                "(apt-get install chromium) to open the report in a browser")

# What the browser saw: every <img> (decoded size and drawn box) and every inline <svg> (drawn box).
SEEN = """() => ({
  figures: document.querySelectorAll("figure").length,
  images: Array.from(document.images).map(i => ({file: i.dataset.file || i.src.slice(0, 40), complete: i.complete,
    natural: i.naturalWidth, width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height})),
  svgs: Array.from(document.querySelectorAll("svg")).map(s => {
    const b = s.getBoundingClientRect(); return {width: b.width, height: b.height}; }),
})"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    study = fake_study(tmp_path_factory.mktemp("study"))
    render_report(study)
    return study


def test_index_html_alone_shows_every_figure(report, tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs the playwright package to drive Chromium")
    original = (report / "index.html").read_text(encoding="utf-8")
    files = sorted(p.name for p in (report / "figures").glob("*.png"))
    assert files and original.count("<figure>") == len(files)
    alone = tmp_path / "mailed"
    alone.mkdir()
    shutil.copy(report / "index.html", alone / "index.html")
    url = (alone / "index.html").as_uri()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            fetched: list[str] = []
            page.on("request", lambda r: fetched.append(r.url))
            page.goto(url, wait_until="load")
            seen = page.evaluate(SEEN)
        finally:
            browser.close()

    assert [u for u in fetched if u != url and not u.startswith("data:")] == []
    drawn = len(seen["images"]) + len(seen["svgs"])
    assert seen["figures"] == drawn == len(files), seen
    assert all(i["complete"] and i["natural"] > 0 and i["width"] > 0 and i["height"] > 0
               for i in seen["images"]), seen["images"]
    assert all(s["width"] > 0 and s["height"] > 0 for s in seen["svgs"]), seen["svgs"]
    assert sorted(Path(i["file"]).name for i in seen["images"]) == files
    # and the report's Markdown still links the same figure files beside it
    md = (report / "report.md").read_text(encoding="utf-8")
    assert sorted(Path(m).name for m in re.findall(r"\]\((figures/[^)]+)\)", md)) == files
