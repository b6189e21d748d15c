"""N-gram hashing, the Bloom filter and the sharded streaming build, including one under a
memory cap smaller than the corpus."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ovid.errors import CorpusError, OvidError
from ovid.overlap.bloom import BloomFilter
from ovid.overlap.bloom_build import BloomBuildConfig, build_bloom, plan_shards, shard_texts
from ovid.overlap.measure import build_filter
from ovid.overlap.ngrams import batch_ngram_hashes, ngram_hashes, ngram_hashes_from_word_hashes, word_hashes, words

TEXTS = ["The Unicorn spoke perfect English, said Dr. Pérez; 4 of them were found in 2019!",
         "İstanbul and the \u212aelvin sign lower-case to ASCII letters too.",
         "", "short one",
         "a b c d e f g h i j k l m n o p q r s t u v w x y z " * 3]


def test_words_normalise_like_the_gpt2_appendix():
    assert words("Dr. Pérez's 4 UNICORNS, in 2019!") == ["dr", "p", "rez", "s", "4", "unicorns", "in", "2019"]
    assert words("\u212aelvin") == ["kelvin"]  # str.lower() maps the Kelvin sign to 'k'


def test_hashes_are_stable_across_processes_and_pinned():
    h = ngram_hashes("one two three four five six seven eight nine")
    assert len(h) == 2
    code = "from ovid.overlap.ngrams import ngram_hashes; print(list(map(int, ngram_hashes('one two three four five six seven eight nine'))))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env=os.environ | {"PYTHONHASHSEED": "123"})
    assert json.loads(other.stdout) == [int(x) for x in h]
    assert int(word_hashes(["unicorn"])[0]) == 9170323469386529361  # the format's hash, pinned


def test_batch_hashes_equal_per_text_hashes_and_never_cross_texts():
    h, owner = batch_ngram_hashes(TEXTS)
    for i, t in enumerate(TEXTS):
        ws = words(t)
        want = ngram_hashes_from_word_hashes(word_hashes(ws))
        assert len(want) == max(0, len(ws) - 7)
        np.testing.assert_array_equal(h[owner == i], want)
        np.testing.assert_array_equal(ngram_hashes(t), want)
    assert len(h) == sum(max(0, len(words(t)) - 7) for t in TEXTS)


def test_distinct_ngrams_get_distinct_hashes():
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(50)]
    texts = [" ".join(rng.choice(vocab, 60)) for _ in range(2000)]
    h, owner = batch_ngram_hashes(texts)
    grams = {" ".join(words(t)[j:j + 8]) for t in texts for j in range(len(words(t)) - 7)}
    assert len(np.unique(h)) == len(grams)


@pytest.mark.parametrize("fpr", [0.01, 0.001])
def test_bloom_has_no_false_negatives_and_its_configured_fpr(fpr):
    rng = np.random.default_rng(1)
    items = rng.integers(0, 2**63, 200_000, dtype=np.uint64)
    bf = BloomFilter.for_capacity(len(items), fpr)
    bf.add(items)
    assert bf.contains(items).all()
    measured = bf.contains(rng.integers(0, 2**63, 400_000, dtype=np.uint64)).mean()
    assert fpr * 0.7 < measured < fpr * 1.3
    assert bf.estimated_fpr() == pytest.approx(fpr, rel=0.2)


def test_merge_save_load_and_bad_files(tmp_path):
    a, b = BloomFilter.for_capacity(1000, 0.01), BloomFilter.for_capacity(1000, 0.01)
    a.add(np.arange(10, dtype=np.uint64))
    b.add(np.arange(10, 20, dtype=np.uint64))
    a.merge(b).save(tmp_path / "f.bloom")
    back = BloomFilter.load(tmp_path / "f.bloom")
    assert back.contains(np.arange(20, dtype=np.uint64)).all() and back.n_added == 20
    with pytest.raises(OvidError, match="different shapes"):
        a.merge(BloomFilter.for_capacity(5000, 0.01))
    (tmp_path / "junk.bloom").write_bytes(b"not a filter")
    with pytest.raises(OvidError, match=r"junk\.bloom: cannot read Bloom filter"):
        BloomFilter.load(tmp_path / "junk.bloom")


def write_corpus(path, n_docs, words_per_doc=120, seed=0):
    rng = np.random.default_rng(seed)
    vocab = np.array([f"tok{i}" for i in range(20_000)])
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n_docs):
            f.write(json.dumps({"id": i, "text": " ".join(vocab[rng.integers(0, len(vocab), words_per_doc)])}) + "\n")
    return path


def test_byte_range_shards_cover_every_line_once(tmp_path):
    corpus = write_corpus(tmp_path / "c.jsonl", 101)
    shards = plan_shards([str(corpus)], 7)
    got = [t for s in shards for t in shard_texts(s)]
    want = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
    assert got == want


def test_sharded_build_equals_single_process_build_and_resumes(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "c.jsonl", 300)
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
    cfg = BloomBuildConfig(sources=[str(corpus)], out=str(tmp_path / "ref.bloom"), fpr=0.01, workers=3, batch_bytes=10_000)
    sharded = build_bloom(cfg)
    assert sharded.n_added == 300 * (120 - 7)  # counted first: capacity = the corpus' 8-grams
    single = build_filter(texts, sharded.n_added, 0.01)
    np.testing.assert_array_equal(sharded.bits, single.bits)
    assert not (tmp_path / "ref.bloom.shards").exists()
    # a killed build: two of three shards done; the rerun builds only the third
    capsys.readouterr()
    from ovid.overlap.bloom_build import build_shard
    folder = tmp_path / "ref3.bloom.shards"
    folder.mkdir()
    shards = plan_shards([str(corpus)], 3)
    for i in (0, 2):
        build_shard(shards[i], sharded.m, sharded.k, 8, 10_000, str(folder / f"shard-{i:04d}-of-0003.bloom"))
    cfg3 = BloomBuildConfig(sources=[str(corpus)], out=str(tmp_path / "ref3.bloom"), capacity=sharded.n_added, fpr=0.01,
                            workers=3, batch_bytes=10_000)
    resumed = build_bloom(cfg3)
    assert "building 1 of 3 shards" in capsys.readouterr().err
    np.testing.assert_array_equal(resumed.bits, sharded.bits)


def test_bad_jsonl_line_is_named(tmp_path):
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"text": "fine text here"}\n{"txt": "oops"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.jsonl \(line at byte 27\): expected a JSON object"):
        build_bloom(BloomBuildConfig(sources=[str(corpus)], out=str(tmp_path / "o.bloom"), capacity=10, workers=1))


CAPPED = textwrap.dedent("""
    import resource, sys
    from ovid.overlap.bloom_build import BloomBuildConfig, build_bloom
    vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    cap = vm + int(sys.argv[3]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    if sys.argv[4] == "slurp":
        data = open(sys.argv[1], encoding="utf-8").read()
        print("read", len(data))
    else:
        bf = build_bloom(BloomBuildConfig(sources=[sys.argv[1]], out=sys.argv[2], capacity=int(sys.argv[5]), fpr=0.01,
                                          workers=2), progress=False)
        print("built", bf.n_added)
""")


def test_builds_a_corpus_larger_than_its_memory_cap(tmp_path):
    corpus = write_corpus(tmp_path / "big.jsonl", 30_000, words_per_doc=500)  # ~120 MB
    size_mb = corpus.stat().st_size / 2**20
    budget_mb = 80  # address space the job may add beyond what Python + numpy already map
    assert size_mb > 1.4 * budget_mb
    n_grams = 30_000 * (500 - 7)
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    run = lambda mode: subprocess.run(  # noqa: E731
        [sys.executable, "-c", CAPPED, str(corpus), str(tmp_path / "big.bloom"), str(budget_mb), mode, str(n_grams)],
        capture_output=True, text=True, env=env, timeout=300)
    slurp = run("slurp")  # the cap is real: holding the corpus in memory fails
    assert slurp.returncode != 0 and "MemoryError" in slurp.stderr
    built = run("build")
    assert built.returncode == 0, built.stderr[-2000:]
    assert built.stdout.split() == ["built", str(n_grams)]
    bf = BloomFilter.load(tmp_path / "big.bloom")
    with open(corpus, encoding="utf-8") as f:
        sample = [json.loads(line)["text"] for i, line in enumerate(f) if i % 997 == 0]
    assert bf.contains(batch_ngram_hashes(sample)[0]).all()


def test_bloom_cli_builds_a_filter_and_names_a_missing_corpus(tmp_path):
    from test_models import run_ovid

    corpus = write_corpus(tmp_path / "c.jsonl", 40)
    r = run_ovid("bloom", str(corpus), "--out", str(tmp_path / "ref.bloom"), "--fpr", "0.01", "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "counted 4,520 8-grams" in r.stderr
    bf = BloomFilter.load(tmp_path / "ref.bloom")
    first = json.loads(corpus.read_text().splitlines()[0])["text"]
    assert bf.n_added == 4520 and bf.contains(ngram_hashes(first)).all()
    r = run_ovid("bloom", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "x.bloom"))
    assert r.returncode == 2 and r.stderr.strip() == f"error: {tmp_path / 'missing.jsonl'}: no such file or folder"
