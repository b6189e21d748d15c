"""The README's picture of `ovid serve`'s page: the shipped detector on a GPT-2-XL continuation of
an XSum article (from the shared Fast-DetectGPT data), in headless Chromium.

    python benchmarks/serve_screenshot.py        # -> docs/serve-page.png; prints /v1/score's answer
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from bench_serve import DATA, Server
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "serve-page.png"


def main() -> None:
    text = json.loads((DATA / "xsum_gpt2-xl.raw_data.json").read_text())["sampled"][3]
    (ROOT / "benchmarks" / ".cache").mkdir(exist_ok=True)
    server = Server(["--detector", "ovid:default", "--no-warm-up"], ROOT / "benchmarks" / ".cache" / "screenshot.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1000, "height": 900}, device_scale_factor=1)
            page.goto(server.url + "/")
            page.wait_for_selector("#detector option", state="attached")
            page.fill("#text", text)
            page.click("#check")
            # a locator, not wait_for_function: the page's Content-Security-Policy refuses evaluated strings
            expect(page.locator("#status")).to_have_text(re.compile(r"^Done"), timeout=300_000)
            OUT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(OUT), full_page=True)
            print(f"{OUT}: verdict {page.text_content('#verdict')!r}", file=sys.stderr)
            import httpx  # the README's curl example: the same text through the API

            short = " ".join(text.split()[:60])
            answer = httpx.post(server.url + "/v1/score", json={"texts": [short]}, timeout=300).json()
            print(json.dumps(answer, indent=1))
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
