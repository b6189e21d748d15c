"""reports/: a fake study folder with the contract's exact columns, rendered to HTML + Markdown,
checked as files and (when /usr/bin/chromium exists) in a headless browser."""
from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ovid.metrics import clopper_pearson
from ovid.reports.render import ReportDataError, render_report
from ovid.reports.render.blocks import GLTR_BUCKETS
from ovid.reports.render.detection_sections import detection_order
from ovid.reports.render.markdown_page import md_escape
from ovid.reports.render.plots import detection_rates_figure, length_figure, plot_detection_vs_size, roc_figure
from ovid.reports.schema import TABLES
from ovid.reports.study.statistics import detection_metrics

CHROMIUM = Path("/usr/bin/chromium")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = {"detection_rates.png", "detection_vs_size.png", "cross_size.png", "length.png", "roc.png", "overlap_cdf.png",
           "robustness.png", "watermark_length.png", "watermark_attacks.png"}
MODELS = {"smollm2-135m": 135e6, "gemma3-270m": 268e6}
DECODINGS = {"top-k": "k40", "pure": "pure"}
DETECTORS = ["fast-detectgpt", "binoculars", "gltr"]
SPAN = 'the <b>bold</b> claim & a | pipe\nover two lines'


def write_table(tables: Path, name: str, rows: list[dict]) -> None:
    df = pd.DataFrame(rows)
    assert list(df.columns) == TABLES[name], name  # the fixture speaks the contract exactly
    df.to_csv(tables / name, index=False)


def exact(name: str, k: int, n: int) -> dict[str, float]:
    """A rate's columns as a study writes them: k/n and its exact 95% interval."""
    lo, hi = clopper_pearson(k, n)
    return {name: k / n, f"{name}_lo": lo, f"{name}_hi": hi}


def fake_study(root: Path) -> Path:
    """A small but realistic study folder: 2 models x 2 decodings x 3 detectors."""
    rng = np.random.default_rng(0)
    tables = root / "tables"
    tables.mkdir(parents=True)
    detection, summary = [], []
    for model, params in MODELS.items():
        for decoding, tag in DECODINGS.items():
            corpus = f"{model}-{tag}"
            for i, det in enumerate(DETECTORS):
                tpr = 0.6 + 0.1 * i + (0.1 if decoding == "pure" else 0) - params / 4e9
                auroc = min(0.99, tpr + 0.15)
                detection.append({
                    "detector": det, "corpus": corpus, "model": model, "params": params,
                    "decoding": decoding, "n_human": 200, "n_machine": 200,
                    "auroc": auroc, "auroc_lo": auroc - 0.03, "auroc_hi": min(1, auroc + 0.02),
                    "tpr": tpr, "tpr_lo": tpr - 0.06, "tpr_hi": tpr + 0.05, "fpr": 0.01, "fpr_lo": 0.0012,
                    "fpr_hi": 0.0357,
                    "accuracy": (1 + tpr) / 2 - 0.01, "accuracy_lo": 0.7, "accuracy_hi": 0.9,
                    "f1": tpr, "f1_lo": tpr - 0.05, "f1_hi": tpr + 0.04, "threshold": -1.234 + i,
                    "n_train": 26 if det == "gltr" else 1480})
            summary.append({"model": model, "params": params, "decoding": decoding,
                            "best_detector": "gltr", "tpr": detection[-1]["tpr"],
                            "tpr_lo": detection[-1]["tpr_lo"], "tpr_hi": detection[-1]["tpr_hi"],
                            "auroc": detection[-1]["auroc"], "target_fpr": 0.01,
                            "median_overlap": 0.0123})
    summary[0].update(tpr=0.913, tpr_lo=0.852, tpr_hi=0.961, auroc=0.974)  # pinned in a test
    write_table(tables, "detection.csv", detection)
    write_table(tables, "fpr_by_domain.csv", [
        {"detector": det, "domain": dom, "n_human": n, "fpr": f, "fpr_lo": f / 2, "fpr_hi": 2 * f + 0.01,
         "threshold": -1.234 + i} for i, det in enumerate(DETECTORS)
        for dom, n, f in (("xsum", 120, 0.0083), ("pubmed", 40, 0.025))])
    write_table(tables, "summary.csv", summary)
    k40 = [(f"{m}-k40", p) for m, p in MODELS.items()]
    write_table(tables, "cross_size.csv", [
        {"detector": "gltr", "train_corpus": a, "train_params": pa, "test_corpus": b,
         "test_params": pb, "auroc": 0.95 if a == b else 0.81, "tpr": 0.7 if a == b else 0.4}
        for a, pa in k40 for b, pb in k40])
    write_table(tables, "length.csv", [
        {"detector": det, "corpus": "smollm2-135m-k40", "length": n,
         "auroc": 0.55 + 0.1 * np.log2(n / 16) + 0.03 * i, "tpr": 0.1 * np.log2(n)}
        for i, det in enumerate(DETECTORS) for n in (16, 32, 64, 128)])
    roc = []
    for i, det in enumerate(DETECTORS):
        fpr = np.r_[0.0, 0.005, np.sort(rng.uniform(0.01, 1, 12)), 1.0]
        roc += [{"detector": det, "fpr": f, "tpr": min(1.0, f ** (0.2 + 0.1 * i) if f else 0.3)}
                for f in fpr]
    write_table(tables, "roc.csv", roc)
    write_table(tables, "robustness.csv", [
        {"detector": det, "attack": a, "level": lvl, "defence": d, "n_human": 50, "n_machine": 50,
         "auroc": 0.9 - (0.0 if d == "on" or a == "none" else 0.25) - 0.01 * i, **exact("tpr", 25, 50),
         **exact("fpr_human_attacked", 0 if d == "on" else 20, 50), **exact("fpr_human_clean", 0, 50),
         "threshold": 1.0}
        for i, det in enumerate(DETECTORS) for d in ("on", "off")
        for a, lvl in (("none", "none"), ("homoglyph", "character"), ("synonym", "word"))])
    write_table(tables, "watermark.csv", [
        {"model": m, "scheme": sc, "attack": a, "level": lvl, "length": n, "n": 64,
         **exact("tpr", round(64 * min(1.0, n / 128) * (0.5 if a == "paraphrase" else 1.0)), 64),
         **exact("fpr_plain", 0, 64), **exact("fpr_human", 0, 64), "auroc_plain": 0.99, "auroc_human": 0.995,
         "median_z": n / 16}
        for m in MODELS for sc in ("kgw", "synthid")
        for a, lvl, lengths in (("none", "none", (16, 64, 256)), ("paraphrase", "paraphrase", (256,)))
        for n in lengths])
    write_table(tables, "mixed.csv", [
        {"detector": "ovid:default", "model": "smollm2-135m", "span_fpr": 0.01, "domain": d, "kind": k,
         "n_texts": 10, "sentence_auroc": 0.7, "within_1": w, "within_1_lo": lo, "within_1_hi": hi,
         "median_error": 2.0, "flagged": 0.3, "flagged_lo": 0.067, "flagged_hi": 0.652}
        for d in ("xsum", "writing") for k, w, lo, hi in (("human-machine", 0.2, 0.025, 0.556),
                                                           ("machine-human", 0.1, 0.003, 0.445))]
        + [{"detector": "ovid:default", "model": "smollm2-135m", "span_fpr": 0.01, "domain": "xsum",
            "kind": "human only", "n_texts": 12, "flagged": 0.0, "flagged_lo": 0.0, "flagged_hi": 0.265}])
    write_table(tables, "watermark_quality.csv", [
        {"model": m, "scheme": sc, "quality_model": "gemma3-270m", "n": 64, "ppl_median": 20.0 + i,
         "ppl_mean": 25.0 + i, "distinct_1": 0.6, "distinct_2": 0.9, "distinct_3": 0.97, "words_mean": 180.0}
        for m in MODELS for i, sc in enumerate(("none", "kgw", "synthid"))])
    write_table(tables, "watermark_posthoc.csv", [
        {"model": m, "scheme": sc, "detector": "gltr", "auroc_marked": 0.8125, "auroc_plain": 0.85}
        for m in MODELS for sc in ("kgw", "synthid")])
    groups = {"memorised control": [0.98, 1.0, 0.99], "smollm2-135m top-k": [0.0, 0.0, 0.01, 0.2],
              "human (held out)": [0.0, 0.005, 0.03]}
    docs = [{"group": g, "id": f"{g[:5]}-{j}", "n_ngrams": 120, "overlap": o}
            for g, ov in groups.items() for j, o in enumerate(ov)]
    docs.append({"group": "human (held out)", "id": "short", "n_ngrams": 0, "overlap": float("nan")})
    write_table(tables, "overlap_docs.csv", docs)
    write_table(tables, "overlap_summary.csv", [
        {"group": g, "n_docs": len(ov), "median": float(np.median(ov)), "mean": float(np.mean(ov)),
         "share_zero": float(np.mean(np.equal(ov, 0))), "share_above_50": float(np.mean(np.greater(ov, 0.5)))}
        for g, ov in groups.items()])
    write_table(tables, "overlap_spans.csv", [
        {"group": "memorised control", "id": "memor-1", "overlap": 1.0, "span_words": 11, "span_text": SPAN}])
    (tables / "gltr_examples.json").write_text(json.dumps([
        {"title": "A <b>machine</b> sample & more", "label": "machine", "source": "smollm2-135m-k40",
         "tokens": [["The", 0], [" <b>", 3], [" cat", 1], [" &", 2], ["\n", 0], ["  sat", 1]]},
        {"title": "Human text", "label": "human", "source": "webtext", "tokens": [["Hello", 2], [" world", 0]]},
    ]))
    (root / "study.json").write_text(json.dumps({
        "name": "fake-study", "created": "2025-01-01T00:00:00Z", "ovid_version": "0.1.0",
        "versions": {"torch": "2.13.0", "transformers": "4.56.0"}, "seeds": {"sampling": 1, "bootstrap": 2},
        "models": list(MODELS), "data_hashes": {"data/human.jsonl": "ab" * 32},
        "timings_s": {"generate": 12.5, "score": 400.0}, "target_fpr": 0.01,
        "memorization": {"n": 8, "fpr": 0.001, "reference": "webtext-train", "reference_docs": 5000,
                         "filter_bits": 1 << 20, "filter_k": 7},
        "config": {"study": {"models": list(MODELS), "bootstrap": 1000, "note": "```fenced```"}}}))
    return root


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """A fake study rendered once for the read-only checks (the report's folder)."""
    study = fake_study(tmp_path_factory.mktemp("study"))
    assert render_report(study) == study / "index.html"
    return study


def page(study: Path) -> tuple[str, str]:
    return (study / "index.html").read_text(encoding="utf-8"), (study / "report.md").read_text(encoding="utf-8")


def embedded_images(html_text: str) -> dict[str, bytes]:
    """Each <img> of the page: its data-file (the copy beside the page) -> the bytes it embeds."""
    found = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="[^"]*" data-file="([^"]+)">', html_text)
    assert len(found) == html_text.count("<img ")  # every image is embedded, none linked
    return {file: base64.b64decode(data) for data, file in found}


def test_report_files_and_figures_are_real_pngs(rendered):
    from matplotlib.image import imread

    html_text, md = page(rendered)
    images = embedded_images(html_text)
    assert {Path(s).name for s in images} == FIGURES and all(s.startswith("figures/") for s in images)
    for src, data in images.items():
        f = rendered / src
        assert f.stat().st_size > 0 and f.read_bytes()[:8] == PNG_MAGIC
        assert data == f.read_bytes()  # the page embeds the very file the Markdown links
        assert imread(f).shape[1] > 100
        assert f"]({src})" in md  # the Markdown shows the same figures


def test_summary_numbers_come_from_summary_csv(rendered):
    html_text, md = page(rendered)
    for text in (html_text, md):
        assert "0.91 [0.85, 0.96]" in text and "0.97" in text and "1.23%" in text
    assert html_text.index('id="summary"') < html_text.index('id="detection"')
    assert md.index("## Summary") < md.index("## Detection") < md.index("## Reproducibility")
    summary = pd.read_csv(rendered / "tables" / "summary.csv")
    for r in summary.itertuples():  # every row's TPR interval, as the page formats it
        cell = f"{r.tpr:.2f} [{r.tpr_lo:.2f}, {r.tpr_hi:.2f}]"
        assert cell in html_text and cell in md
    assert "memorised control: median 99%" in html_text


def test_data_text_is_escaped(rendered):
    html_text, md = page(rendered)
    assert "&lt;b&gt;" in html_text and "<b>" not in html_text
    assert "&amp;" in html_text
    assert "&lt;b&gt;" in md and "<b>" not in md
    # the token keeps its leading space
    assert ('<span class="b3" title="rank above 1000" aria-label="&lt;b&gt; (rank above 1000)"> &lt;b&gt;</span>'
            in html_text)
    assert "\\| pipe" in md  # a pipe in a cell does not split the Markdown table


def test_page_is_self_contained_and_links_every_csv(rendered):
    html_text, md = page(rendered)
    assert "<script" not in html_text.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", html_text)
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]+)"', html_text))
    hrefs = set(re.findall(r'href="(tables/[^"]+\.csv)"', html_text))
    assert hrefs == {f"tables/{n}" for n in TABLES}
    assert all((rendered / h).is_file() and f"]({h})" in md for h in hrefs)


def test_missing_optional_tables_give_a_note(tmp_path):
    study = fake_study(tmp_path)
    for name in ("cross_size.csv", "overlap_docs.csv", "overlap_summary.csv", "overlap_spans.csv",
                 "gltr_examples.json"):
        (study / "tables" / name).unlink()
    render_report(study)
    html_text, md = page(study)
    for text in (html_text, md):
        assert "No cross_size.csv in this study" in text
        assert "No memorization part in this study" in text
        assert "No gltr_examples.json in this study" in text
    assert not (study / "figures" / "overlap_cdf.png").exists()


def test_missing_column_is_an_error_naming_it(tmp_path):
    study = fake_study(tmp_path)
    length = study / "tables" / "length.csv"
    pd.read_csv(length).drop(columns="auroc").to_csv(length, index=False)
    with pytest.raises(ReportDataError, match=r"length\.csv.*missing column\(s\) auroc"):
        render_report(study)


def test_size_plot_with_many_detectors_draws_the_best_one(tmp_path, rendered):
    from matplotlib.image import imread

    detection = pd.read_csv(rendered / "tables" / "detection.csv")
    out = plot_detection_vs_size(detection, tmp_path / "size.png", 0.01, max_panels=1)
    assert out.read_bytes()[:8] == PNG_MAGIC and imread(out).shape[1] > 100


def test_md_escape_keeps_intervals_readable():
    assert md_escape("0.91 [0.85, 0.96]") == "0.91 [0.85, 0.96]"
    assert md_escape("[x](http://a)") == "[x\\](http://a)"
    assert md_escape("a|b\n<i>") == "a\\|b &lt;i&gt;"
    assert md_escape("cross_size _x_") == "cross_size \\_x\\_"


def chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--no-default-browser-check", f"--user-data-dir={tmp / 'profile'}",
           "--allow-file-access-from-files", "--virtual-time-budget=5000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp)})


# Test-only page: loads the report in an iframe and writes what the browser saw into #result,
# which --dump-dom then prints (the report itself has no script).
WRAPPER = """<!DOCTYPE html><html><head><script>
function check(frame) {
  var out = document.getElementById("result");
  try {
    var doc = frame.contentDocument, tables = {};
    doc.querySelectorAll("table[data-csv]").forEach(function (t) {
      tables[t.dataset.csv] = t.querySelectorAll("tbody tr").length; });
    var images = Array.from(doc.images).map(function (i) {
      return {file: i.dataset.file, complete: i.complete, width: i.naturalWidth}; });
    out.textContent = JSON.stringify({title: doc.title, h2: doc.querySelectorAll("h2").length,
                                      images: images, tables: tables});
  } catch (e) { out.textContent = "ERROR " + e; }
}
</script></head><body><iframe src="URL" width="1200" height="900" onload="check(this)"></iframe>
<pre id="result">pending</pre></body></html>"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_report_in_headless_chromium(rendered, tmp_path):
    from matplotlib.image import imread

    url = (rendered / "index.html").resolve().as_uri()
    wrapper = tmp_path / "wrapper.html"
    wrapper.write_text(WRAPPER.replace("URL", url))
    run = chromium(["--dump-dom", wrapper.as_uri()], tmp_path)
    found = re.search(r'<pre id="result">(.*?)</pre>', run.stdout, re.S)
    assert found, run.stderr[-2000:]
    seen = json.loads(html.unescape(found.group(1)))
    assert seen["title"].endswith("fake-study") and seen["h2"] >= 7
    assert {Path(i["file"]).name for i in seen["images"]} == FIGURES
    assert all(i["complete"] and i["width"] > 0 for i in seen["images"]), seen["images"]
    csv_rows = {n: len(pd.read_csv(rendered / "tables" / n)) for n in
                ("summary.csv", "detection.csv", "fpr_by_domain.csv", "overlap_summary.csv", "overlap_spans.csv",
                 "robustness.csv", "watermark.csv", "watermark_quality.csv", "watermark_posthoc.csv", "mixed.csv")}
    assert seen["tables"] == csv_rows

    shot = tmp_path / "shot.png"
    chromium([f"--screenshot={shot}", "--window-size=1280,2000", url], tmp_path)
    pixels = imread(shot)
    assert pixels.shape[1] == 1280 and pixels[..., :3].std() > 0.05  # drawn, not blank


def test_fpr_by_domain_and_training_size_are_on_the_page(rendered):
    html_text, md = page(rendered)
    for text in (html_text, md):
        assert "False positives by domain" in text
        assert "0.025 [0.013, 0.060]" in text and "0.008 [0.004, 0.027]" in text  # FPR [CI], 3 decimals
        assert "trained on (texts)" in text
    row = next(line for line in md.splitlines() if line.startswith("| gltr |"))
    assert row.split("|")[2].strip() == "26"  # the few texts a detector saw, beside its numbers


def test_detection_under_attack_shows_both_defences_and_the_change(rendered):
    html_text, md = page(rendered)
    for text in (html_text, md):
        assert "Detection under attack" in text and "robustness.png" in text and "tables/robustness.csv" in text
    rows = [line.split("|")[1:-1] for line in md.splitlines() if line.startswith("| gltr | homoglyph |")]
    assert [[c.strip() for c in r] for r in rows] == [
        ["gltr", "homoglyph", "character", "on", "0.880", "+0.000", "0.500 [0.355, 0.645]", "0.000 [0.000, 0.071]",
         "0.000 [0.000, 0.071]"],
        ["gltr", "homoglyph", "character", "off", "0.630", "-0.250", "0.500 [0.355, 0.645]", "0.400 [0.264, 0.548]",
         "0.000 [0.000, 0.071]"]]


def test_mixed_texts_section_shows_boundary_accuracy_by_domain_with_exact_intervals(rendered):
    html_text, md = page(rendered)
    for text in (html_text, md):
        assert "Mixed texts" in text and "tables/mixed.csv" in text and "meant to flag about 1% of human spans" in text
        assert "within one sentence of the true one in 15% of texts" in text  # (0.2*10*2 + 0.1*10*2) / 40
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in md.splitlines()
            if line.startswith("| ovid:default | xsum |")]
    assert rows == [["ovid:default", "xsum", "human-machine", "10", "0.700", "0.20 [0.03, 0.56]", "2.0",
                     "0.30 [0.07, 0.65]"],
                    ["ovid:default", "xsum", "machine-human", "10", "0.700", "0.10 [0.00, 0.45]", "2.0",
                     "0.30 [0.07, 0.65]"],
                    ["ovid:default", "xsum", "human only", "12", "–", "–", "–", "0.00 [0.00, 0.27]"]]


def test_watermark_section_shows_length_attacks_quality_and_posthoc(rendered):
    html_text, md = page(rendered)
    for text in (html_text, md):
        assert "Watermarks" in text and "watermark_length.png" in text and "watermark_attacks.png" in text
        assert "tables/watermark_quality.csv" in text and "tables/watermark_posthoc.csv" in text
    model = next(iter(MODELS))
    row = next(line for line in md.splitlines() if line.startswith(f"| {model} | kgw | paraphrase |"))
    assert [c.strip() for c in row.split("|")[1:-1]] == [
        model, "kgw", "paraphrase", "paraphrase", "256", "64", "0.500 [0.372, 0.628]", "0.000 [0.000, 0.056]",
        "0.000 [0.000, 0.056]", "0.990", "0.995", "16.0"]
    assert f"| {model} | synthid | gltr | 0.812 | 0.850 |" in md
    assert "TPR at p &lt; 0.001" in md  # the level the study did not set: the test's default


def test_a_study_from_before_the_training_size_column_still_renders(rendered, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(rendered / "tables", old / "tables")
    shutil.copy(rendered / "study.json", old / "study.json")
    table = pd.read_csv(old / "tables" / "detection.csv").drop(columns=["n_train", "fpr_lo", "fpr_hi"])
    table.to_csv(old / "tables" / "detection.csv", index=False)
    (old / "tables" / "fpr_by_domain.csv").unlink()
    (old / "tables" / "robustness.csv").unlink()
    for name in ("watermark.csv", "watermark_quality.csv", "watermark_posthoc.csv"):
        (old / "tables" / name).unlink()
    render_report(old)
    md = (old / "report.md").read_text(encoding="utf-8")
    assert "trained on (texts)" in md and "False positives by domain" not in md
    # its rate intervals were bootstrapped: the page does not call them exact
    assert "this study predates exact intervals" in md and "| TPR [bootstrap 95% CI] |" in md
    assert "Clopper-Pearson" not in md.split("## Detection")[1].split("### ")[0]
    assert "Detection under attack" not in md  # a study without [robustness] has no such section
    assert "Watermarks" not in md


def test_zero_of_fifty_flagged_reads_an_exact_interval_not_a_certainty(tmp_path):
    human, machine = np.arange(50.0), np.arange(100.0, 150.0)
    met = detection_metrics(human, machine, 60.0, n_boot=50)  # no human text flagged, every machine text caught
    assert met["fpr"] == 0 and met["fpr_lo"] == 0 and met["fpr_hi"] == pytest.approx(0.0711, abs=1e-4)
    assert met["tpr"] == 1 and met["tpr_hi"] == 1 and met["tpr_lo"] == pytest.approx(1 - 0.0711, abs=1e-4)
    study = fake_study(tmp_path)
    path = study / "tables" / "detection.csv"
    detection = pd.read_csv(path)
    for key, value in {**met, "n_human": 50, "n_machine": 50}.items():
        detection.loc[0, key] = value
    detection.to_csv(path, index=False)
    render_report(study)
    assert pd.read_csv(path).fpr_hi[0] == pytest.approx(0.0711, abs=1e-4)
    html_text, md = page(study)
    row = next(line for line in md.splitlines()
               if line.startswith(f"| {detection.detector[0]} |") and f"| {detection.corpus[0]} |" in line)
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[6:10] == ["50 / 50", "1.00 [1.00, 1.00]", "1.00 [0.93, 1.00]", "0.000 [0.000, 0.071]"]
    for text in (html_text, md):
        assert "0.000 [0.000, 0.071]" in text
        assert "AUROC [bootstrap 95% CI]" in text and "TPR [exact 95% CI]" in text and "FPR [exact 95% CI]" in text
        assert "exact (Clopper-Pearson) for TPR, FPR and accuracy" in text
        assert "percentile bootstrap (1000 resamples) for AUROC and F1" in text
        assert "in brackets its exact (Clopper-Pearson) 95% interval" in text  # the summary's sentence


def cells(md: str, start: str) -> list[list[str]]:
    """The Markdown table rows that begin with `start`, as stripped cells."""
    return [[c.strip() for c in line.split("|")[1:-1]] for line in md.splitlines() if line.startswith(start)]


def test_attack_and_watermark_rates_read_exact_intervals_not_certainties(tmp_path):
    """0 of 40 caught after an attack is [0, 0.088] and 40 of 40 watermarked samples found is
    [0.912, 1], in the CSV and in both tables, each rate column saying which interval it shows."""
    study = fake_study(tmp_path)
    rob_path, wm_path = study / "tables" / "robustness.csv", study / "tables" / "watermark.csv"
    rob, wm = pd.read_csv(rob_path), pd.read_csv(wm_path)
    hit = (rob.detector == "gltr") & (rob.attack == "synonym") & (rob.defence == "off")
    for key, value in {"n_machine": 40, **exact("tpr", 0, 40)}.items():
        rob.loc[hit, key] = value
    rob.to_csv(rob_path, index=False)
    model = next(iter(MODELS))
    found = (wm.model == model) & (wm.scheme == "synthid") & (wm.attack == "none") & (wm.length == 256)
    for key, value in {"n": 40, **exact("tpr", 40, 40)}.items():
        wm.loc[found, key] = value
    wm.to_csv(wm_path, index=False)
    render_report(study)
    rob, wm = pd.read_csv(rob_path)[hit], pd.read_csv(wm_path)[found]
    assert (rob.tpr.item(), rob.tpr_lo.item()) == (0, 0) and rob.tpr_hi.item() == pytest.approx(0.0881, abs=1e-4)
    assert (wm.tpr.item(), wm.tpr_hi.item()) == (1, 1) and wm.tpr_lo.item() == pytest.approx(0.9119, abs=1e-4)
    html_text, md = page(study)
    assert cells(md, "| gltr | synonym | word | off |")[0][6] == "0.000 [0.000, 0.088]"
    assert cells(md, f"| {model} | synthid | none | none | 256 |")[0][5:7] == ["40", "1.000 [0.912, 1.000]"]
    assert '<td class="num">0.000 [0.000, 0.088]</td>' in html_text
    assert '<td class="num">1.000 [0.912, 1.000]</td>' in html_text
    for text in (html_text, md):
        assert "TPR at 1% FPR [exact 95% CI]" in text and "FPR, attacked human [exact 95% CI]" in text
        assert "FPR, clean human [exact 95% CI]" in text
        assert "TPR at p &lt; 0.001 [exact 95% CI]" in text and "FPR, plain [exact 95% CI]" in text
        assert "FPR, human [exact 95% CI]" in text
        assert text.count("Brackets: exact (Clopper-Pearson) 95% intervals of the rates") == 2


def test_attack_and_watermark_tables_from_before_their_intervals_still_render(tmp_path):
    study = fake_study(tmp_path)
    for name, rates in (("robustness.csv", ("tpr", "fpr_human_attacked", "fpr_human_clean")),
                        ("watermark.csv", ("tpr", "fpr_plain", "fpr_human"))):
        path = study / "tables" / name
        pd.read_csv(path).drop(columns=[f"{r}_{end}" for r in rates for end in ("lo", "hi")]).to_csv(path, index=False)
    render_report(study)
    html_text, md = page(study)
    assert cells(md, "| gltr | homoglyph | character | off |")[0][6:] == ["0.500", "0.400", "0.000"]
    model = next(iter(MODELS))
    assert cells(md, f"| {model} | kgw | paraphrase |")[0][6:9] == ["0.500", "0.000", "0.000"]
    for text in (html_text, md):
        # no interval to show: the headers promise none, and the caption says why
        assert "TPR at 1% FPR [" not in text and "FPR, plain [" not in text and "TPR at p &lt; 0.001 [" not in text
        assert text.count("This study predates intervals for these rates") == 2


def test_roc_and_length_lines_differ_in_marker_and_line_style(rendered):
    def styles(ax, labels):
        lines = [line for line in ax.get_lines() if line.get_label() in labels]
        assert len(lines) == len(labels)
        assert all(line.get_marker() not in (None, "None", "") for line in lines)
        return {(line.get_marker(), line.get_linestyle()) for line in lines}

    roc = pd.read_csv(rendered / "tables" / "roc.csv")
    assert len(styles(roc_figure(roc, 200, 0.01).axes[0], DETECTORS)) == len(DETECTORS)
    length = pd.read_csv(rendered / "tables" / "length.csv")
    assert len(styles(length_figure(length).axes[0], DETECTORS)) == len(DETECTORS)
    # more detectors than markers: the line style steps on, so no two lines look alike
    many = pd.concat([roc.assign(detector=f"{d}-{k}") for d in DETECTORS for k in range(4)])
    labels = list(many.detector.unique())
    assert len(styles(roc_figure(many, 200).axes[0], labels)) == len(labels) == 12


def test_gltr_tokens_say_their_bucket_in_words_and_as_a_table(rendered):
    html_text, _ = page(rendered)
    examples = json.loads((rendered / "tables" / "gltr_examples.json").read_text())
    coloured = "".join(re.findall(r'<div class="gltr">(.*?)</div>', html_text, re.S))
    spans = re.findall(r'<span class="b(\d)" title="([^"]+)" aria-label="([^"]+)">', coloured)
    assert [int(k) for k, _, _ in spans] == [b for ex in examples for _, b in ex["tokens"]]
    for k, title, label in spans:
        assert title == GLTR_BUCKETS[int(k)][1] and title in label
    assert "<span" not in re.sub(r'<span class="b\d" title="[^"]+" aria-label="[^"]+">', "", coloured)
    assert html_text.count('<details class="gltr-tokens">') == len(examples)
    for i, ex in enumerate(examples, 1):
        table = re.search(rf'<table id="t-gltr-tokens-{i}">.*?<tbody>(.*?)</tbody>', html_text, re.S).group(1)
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        assert len(rows) == len(ex["tokens"])
        for row, (_, bucket) in zip(rows, ex["tokens"]):
            label, ranks, _ = GLTR_BUCKETS[bucket]
            assert row.endswith(f"<td>{label} ({ranks})</td>")
    assert '<td class="wrap">\\n</td>' in html_text  # a line-break token, shown as \n


def test_detection_dot_plot_sits_next_to_the_table(rendered):
    html_text, md = page(rendered)
    table, dots = html_text.index('id="t-detection"'), html_text.index('data-file="figures/detection_rates.png"')
    assert table < dots < html_text.index('id="fpr-by-domain"')
    assert md.index("Data: [detection.csv]") < md.index("](figures/detection_rates.png)") < md.index("### False")
    detection = detection_order(pd.read_csv(rendered / "tables" / "detection.csv"))
    ax = detection_rates_figure(detection, 0.01).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{d} · {c}" for d, c in zip(detection.detector, detection.corpus)]
    bars = sorted((round(a[0], 6), round(b[0], 6), round(a[1], 6)) for container in ax.containers
                  for a, b in container.lines[2][0].get_segments())
    assert bars == sorted((round(lo, 6), round(hi, 6), float(y))
                          for y, (lo, hi) in enumerate(zip(detection.tpr_lo, detection.tpr_hi)))
