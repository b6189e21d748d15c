import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ovid.corpus import meta_path, read_corpus
from ovid.errors import OvidError
from ovid.generate import Decoding, GenerationConfig, corpus_name, sample_corpus, sample_grid
from ovid.generate.sampling import left_pad, split_at_stop

from conftest import needs_smollm2, write_jsonl
from test_models import run_ovid


def lines(path):
    return [json.loads(x) for x in open(path, encoding="utf-8")]


def test_decoding_maps_to_generate_kwargs_and_tags():
    assert Decoding("pure").generate_kwargs() == {"do_sample": True, "top_k": 0, "top_p": 1.0, "temperature": 1.0}
    assert Decoding("top-k", top_k=40).generate_kwargs()["top_k"] == 40
    assert Decoding("top-p", top_p=0.9).generate_kwargs() == {"do_sample": True, "top_k": 0, "top_p": 0.9, "temperature": 1.0}
    assert Decoding("temperature").generate_kwargs()["temperature"] == 0.7
    assert [Decoding(s).tag for s in ("pure", "top-k", "top-p", "temperature")] == ["pure", "k40", "p0.96", "t0.7"]
    assert Decoding("top-k", temperature=0.8).tag == "k40-t0.8"
    assert corpus_name("gpt2-xl", Decoding("top-k")) == "gpt2-xl-k40.jsonl"
    with pytest.raises(ValueError, match="strategy must be one of pure, top-k, top-p, temperature, got 'beam'"):
        Decoding("beam")


def test_left_pad_and_stop_split():
    ids, mask = left_pad([[5, 6, 7], [9]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 9]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert split_at_stop([4, 5, 2, 7], {2}) == ([4, 5], True)
    assert split_at_stop([4, 5], {2}) == ([4, 5], False)


def test_unconditional_corpus_format_and_meta(tmp_path, tiny_lm):
    cfg = GenerationConfig(model=tiny_lm, decoding=Decoding("top-k", top_k=5), n=6, max_tokens=12, batch_size=4)
    path, meta = sample_corpus(cfg, tmp_path / "u.jsonl", progress=False)
    rows = lines(path)
    assert [r["id"] for r in rows] == list(range(6))
    assert all(set(r) == {"id", "text", "length", "ended"} for r in rows)
    assert all(0 <= r["length"] <= 12 and isinstance(r["text"], str) for r in rows)
    assert sum(r["length"] for r in rows) > 6
    assert all(r["ended"] or r["length"] == 12 for r in rows)
    saved = json.loads(meta_path(path).read_text())
    assert saved == meta and saved["status"] == "complete" and saved["n_written"] == 6
    assert saved["decoding"] == {"strategy": "top-k", "top_k": 5, "top_p": None, "temperature": 1.0}
    assert {"model", "params", "max_tokens", "prompt_source", "seed", "ovid_version", "started"} <= saved.keys()
    assert {r.label for r in read_corpus(path)} == {1}  # the sidecar marks it machine text


def test_same_seed_same_texts_other_seed_other_texts(tmp_path, tiny_lm):
    cfg = GenerationConfig(model=tiny_lm, n=5, max_tokens=10, batch_size=2, seed=3)
    a, _ = sample_corpus(cfg, tmp_path / "a.jsonl", progress=False)
    b, _ = sample_corpus(cfg, tmp_path / "b.jsonl", progress=False)
    c, _ = sample_corpus(GenerationConfig(model=tiny_lm, n=5, max_tokens=10, batch_size=2, seed=4),
                         tmp_path / "c.jsonl", progress=False)
    assert lines(a) == lines(b)
    assert [r["text"] for r in lines(a)] != [r["text"] for r in lines(c)]


def test_prompted_keeps_prompt_and_continuation_apart(tmp_path, tiny_lm):
    src = write_jsonl(tmp_path / "h.jsonl", [{"id": "doc1", "text": "The quick brown fox jumps over the lazy dog."},
                                             {"id": "doc2", "text": "People found the samples convincing."}])
    cfg = GenerationConfig(model=tiny_lm, prompts=str(src), prompt_tokens=4, max_tokens=6, batch_size=8)
    path, meta = sample_corpus(cfg, tmp_path / "p.jsonl", progress=False)
    rows = lines(path)
    assert meta["n"] == 2 and [r["prompt_id"] for r in rows] == ["doc1", "doc2"]
    for r in rows:
        assert r["text"] == r["prompt"] + r["continuation"]
    assert "The quick brown fox jumps over".startswith(rows[0]["prompt"]) and rows[0]["prompt"]
    assert meta["prompt_source"] == str(src) and meta["prompt_tokens"] == 4


def test_resume_refuses_other_settings_and_foreign_files(tmp_path, tiny_lm):
    out = tmp_path / "r.jsonl"
    sample_corpus(GenerationConfig(model=tiny_lm, n=2, max_tokens=4, seed=1), out, progress=False)
    with pytest.raises(OvidError, match=r"r.jsonl was made with other settings \(seed: 1 != 2\)"):
        sample_corpus(GenerationConfig(model=tiny_lm, n=2, max_tokens=4, seed=2), out, progress=False)
    foreign = tmp_path / "f.jsonl"
    foreign.write_text('{"text": "mine"}\n')
    with pytest.raises(OvidError, match=r"f.jsonl: a file is there that is not a corpus this command started \(no .meta.json\)"):
        sample_corpus(GenerationConfig(model=tiny_lm, n=2, max_tokens=4), foreign, progress=False)
    assert foreign.read_text() == '{"text": "mine"}\n'


def test_resume_asking_for_fewer_samples_keeps_the_meta_truthful(tmp_path, tiny_lm):
    out = tmp_path / "c.jsonl"
    sample_corpus(GenerationConfig(model=tiny_lm, n=3, max_tokens=4, batch_size=2), out, progress=False)
    _, meta = sample_corpus(GenerationConfig(model=tiny_lm, n=1, max_tokens=4, batch_size=2), out, progress=False)
    assert len(out.read_text().splitlines()) == 3 and (meta["n"], meta["n_written"]) == (3, 3)


def test_no_progress_prints_nothing_but_the_result(tmp_path, tiny_lm):
    r = run_ovid("generate", "--model", tiny_lm, "-n", "2", "--max-tokens", "4", "--out", str(tmp_path / "g.jsonl"),
                 "--no-progress")
    assert r.returncode == 0 and r.stderr == "" and r.stdout.strip().endswith("2 samples from " + tiny_lm)


def test_torn_tail_is_regenerated_identically(tmp_path, tiny_lm):
    cfg = GenerationConfig(model=tiny_lm, n=7, max_tokens=8, batch_size=3)
    full, _ = sample_corpus(cfg, tmp_path / "full.jsonl", progress=False)
    part = tmp_path / "part.jsonl"
    sample_corpus(cfg, part, progress=False)
    text = part.read_text().splitlines(keepends=True)
    part.write_text("".join(text[:4]) + text[4][:10])  # 4 whole lines, then a torn one mid-batch
    sample_corpus(cfg, part, progress=False)
    assert lines(part) == lines(full)


@pytest.mark.slow
def test_killed_run_resumes_without_duplicates_or_gaps(tmp_path, tiny_lm):
    out = tmp_path / "k.jsonl"
    cmd = [sys.executable, "-c", "from ovid.cli import main; main()", "generate", "--model", tiny_lm,
           "-n", "300", "--batch-size", "3", "--max-tokens", "48", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 6):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_before = out.read_text().count("\n")
    assert 6 <= n_before < 300, "the kill must land part-way"
    assert json.loads(meta_path(out).read_text())["status"] == "running"
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    resumed = lines(out)
    assert [x["id"] for x in resumed] == list(range(300))
    ref, _ = sample_corpus(GenerationConfig(model=tiny_lm, n=300, batch_size=3, max_tokens=48),
                           tmp_path / "ref.jsonl", progress=False)
    assert resumed == lines(ref)


def test_study_set_names_one_corpus_per_model_and_decoding(tmp_path, tiny_lm):
    base = GenerationConfig(model=tiny_lm, n=2, max_tokens=4)
    results = sample_grid(base, [tiny_lm], [Decoding("pure"), Decoding("top-p", top_p=0.9)], tmp_path)
    names = sorted(p.name for p, _ in results)
    assert names == sorted([corpus_name(tiny_lm, Decoding("pure")), corpus_name(tiny_lm, Decoding("top-p", top_p=0.9))])
    assert all(len(lines(p)) == 2 for p, _ in results)


@needs_smollm2
@pytest.mark.packaged_model
@pytest.mark.slow
def test_packaged_smollm2_generates_offline_via_cli(tmp_path):
    from test_models import run_ovid

    out = tmp_path / "s.jsonl"
    r = run_ovid("generate", "--model", "smollm2-135m", "-n", "3", "--max-tokens", "8",
                 "--prompts", "ovid:human-demo", "--prompt-tokens", "8", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    rows = lines(out)
    assert len(rows) == 3 and [x["prompt_id"] for x in rows] == ["xsum/0", "xsum/1", "xsum/2"]
    assert rows[0]["prompt"].startswith("Maj Richard Scott")
    assert all(0 < x["length"] <= 8 and x["continuation"] for x in rows)
    assert json.loads(meta_path(out).read_text())["model"] == "smollm2-135m"
