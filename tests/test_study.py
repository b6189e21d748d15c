"""A tiny end-to-end study on tiny models: config errors, table values against a direct
computation, and a second run that reuses every expensive step."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ovid import load_detector
from ovid.corpus import read_corpus
from ovid.errors import OvidError
from ovid.metrics import auroc_of
from ovid.reports.study import watermark
from ovid.reports.study.config import load_study
from ovid.reports.study.robustness import robustness_rows
from ovid.reports.study.run import run_study
from ovid.reports.study.statistics import detection_metrics

from conftest import write_jsonl
from test_models import run_ovid

HUMAN = [f"Story {i}: " + t for i, t in enumerate([
    "the old miller walked along the river every morning and counted the boats that passed by the bridge",
    "our village council met on a wet tuesday to argue about the price of bread and the broken bell",
    "she painted the fence blue because her grandmother had always said that blue keeps the flies away",
    "the football club lost again and the supporters sang louder than ever in the cold rain of november",
    "a small dog followed the postman for three miles before sitting down outside the bakery door",
    "he learned to bake bread from a book he found in the attic, flour everywhere and the oven smoking",
] * 3)]


def study_file(tmp_path, tiny_lm, extra=""):
    human = write_jsonl(tmp_path / "human.jsonl", [{"id": f"h{i}", "text": t} for i, t in enumerate(HUMAN)])
    toml = f'''
[study]
name = "tiny"
bootstrap = 50
length_buckets = [8, 16]
examples = 1

[human]
corpus = "{human.name}"

[generate]
models = ["{tiny_lm}"]
decodings = ["pure", "top-k"]
max_tokens = 40
prompt_tokens = 6
batch_size = 8

[[detectors]]
name = "likelihood"
model = "{tiny_lm}"

[[detectors]]
name = "tfidf"

[cross_size]
detector = "tfidf"

[memorization]
control_model = "{tiny_lm}"
control_texts = 2
control_steps = 3
control_tokens = 24
max_tokens = 48
prompt_tokens = 6

[robustness]
attacks = ["homoglyph", "zero_width_space", "upper_lower", "misspelling"]
attack_model = "{tiny_lm}"
max_texts = 10

[watermark]
models = ["{tiny_lm}"]
n = 6
max_tokens = 40
prompt_tokens = 6
lengths = [8, 16]
delta = 8.0
attacks = ["homoglyph", "article_deletion"]
attack_model = "{tiny_lm}"
quality_models = ["{tiny_lm}"]
{extra}'''
    path = tmp_path / "study.toml"
    path.write_text(toml)
    return path


@pytest.mark.slow
def test_tiny_study_end_to_end_and_rerun_reuses(tmp_path, tiny_lm):
    path = study_file(tmp_path, tiny_lm)
    out = tmp_path / "report"
    page = run_study(path, out, progress=False)
    assert page == out / "index.html" and page.exists() and (out / "report.md").exists()
    det = pd.read_csv(out / "tables" / "detection.csv")
    assert set(det.detector) == {f"likelihood ({tiny_lm.split('/')[-1]})", "tfidf"}
    assert len(det) == 4 and (det.n_human > 0).all()
    # a table value against a direct computation: likelihood's AUROC on the top-k corpus
    row = det[(det.detector.str.startswith("likelihood")) & (det.corpus.str.endswith("k40"))].iloc[0]
    saved = load_detector(next((out / "detectors").glob("likelihood*")))
    from ovid.splits import split_by_document
    human = list(read_corpus(tmp_path / "human.jsonl"))
    _, h_test = split_by_document(human, [r.text for r in human], 0.5, 0)
    gen = next((out / "corpora").glob("gen-*/*k40.jsonl"))
    machine = list(read_corpus(gen))
    _, m_test = split_by_document(machine, [r.text for r in machine], 0.5, 0)
    h = saved.decision_function([r.text for r in h_test])
    m = saved.decision_function([r.text for r in m_test])
    assert row.n_human == len(h) and row.n_machine == len(m)
    assert row.auroc == pytest.approx(auroc_of(h, m))
    assert row.tpr == pytest.approx(np.mean(m >= saved.threshold_))
    assert row.tpr_lo <= row.tpr <= row.tpr_hi
    cross = pd.read_csv(out / "tables" / "cross_size.csv")
    assert len(cross) == 4
    length = pd.read_csv(out / "tables" / "length.csv")
    assert sorted(set(length.length)) == [8, 16]
    ov = pd.read_csv(out / "tables" / "overlap_summary.csv")
    assert {"human (held out)"} <= set(ov.group) and any(g.startswith("control:") for g in ov.group)
    study = json.loads((out / "study.json").read_text())
    assert study["name"] == "tiny" and study["data_hashes"] and "generate" in study["timings_s"]
    # paths shown relative to the study, never the machine's absolute ones
    examples = json.loads((out / "tables" / "gltr_examples.json").read_text())
    assert {e["label"]: e["source"].split("/")[0] for e in examples} == {"human": "human.jsonl", "machine": "corpora"}
    assert not any(Path(k).is_absolute() for k in study["data_hashes"]) and "human.jsonl" in study["data_hashes"]
    assert str(tmp_path / "human.jsonl") not in (out / "index.html").read_text()
    summary = pd.read_csv(out / "tables" / "summary.csv")
    assert len(summary) == 2 and set(summary.best_detector) <= set(det.detector)
    rob = pd.read_csv(out / "tables" / "robustness.csv")
    for rate in ("tpr", "fpr_human_attacked", "fpr_human_clean"):
        assert ((rob[f"{rate}_lo"] <= rob[rate]) & (rob[rate] <= rob[f"{rate}_hi"])).all()
    lik = rob[rob.detector.str.startswith("likelihood")].set_index(["attack", "defence"])
    assert set(rob.attack) == {"none", "homoglyph", "zero_width_space", "upper_lower", "misspelling"}
    assert (rob.n_machine == 10).all() and (rob.n_human <= 10).all()
    # the defences undo the invisible attacks exactly: the same AUROC as clean; undefended, not
    for attack in ("homoglyph", "zero_width_space", "upper_lower"):
        assert lik.loc[(attack, "on"), "auroc"] == pytest.approx(lik.loc[("none", "on"), "auroc"])
    assert lik.loc[("zero_width_space", "off"), "auroc"] != pytest.approx(lik.loc[("none", "off"), "auroc"])
    assert lik.loc[("none", "on"), "fpr_human_attacked"] == lik.loc[("none", "on"), "fpr_human_clean"]
    marks = pd.read_csv(out / "tables" / "watermark.csv")
    assert set(marks.scheme) == {"kgw", "synthid"} and set(marks.length) == {8, 16, 40}
    assert set(marks.attack) == {"none", "homoglyph", "article_deletion"} and (marks.n == 6).all()
    for rate in ("tpr", "fpr_plain", "fpr_human"):
        assert ((marks[f"{rate}_lo"] <= marks[rate]) & (marks[rate] <= marks[f"{rate}_hi"])).all()
    full = marks[marks.length == 40].set_index(["scheme", "attack"])
    for scheme in ("kgw", "synthid"):
        # the detector's repair undoes look-alike letters: the same tokens, the same test
        assert full.loc[(scheme, "homoglyph")].tpr == full.loc[(scheme, "none")].tpr
        assert full.loc[(scheme, "none")].fpr_plain <= 1 / 6
    # (SynthID's 5-grams do not survive the tiny model's re-tokenizing; KGW's strong bias does)
    assert full.loc[("kgw", "none")].median_z > 2
    quality = pd.read_csv(out / "tables" / "watermark_quality.csv")
    assert list(quality.scheme) == ["none", "kgw", "synthid"] and (quality.ppl_median > 1).all()
    posthoc = pd.read_csv(out / "tables" / "watermark_posthoc.csv")
    assert len(posthoc) == 4 and posthoc.auroc_marked.between(0, 1).all()
    # no segment model for the tiny model: the section says why it has no rows
    assert pd.read_csv(out / "tables" / "mixed.csv").empty
    assert "no detector of this study reads a language model" in (out / "index.html").read_text()
    check_in_browser(out, tmp_path)

    # second run: nothing expensive is redone
    stamps = {p: p.stat().st_mtime_ns for p in list((out / "corpora").rglob("*.jsonl")) +
              list((out / "detectors").rglob("config.json")) + list((out / "memorization").rglob("*.safetensors"))}
    r = run_ovid("report", str(path), "--out", str(out))  # with progress: its lines say what was reused
    assert r.returncode == 0, r.stderr[-3000:]
    assert "(reused)" in r.stderr and "(fitted)" not in r.stderr
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert r.stdout.strip() == f"report: {(out / 'index.html').resolve()}"
    quiet = run_ovid("report", str(path), "--out", str(out), "--no-progress")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr[-2000:]


@pytest.mark.parametrize("extra, message", [
    ("[bogus]\nx = 1", "unknown section [bogus]"),
    ('[[detectors]]\nname = "fast-detect"',
     "[[detectors]][2].name: unknown detector 'fast-detect'; did you mean fast-detectgpt?"),
    ('[[detectors]]\nname = "tfidf"\nmodel = "x"', "[[detectors]][2]: detector 'tfidf' takes no parameter 'model'"),
])
def test_bad_study_files_name_the_key(tmp_path, tiny_lm, extra, message):
    with pytest.raises(OvidError) as e:
        load_study(study_file(tmp_path, tiny_lm, extra))
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("extra, message", [
    ('attacks = ["homoglif"]', "[robustness].attacks: unknown attack 'homoglif'; did you mean homoglyph?"),
    ("rate = 2.0", "[robustness].rate must be in (0, 1]"),
    ("max_texts = 0", "[robustness].max_texts must be >= 1"),
    ("shield = true", "[robustness]: unknown key 'shield'"),
])
def test_bad_robustness_keys_are_named(tmp_path, tiny_lm, extra, message):
    check_section_key(study_file(tmp_path, tiny_lm), "[robustness]", extra, message)


def check_section_key(path, section, extra, message):
    """Put `extra` (key = value) into `section` of the study file (that key's other lines go):
    loading must fail with one line that contains `message`."""
    key = extra.split(" =")[0]
    lines = [line for line in path.read_text().splitlines() if not line.startswith(key + " =")]
    at = lines.index(section)
    path.write_text("\n".join(lines[:at + 1] + [extra] + lines[at + 1:]) + "\n")
    with pytest.raises(OvidError) as e:
        load_study(path)
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("extra, message", [
    ('schemes = ["red-list"]', "[watermark].schemes must be kgw or synthid, got 'red-list'"),
    ("gamma = 1.5", "[watermark].gamma must be in (0, 1)"),
    ("key = -3", "[watermark].key must be an integer in [0, 2**63 - 1], got -3"),
    ('decoding = "beam"', "[watermark].decoding must be one of pure, top-k, top-p, temperature"),
    ("fpr = 0", "[watermark].fpr must be in (0, 1)"),
    ('attacks = ["homoglif"]', "[watermark].attacks: unknown attack 'homoglif'; did you mean homoglyph?"),
    ("lengths = [0]", "[watermark].lengths must be >= 1"),
    ("keyz = 1", "[watermark]: unknown key 'keyz' (did you mean key?)"),
])
def test_bad_watermark_keys_are_named(tmp_path, tiny_lm, extra, message):
    check_section_key(study_file(tmp_path, tiny_lm), "[watermark]", extra, message)


def check_in_browser(out, tmp_path):
    """The real study's page in headless Chromium: every figure loads, every table has its rows."""
    import html
    import re

    from test_reports import CHROMIUM, WRAPPER, chromium
    if not CHROMIUM.exists():
        return
    wrapper = tmp_path / "wrapper.html"
    wrapper.write_text(WRAPPER.replace("URL", (out / "index.html").resolve().as_uri()))
    run = chromium(["--dump-dom", wrapper.as_uri()], tmp_path)
    seen = json.loads(html.unescape(re.search(r'<pre id="result">(.*?)</pre>', run.stdout, re.S).group(1)))
    names = {i["file"].split("/")[-1] for i in seen["images"]}
    assert {"detection_rates.png", "detection_vs_size.png", "cross_size.png", "length.png", "roc.png",
            "overlap_cdf.png", "robustness.png"} <= names
    assert all(i["complete"] and i["width"] > 0 for i in seen["images"]), seen["images"]
    for name, rows in seen["tables"].items():
        assert rows == len(pd.read_csv(out / "tables" / name)), name


def test_bad_types_and_missing_corpus(tmp_path, tiny_lm):
    p = study_file(tmp_path, tiny_lm)
    p.write_text(p.read_text().replace("max_tokens = 40\nprompt_tokens = 6\nbatch_size",
                                       'max_tokens = "many"\nprompt_tokens = 6\nbatch_size'))
    with pytest.raises(OvidError, match=r"\[generate\].max_tokens must be int, got str 'many'"):
        load_study(p)
    p.write_text(study_file(tmp_path, tiny_lm).read_text().replace('corpus = "human.jsonl"', 'corpus = "nope.jsonl"'))
    with pytest.raises(OvidError, match=r"\[human\].corpus: no such corpus 'nope.jsonl'"):
        load_study(p)
    p.write_text(study_file(tmp_path, tiny_lm).read_text().replace("max_tokens = 40\nprompt_tokens = 6\nbatch",
                                                                   "max_tokns = 12\nprompt_tokens = 6\nbatch"))
    with pytest.raises(OvidError, match=r"\[generate\]: unknown key 'max_tokns' \(did you mean max_tokens\?\)"):
        load_study(p)
    r = run_ovid("report", str(p), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "max_tokns" in r.stderr


def test_bootstrap_interval_covers_point_and_is_seeded():
    rng = np.random.default_rng(1)
    h, m = rng.normal(0, 1, 80), rng.normal(1.5, 1, 80)
    a = detection_metrics(h, m, 1.0, 200, seed=3)
    b = detection_metrics(h, m, 1.0, 200, seed=3)
    assert a == b
    for k in ("auroc", "tpr", "accuracy", "f1"):
        assert a[f"{k}_lo"] <= a[k] <= a[f"{k}_hi"]
    assert a["tpr"] == np.mean(m >= 1.0) and a["fpr"] == np.mean(h >= 1.0)


def test_rates_get_exact_intervals_and_auroc_keeps_the_bootstrap():
    from ovid.metrics import clopper_pearson

    rng = np.random.default_rng(2)
    h, m = rng.normal(0, 1, 50), rng.normal(1.5, 1, 40)
    t = 1.0
    a = detection_metrics(h, m, t, 200, seed=3)
    tp, fp = int(np.sum(m >= t)), int(np.sum(h >= t))
    assert (a["tpr_lo"], a["tpr_hi"]) == clopper_pearson(tp, 40)
    assert (a["fpr_lo"], a["fpr_hi"]) == clopper_pearson(fp, 50)
    assert (a["accuracy_lo"], a["accuracy_hi"]) == clopper_pearson(tp + 50 - fp, 90)
    # no resamples: the exact intervals stand, the bootstrapped ones are unknown
    b = detection_metrics(h, m, t, 0)
    assert b["fpr_hi"] == a["fpr_hi"] and np.isnan(b["auroc_lo"]) and np.isnan(b["f1_hi"])
    # nobody flagged: 0 of 50 is [0, 0.0711], not the bootstrap's certain [0, 0]
    none = detection_metrics(h, m, 10.0, 200)
    assert none["fpr"] == 0 and none["fpr_lo"] == 0 and none["fpr_hi"] == pytest.approx(0.0711, abs=1e-4)


class Uppercase:
    """A detector without defences that scores a text 1 when it begins with a capital, else 0."""
    threshold_ = 0.5

    def param_names(self):
        return []

    def repairs(self):
        return False

    def decision_function(self, texts):
        return [float(t[:1].isupper()) for t in texts]


def test_attack_rates_carry_exact_intervals():
    from ovid.metrics import clopper_pearson

    machine = [f"Machine {i}" for i in range(40)]
    human = [f"human {i}" for i in range(40)]
    # the attack hides every machine text (0 of 40 caught) and makes 10 of 40 human texts look machine
    attacked = {"homoglyph": ([t.lower() for t in machine], [t.title() if i < 10 else t for i, t in enumerate(human)])}
    rows = {r["attack"]: r for r in robustness_rows("upper", Uppercase(), machine, human, attacked, 0.01)}
    assert [r["defence"] for r in rows.values()] == ["on", "on"]  # no defences: nothing to turn off
    hit = rows["homoglyph"]
    assert (hit["tpr"], hit["tpr_lo"]) == (0, 0) and hit["tpr_hi"] == pytest.approx(0.0881, abs=1e-4)
    assert hit["fpr_human_attacked"] == 0.25
    assert (hit["fpr_human_attacked_lo"], hit["fpr_human_attacked_hi"]) == clopper_pearson(10, 40)
    assert (hit["fpr_human_clean"], hit["fpr_human_clean_lo"]) == (0, 0)
    clean = rows["none"]
    assert (clean["tpr"], clean["tpr_hi"]) == (1, 1) and clean["tpr_lo"] == pytest.approx(0.9119, abs=1e-4)


def test_watermark_rates_carry_exact_intervals():
    z, found, missed = np.zeros(40), np.full(40, 1e-6), np.ones(40)
    m = watermark.test_metrics((z + 5, found), (z, missed), (z, missed), fpr=0.001)
    assert m["n"] == 40 and (m["tpr"], m["tpr_hi"]) == (1, 1) and m["tpr_lo"] == pytest.approx(0.9119, abs=1e-4)
    for rate in ("fpr_plain", "fpr_human"):
        assert (m[rate], m[f"{rate}_lo"]) == (0, 0) and m[f"{rate}_hi"] == pytest.approx(0.0881, abs=1e-4)
    # one plain sample of 40 found: its interval, not the certainty of a bootstrap
    one = watermark.test_metrics((z + 5, found), (z, np.r_[1e-6, missed[1:]]), (z, missed), fpr=0.001)
    assert one["fpr_plain"] == 1 / 40 and one["fpr_plain_lo"] > 0 and one["fpr_plain_hi"] == pytest.approx(
        0.1316, abs=1e-4)
