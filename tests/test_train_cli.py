import json
import subprocess
import sys

import pytest

from ovid import load_detector

from conftest import write_jsonl
from test_classifier import corpus
from test_models import OFFLINE_ENV, run_ovid


def detect_train(*args):
    return subprocess.run([sys.executable, "-c", "from ovid.cli.train import main; main()", *args],
                          capture_output=True, text=True, env=OFFLINE_ENV, timeout=600)


@pytest.fixture()
def data(tmp_path):
    texts, labels = corpus(30)
    human = write_jsonl(tmp_path / "human.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts[:30])])
    machine = write_jsonl(tmp_path / "machine.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts[30:])])
    both = write_jsonl(tmp_path / "both.jsonl", [{"id": i, "text": t, "label": y} for i, (t, y) in enumerate(zip(texts, labels))])
    return human, machine, both


def test_tfidf_from_human_and_machine_corpora_then_score(tmp_path, data):
    human, machine, both = data
    out = tmp_path / "det"
    r = detect_train("--detector", "tfidf", "--human", str(human), "--machine", str(machine), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "tfidf trained on" in r.stdout and "AUROC 1.0000" in r.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_train"] + metrics["n_valid"] == 60 and metrics["validation"]["auroc"] == 1.0
    assert {p.name for p in out.iterdir()} == {"config.json", "model.skops", "metrics.json"}
    prov = json.loads((out / "config.json").read_text())["provenance"]
    assert prov["human"] == [str(human)] and prov["n_train"] == metrics["n_train"]
    s = run_ovid("score", "--detector", str(out), str(both), "--out", str(tmp_path / "s.jsonl"), "--no-progress")
    assert s.returncode == 0, s.stderr
    assert "60 texts scored with tfidf; 30 flagged as machine at its threshold (set for 0.01 FPR); AUROC 1.0000" \
        in s.stdout
    rows = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert all(r["machine"] == r["label"] and 0 <= r["p_machine"] <= 1 for r in rows)


def test_roberta_with_tiny_encoder_logs_and_saves(tmp_path, data, tiny_encoder):
    _, _, both = data
    out = tmp_path / "rob"
    r = detect_train("--detector", "roberta", "--encoder", tiny_encoder, "--train", str(both), "--out", str(out),
                     "--epochs", "6", "--lr", "0.005", "--max-length", "24", "--batch-size", "8", "--patience", "10",
                     "--no-progress")
    assert r.returncode == 0, r.stderr
    log = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert {"step", "loss", "lr"} <= log[0].keys() and any("valid_auroc" in x for x in log)
    assert not (out / "checkpoint").exists()
    m = json.loads((out / "metrics.json").read_text())
    assert m["train_state"]["step"] == log[-1]["step"] and m["validation"]["n"] == m["n_valid"]
    assert (out / "encoder" / "model.safetensors").exists()
    det = load_detector(out)
    texts, labels = corpus(10)
    assert det.decision_function(texts).shape == (20,)
    assert det.provenance_["train"] == [str(both)]


@pytest.mark.parametrize("entry", ["detect-train", "ovid train"])
def test_cli_errors(tmp_path, data, entry):
    run = detect_train if entry == "detect-train" else (lambda *a: run_ovid("train", *a))
    human, machine, both = data
    r = run("--detector", "tfidf", "--train", str(human), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "human.jsonl: text '0' has no label; pass unlabelled corpora with --human/--machine" in r.stderr
    r = run("--detector", "tfidf", "--backbone", "minilm-l6", "--train", str(both), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and r.stderr.strip() == "error: --backbone does not apply to detector 'tfidf'"
    r = run("--detector", "tfidf", "--calibration", "sigmoid", "--train", str(both), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and r.stderr.strip() == \
        "error: Invalid value for '--calibration': 'sigmoid' is not one of 'platt', 'isotonic'."
    assert not (tmp_path / "x").exists()


def test_max_texts_keeps_whole_documents():
    from ovid.corpus import Record
    from ovid.detect.train_job import cap_texts
    recs = []
    for i in range(20):
        opening = f"article {i} opens with these eight words here"
        recs += [Record(f"o{i}", opening + " human", 0), Record(f"s{i}", opening + " machine", 1)]
    picked = cap_texts(recs, 11, seed=0)
    assert len(picked) == 10 and sum(r.label for r in picked) == 5
    assert {r.id[1:] for r in picked if r.label == 0} == {r.id[1:] for r in picked if r.label == 1}


def test_list_options_take_several_files_and_ovid_train_is_the_same_command(tmp_path, data):
    _, _, both = data
    rows = [json.loads(x) for x in both.read_text().splitlines()]
    a = write_jsonl(tmp_path / "a.jsonl", rows[::2])
    b = write_jsonl(tmp_path / "b.jsonl", rows[1::2])
    r1 = detect_train("--detector", "tfidf", "--train", f"{a},{b}", "--out", str(tmp_path / "d1"))
    r2 = run_ovid("train", "--detector", "tfidf", "--train", str(a), "--train", str(b), "--out", str(tmp_path / "d2"))
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    m1, m2 = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("d1", "d2"))
    assert m1["n_train"] + m1["n_valid"] == 60
    assert {k: m1[k] for k in ("n_train", "n_valid", "validation")} == {k: m2[k] for k in ("n_train", "n_valid", "validation")}
    assert load_detector(tmp_path / "d2").provenance_["train"] == [str(a), str(b)]


def test_spread_lists_repeats_the_flag_for_each_file():
    from ovid.cli.train import spread_lists
    assert spread_lists(["--train", "a", "b", "--out", "o", "--human", "h"]) == \
        ["--train", "a", "--train", "b", "--out", "o", "--human", "h"]
    assert spread_lists(["train", "--epochs", "3", "--valid", "v1", "v2"]) == \
        ["train", "--epochs", "3", "--valid", "v1", "--valid", "v2"]
