"""ovid's jobs on Ray (the `ray` extra): a local Ray with two CPUs, checked against the local
engine on real shared texts."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SHARED, needs_shared, xsum_openings

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'ovid[ray]')")


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
    from ovid.detect.score_job import resolve_detector

    texts = xsum_openings(24)
    params = {"model": tiny_lm, "dtype": "float32"}
    local = resolve_detector("likelihood", params).score(texts)
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    rows = sorted(score_dataset(ds, "likelihood", params, workers=2, batch_size=5).take_all(), key=lambda r: r["id"])
    assert [r["text"] for r in rows] == texts
    np.testing.assert_allclose([r["score"] for r in rows], local, atol=1e-4, rtol=0)
