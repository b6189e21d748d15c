"""ovid's jobs on Ray (the `ray` extra): a local Ray with two CPUs, checked against the local
engine on real shared texts."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SHARED, needs_shared, xsum_openings

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'ovid[ray]')")
pytestmark = pytest.mark.slow  # each test starts actors that load a model


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@needs_shared
def test_the_ray_bloom_build_is_bit_identical_to_the_local_one(local_ray, tmp_path, capsys):
    from ovid.overlap.bloom import BloomFilter
    from ovid.overlap.bloom_build import BloomBuildConfig, build_bloom

    data = json.loads((SHARED / "xsum_gpt2-xl.raw_data.json").read_text())
    corpus = tmp_path / "xsum.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in data["original"] + data["sampled"]))
    other = tmp_path / "writing.json"  # a second format: striped by record, not byte ranges
    other.write_text((SHARED / "writing_gpt2-xl.raw_data.json").read_text())
    common = dict(sources=[str(corpus), str(other)], fpr=1e-3, workers=2, batch_bytes=200_000)
    local = build_bloom(BloomBuildConfig(out=str(tmp_path / "local.bloom"), **common), progress=False)
    on_ray = build_bloom(BloomBuildConfig(out=str(tmp_path / "ray.bloom"), engine="ray", **common))
    assert "in 2 Ray tasks" in capsys.readouterr().err
    assert (local.m, local.k, local.n_added) == (on_ray.m, on_ray.k, on_ray.n_added) and local.n_added > 300_000
    np.testing.assert_array_equal(local.bits, on_ray.bits)
    saved = BloomFilter.load(tmp_path / "ray.bloom")
    np.testing.assert_array_equal(saved.bits, local.bits)
    assert not (tmp_path / "ray.bloom.shards").exists()


@needs_shared
def test_a_detector_scores_a_ray_dataset_as_it_scores_locally(local_ray, tiny_lm):
    from ovid.detect.batch_scoring import score_dataset
    from ovid.detect.persistence import resolve_detector

    texts = xsum_openings(24)
    params = {"model": tiny_lm, "dtype": "float32"}
    local = resolve_detector("likelihood", params).decision_function(texts)
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    rows = sorted(score_dataset(ds, "likelihood", params, workers=2, batch_size=5).take_all(), key=lambda r: r["id"])
    assert [r["text"] for r in rows] == texts
    np.testing.assert_allclose([r["score"] for r in rows], local, atol=1e-4, rtol=0)


def _labelled_corpora(folder):
    """Real shared texts in two formats: a JSONL (cut into byte ranges) and a Fast-DetectGPT JSON
    (cut into stripes)."""
    texts = xsum_openings(24)
    jsonl = folder / "xsum.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t, "label": int(i >= 12)}) + "\n" for i, t in enumerate(texts)))
    data = json.loads((SHARED / "writing_gpt2-xl.raw_data.json").read_text())
    cut = {k: [" ".join(t.split()[:50]) for t in data[k][:7]] for k in ("original", "sampled")}
    fdg = folder / "writing.json"
    fdg.write_text(json.dumps(cut))
    return [str(jsonl), str(fdg)]


def _rows(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


@needs_shared
def test_ray_scoring_gives_the_local_rows_and_auroc(local_ray, tiny_lm, tmp_path):
    from ovid.detect.score_job import ScoreJob, score_files

    files = _labelled_corpora(tmp_path)
    common = dict(files=files, detector="likelihood", params={"model": tiny_lm, "dtype": "float32"}, progress=False)
    local_line = score_files(ScoreJob(out=str(tmp_path / "local.jsonl"), **common))
    ray_line = score_files(ScoreJob(out=str(tmp_path / "ray.jsonl"), engine="ray", workers=2, shard_bytes=1500,
                                    **common))
    local, on_ray = _rows(tmp_path / "local.jsonl"), _rows(tmp_path / "ray.jsonl")
    assert len(local) == 38
    key = [(r["source"], r["id"], r.get("label")) for r in local]
    assert [(r["source"], r["id"], r.get("label")) for r in on_ray] == key  # the local order, stripes interleaved
    np.testing.assert_allclose([r["score"] for r in on_ray], [r["score"] for r in local], atol=1e-4, rtol=0)
    assert ray_line.split(":", 1)[1] == local_line.split(":", 1)[1] and "AUROC" in ray_line
    assert not (tmp_path / "ray.jsonl.parts").exists()  # the shards are gone once gathered


@needs_shared
def test_a_rerun_redoes_only_the_missing_shards_and_refuses_another_jobs(local_ray, tiny_lm, tmp_path):
    from ovid.detect.score_job import ScoreJob, score_files
    from ovid.errors import OutputError

    files = _labelled_corpora(tmp_path)
    job = ScoreJob(files=files, out=str(tmp_path / "scores"), detector="likelihood", engine="ray", workers=2,
                   params={"model": tiny_lm, "dtype": "float32"}, shard_bytes=1500, progress=False)
    first = score_files(job)
    shards = sorted((tmp_path / "scores").glob("part-*.jsonl"))
    assert len(shards) >= 4 and json.loads((tmp_path / "scores" / "_ovid_score.json").read_text())["summary"] == first
    rows = [r for s in shards for r in _rows(s)]
    stamps = {s.name: s.stat().st_mtime_ns for s in shards}
    shards[1].unlink()
    shards[-1].unlink()  # as if killed before these two were written
    assert score_files(job) == first
    again = {s.name: s.stat().st_mtime_ns for s in sorted((tmp_path / "scores").glob("part-*.jsonl"))}
    redone = {name for name in again if again[name] != stamps[name]}
    assert redone == {shards[1].name, shards[-1].name}
    assert sorted(r["score"] for s in shards for r in _rows(s)) == sorted(r["score"] for r in rows)
    other = ScoreJob(**{**job.__dict__, "params": {"model": tiny_lm, "dtype": "float32", "max_length": 64}})
    with pytest.raises(OutputError, match="holds shards of another job \\(its params differ\\)"):
        score_files(other)


@needs_shared
def test_an_actors_error_is_the_local_one_line_and_the_finished_shards_stay(local_ray, tiny_lm, tmp_path):
    from ovid.detect.score_job import ScoreJob, score_files
    from ovid.errors import CorpusError

    texts = xsum_openings(6)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts) + '{"text": oops}\n')
    job = ScoreJob(files=[str(bad)], out=str(tmp_path / "s"), detector="likelihood", engine="ray",
                   params={"model": tiny_lm, "dtype": "float32"}, shard_bytes=300, progress=False)
    with pytest.raises(CorpusError, match=r"bad\.jsonl:7: invalid JSON"):
        score_files(job)
    assert (tmp_path / "s" / "part-00000-of-00007.jsonl").exists()


@needs_shared
def test_ray_generation_equals_the_local_run_with_the_same_seed_and_batch(local_ray, tiny_lm, tmp_path):
    from ovid.generate import GenerationConfig, generate_dataset, sample_corpus
    from ovid.ray_tasks import RaySettings

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"x{i}", "text": t}) + "\n" for i, t in enumerate(xsum_openings(8))))
    cfg = GenerationConfig(model=tiny_lm, prompts=str(prompts), n=7, max_tokens=12, batch_size=3, seed=5,
                           dtype="float32")
    on_ray = RaySettings(engine="ray", workers=2)
    local, _ = sample_corpus(cfg, tmp_path / "local.jsonl", progress=False)
    ray_out, meta = sample_corpus(cfg, tmp_path / "ray.jsonl", progress=False, ray=on_ray)
    assert ray_out.read_text() == local.read_text() and meta["n_written"] == 7
    # resumed on Ray from a local start (after whole batches, as a killed run leaves it): the same file
    sample_corpus(GenerationConfig(**{**cfg.__dict__, "n": 6}), tmp_path / "mixed.jsonl", progress=False)
    sample_corpus(cfg, tmp_path / "mixed.jsonl", progress=False, ray=on_ray)
    assert (tmp_path / "mixed.jsonl").read_text() == local.read_text()
    # the API: prompts as a Ray Dataset, rows as a Ray Dataset
    from ovid.generate.ray_generation import in_order

    ds = ray.data.read_json(str(prompts))
    with in_order():
        rows = generate_dataset(GenerationConfig(**{**cfg.__dict__, "prompts": None}), ds, workers=2).take_all()
    assert [json.loads(json.dumps(r)) for r in rows] == _rows(local)
    unconditional = GenerationConfig(model=tiny_lm, n=5, max_tokens=8, batch_size=2, dtype="float32")
    a, _ = sample_corpus(unconditional, tmp_path / "u-local.jsonl", progress=False)
    b, _ = sample_corpus(unconditional, tmp_path / "u-ray.jsonl", progress=False, ray=on_ray)
    assert a.read_text() == b.read_text()


@needs_shared
def test_the_bloom_filter_of_a_ray_dataset_is_the_local_build(local_ray, tmp_path):
    from ovid.overlap.bloom_build import BloomBuildConfig, build_bloom
    from ovid.overlap.ray_bloom import bloom_from_dataset

    data = json.loads((SHARED / "squad_gpt2-xl.raw_data.json").read_text())
    corpus = tmp_path / "squad.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in data["original"] + data["sampled"]))
    local = build_bloom(BloomBuildConfig(sources=[str(corpus)], out=str(tmp_path / "l.bloom"), workers=1),
                        progress=False)
    on_ray = bloom_from_dataset(ray.data.read_json(str(corpus)), workers=2)
    assert (on_ray.m, on_ray.k, on_ray.n_added) == (local.m, local.k, local.n_added) and local.n_added > 50_000
    np.testing.assert_array_equal(on_ray.bits, local.bits)


@needs_shared
def test_the_cli_on_ray_scores_and_generates_like_the_local_engine(local_ray, tiny_lm, tmp_path, capsys):
    from ovid.cli.app import run_ovid

    files = _labelled_corpora(tmp_path)
    model = ["--detector", "likelihood", "--model", tiny_lm, "--dtype", "float32", "--no-progress"]
    assert run_ovid(["score", *files, *model, "--out", str(tmp_path / "l.csv")]) == 0
    local_line = capsys.readouterr().out.strip()
    assert run_ovid(["score", *files, *model, "--engine", "ray", "--workers", "2", "--shard-bytes", "2000",
                     "--out", str(tmp_path / "r.csv")]) == 0
    ray_line = capsys.readouterr().out.strip()
    assert ray_line.split(":", 1)[1] == local_line.split(":", 1)[1] and "AUROC" in ray_line
    import pandas as pd

    local, on_ray = pd.read_csv(tmp_path / "l.csv"), pd.read_csv(tmp_path / "r.csv")
    assert list(on_ray.columns) == list(local.columns) and list(on_ray["id"]) == list(local["id"])
    np.testing.assert_allclose(on_ray["score"], local["score"], atol=1e-4, rtol=0)
    gen = ["generate", "--model", tiny_lm, "-n", "5", "--batch-size", "2", "--max-tokens", "8", "--dtype", "float32",
           "--no-progress"]
    assert run_ovid([*gen, "--out", str(tmp_path / "g-local.jsonl")]) == 0
    assert run_ovid([*gen, "--engine", "ray", "--workers", "2", "--out", str(tmp_path / "g-ray.jsonl")]) == 0
    assert (tmp_path / "g-ray.jsonl").read_text() == (tmp_path / "g-local.jsonl").read_text()
