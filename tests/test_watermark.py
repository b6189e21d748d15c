"""Watermarks: the exact test's statistics, the settings, the order in which the sampler applies a
watermark, generation and detection end to end on a tiny random model, and resuming with a key."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy import stats as sps

from ovid.detect import make_detector
from ovid.errors import InputValueError, OvidError
from ovid.generate.config import Decoding, GenerationConfig
from ovid.generate.corpus_job import sample_corpus
from ovid.generate.sampler import TokenSampler, sample_tokens, warp_logits
from ovid.settings import SettingError
from ovid.watermark.config import WatermarkConfig
from ovid.watermark.schemes import kgw_test, logits_processor, synthid_test, watermark_test
from ovid.watermark.stats import binomial_p_value, normal_p_value, smallest_p_value, z_score


# -- the statistics ------------------------------------------------------------------------------
def test_binomial_p_value_is_the_exact_upper_tail():
    for g, t, p in [(10, 16, 0.25), (0, 5, 0.25), (5, 5, 0.25), (130, 200, 0.5)]:
        exact = sum(sps.binom.pmf(k, t, p) for k in range(g, t + 1))
        assert binomial_p_value(g, t, p) == pytest.approx(exact, rel=1e-9)
    assert binomial_p_value(0, 0, 0.25) == 1.0  # nothing scored: no evidence


def test_the_normal_tail_transformers_reports_is_too_small_for_short_texts():
    # 10 green of 16 at gamma 0.25: z = 3.46; the normal tail says 2.7e-4, the exact tail 1.6e-3
    z = z_score(10, 16, 0.25)
    assert z == pytest.approx((10 - 4) / np.sqrt(3))
    assert normal_p_value(z) == pytest.approx(2.66e-4, rel=0.01)
    assert binomial_p_value(10, 16, 0.25) == pytest.approx(1.644e-3, rel=0.01)
    # with half the tokens green, z = 4 needs about 50 tokens (Kirchenbauer et al.'s figure)
    assert z_score(25, 50, 0.25) > 4 > z_score(23, 46, 0.25)


def test_z_is_signed_and_zero_without_tokens():
    assert z_score(0, 100, 0.25) < 0 < z_score(50, 100, 0.25)
    assert z_score(0, 0, 0.25) == 0.0
    assert smallest_p_value(5, 0.25) == pytest.approx(0.25 ** 5)


# -- the settings ---------------------------------------------------------------------------------
def test_config_needs_a_valid_key():
    with pytest.raises(SettingError, match="key is required"):
        WatermarkConfig()
    for bad in (-1, 2**63, 1.5, "7", True):
        with pytest.raises(SettingError, match="key must be an integer"):
            WatermarkConfig(key=bad)
    with pytest.raises(SettingError, match="gamma must be in"):
        WatermarkConfig(key=1, gamma=1.0)
    with pytest.raises(SettingError, match="scheme must be one of kgw, synthid"):
        WatermarkConfig(key=1, scheme="red-list")
    with pytest.raises(SettingError, match="must not repeat a key"):
        WatermarkConfig(scheme="synthid", synthid_keys=[3, 3])
    with pytest.raises(SettingError, match="synthid scheme only"):
        WatermarkConfig(key=1, synthid_keys=[3, 4])


def test_synthid_layer_keys_come_from_the_key():
    a, b = WatermarkConfig(scheme="synthid", key=1), WatermarkConfig(scheme="synthid", key=2)
    assert len(a.layer_keys) == 30 and len(set(a.layer_keys)) == 30
    assert a.layer_keys == WatermarkConfig(scheme="synthid", key=1).layer_keys != b.layer_keys
    assert WatermarkConfig(scheme="synthid", synthid_keys=[5, 6, 7]).describe()["depth"] == 3


def test_describe_keeps_no_secret():
    cfg = WatermarkConfig(key=987654321)
    assert "987654321" not in json.dumps(cfg.describe())
    assert "987654321" not in json.dumps(WatermarkConfig(scheme="synthid", key=987654321).describe())


# -- the sampler: the watermark acts on the warped logits, before the draw ----------------------
def test_warp_logits_keeps_what_sample_tokens_draws_from():
    torch.manual_seed(0)
    logits = torch.randn(3, 50)
    k = warp_logits(logits, Decoding("top-k", top_k=5))
    assert (torch.isfinite(k).sum(-1) == 5).all()
    assert torch.equal(torch.isfinite(k), logits >= logits.topk(5).values[:, -1:])
    p = torch.softmax(warp_logits(logits, Decoding("top-p", top_p=0.5)), -1)
    kept = p > 0
    probs = torch.softmax(logits, -1)
    # the nucleus: the kept tokens' mass reaches p, and without the least of them it would not
    assert (probs.masked_fill(~kept, 0).sum(-1) >= 0.5).all()
    least = probs.masked_fill(~kept, 2).min(-1).values
    assert (probs.masked_fill(~kept, 0).sum(-1) - least < 0.5).all()
    t = warp_logits(logits, Decoding("temperature"))
    assert torch.allclose(t, logits / 0.7)


class AllMassOn:
    """A watermark stand-in that moves all mass to one token among those left after warping."""

    def __init__(self):
        self.seen = None

    def __call__(self, input_ids, scores):
        self.seen = scores.clone()
        finite = torch.isfinite(scores)
        last = finite.float().cumsum(-1).argmax(-1)  # the last token still allowed
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(1, last.unsqueeze(-1), 0.0)


def test_sampler_draws_after_the_watermark_and_the_watermark_sees_warped_logits():
    torch.manual_seed(1)
    logits = torch.randn(4, 40)
    mark = AllMassOn()
    out = TokenSampler(Decoding("top-k", top_k=3), watermark=mark)(torch.zeros(4, 2, dtype=torch.long), logits)
    drawn = out.argmax(-1)
    assert (torch.isfinite(mark.seen).sum(-1) == 3).all()  # truncation came first
    expected = torch.isfinite(mark.seen).float().cumsum(-1).argmax(-1)
    assert torch.equal(drawn, expected)  # the draw came after the watermark
    # without a watermark the sampler is the one plain corpora were made with
    torch.manual_seed(5)
    a = TokenSampler(Decoding("top-k", top_k=3))(torch.zeros(4, 2, dtype=torch.long), logits).argmax(-1)
    torch.manual_seed(5)
    assert torch.equal(a, sample_tokens(logits, Decoding("top-k", top_k=3)))


# -- generation and detection on a tiny model -----------------------------------------------------
@pytest.mark.parametrize("strategy", ["pure", "top-k", "top-p"])
def test_a_strong_kgw_watermark_makes_every_sampled_token_green(tmp_path, tiny_lm, strategy):
    from ovid.models import load_tokenizer

    wm = WatermarkConfig(key=11, delta=50.0)
    cfg = GenerationConfig(model=tiny_lm, decoding=Decoding(strategy, top_k=20, top_p=0.9), n=4,
                           max_tokens=20, batch_size=4, watermark=wm)
    out, meta = sample_corpus(cfg, tmp_path / "wm.jsonl", progress=False)
    check = meta["watermark"].pop("key_check")
    assert meta["watermark"] == {"scheme": "kgw", "gamma": 0.25, "delta": 50.0, "context_width": 1,
                                 "seeding_scheme": "lefthash", "vocab_size": meta["watermark"]["vocab_size"]}
    # the samples' pooled test under the run's key, for a resumed run to compare its key with
    assert check["trials"] > 40 and check["successes"] > 0.35 * check["trials"] and check["null_rate"] == 0.25
    tok = load_tokenizer(tiny_lm)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # test the generated tokens themselves (the bias applied before the draw makes them all green)
    from ovid.generate.sampling import sample_batch
    from ovid.models import load_causal_lm

    model, _ = load_causal_lm(tiny_lm)
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    samples = sample_batch(model, [[eot]] * 4, cfg.decoding, 20, {eot}, seed=3, watermark=wm)
    grams = [[eot, *s.new_ids] for s in samples]
    test = kgw_test(grams, wm, model.config.vocab_size)
    assert (test.successes == test.trials).all() and test.trials.min() >= 5
    assert len(rows) == 4


def test_synthid_generation_is_found_and_plain_text_is_not(tiny_lm):
    # the generated tokens themselves: a random tiny model's samples do not survive decoding and
    # re-tokenizing (its BPE would split them otherwise), a real model's mostly do
    from ovid.generate.sampling import sample_batch
    from ovid.models import load_causal_lm

    model, tok = load_causal_lm(tiny_lm)
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    wm = WatermarkConfig(scheme="synthid", key=5, ngram_len=3, depth=8)
    marked = [s.new_ids for s in sample_batch(model, [[eot]] * 8, Decoding("pure"), 40, {eot}, seed=1, watermark=wm)]
    plain = [s.new_ids for s in sample_batch(model, [[eot]] * 8, Decoding("pure"), 40, {eot}, seed=1)]
    m, p = synthid_test(marked, wm), synthid_test(plain, wm)
    assert (m.p_value < 1e-6).all() and m.success_rate.mean() > 0.6
    assert (p.p_value > 1e-4).all() and abs(p.success_rate.mean() - 0.5) < 0.05
    other_key = synthid_test(marked, WatermarkConfig(scheme="synthid", key=6, ngram_len=3, depth=8))
    assert (other_key.p_value > 1e-4).all()


def test_kgw_detector_end_to_end_flags_short_texts(tiny_lm, tmp_path):
    # a strong bias: the tiny model's samples lose some tokens to re-tokenizing (see above)
    wm = WatermarkConfig(key=77, delta=10.0)
    out, _ = sample_corpus(GenerationConfig(model=tiny_lm, n=6, max_tokens=48, batch_size=6, watermark=wm),
                           tmp_path / "k.jsonl", progress=False)
    det = make_detector("watermark", model=tiny_lm, key=77, delta=10.0)
    texts = [json.loads(x)["text"] for x in out.read_text().splitlines()]
    rows = det.test([*texts, "", "The fox"])
    assert [r["watermark"] for r in rows[-2:]] == ["too-short", "too-short"]
    assert rows[-1]["p_value"] is None and rows[-2]["tokens_scored"] == 0
    tested = [r for r in rows[:-2] if r["watermark"] == "tested"]
    assert len(tested) >= 4 and sum(r["p_value"] < 1e-3 for r in tested) >= len(tested) - 2
    assert det.predict(texts).sum() == sum(r["p_value"] < 1e-3 for r in tested)
    scores = det.decision_function(texts)
    assert np.allclose(scores, [r["z"] for r in rows[:-2]])


def test_detector_refuses_bad_settings(tiny_lm):
    with pytest.raises(InputValueError, match="key is required"):
        make_detector("watermark", model=tiny_lm)
    with pytest.raises(InputValueError, match="key must be an integer"):
        make_detector("watermark", model=tiny_lm, key="secret")
    with pytest.raises(InputValueError, match="alpha must be in"):
        make_detector("watermark", model=tiny_lm, key=1, alpha=0)
    with pytest.raises(InputValueError, match="min_tokens must be"):
        make_detector("watermark", model=tiny_lm, key=1, min_tokens=0)


def test_resuming_a_watermarked_corpus_with_another_key_is_refused(tmp_path, tiny_lm):
    base = dict(model=tiny_lm, max_tokens=40, batch_size=4)
    out = tmp_path / "r.jsonl"
    mark = lambda key: WatermarkConfig(key=key, delta=8.0)  # noqa: E731
    sample_corpus(GenerationConfig(**base, n=4, watermark=mark(1)), out, progress=False)
    before = out.read_bytes()
    with pytest.raises(OvidError, match="carry their watermark .* but not this --watermark-key's"):
        sample_corpus(GenerationConfig(**base, n=8, watermark=mark(2)), out, progress=False)
    assert out.read_bytes() == before
    _, meta = sample_corpus(GenerationConfig(**base, n=8, watermark=mark(1)), out, progress=False)
    assert meta["n_written"] == 8 and "key" not in meta["watermark"]
    # a corpus whose samples never showed the mark (SynthID's 5-grams lost to the tiny model's
    # re-tokenizing) cannot tell keys apart: it resumes, as a rerun of a finished study does
    syn = tmp_path / "s.jsonl"
    sample_corpus(GenerationConfig(**base, n=4, watermark=WatermarkConfig(scheme="synthid", key=1)), syn,
                  progress=False)
    _, meta = sample_corpus(GenerationConfig(**base, n=8, watermark=WatermarkConfig(scheme="synthid", key=1)), syn,
                            progress=False)
    assert meta["n_written"] == 8


def test_record_key_writes_the_key_and_a_detector_checks_it(tmp_path, tiny_lm):
    from ovid.detect.score_job import ScoreJob, score_files

    out = tmp_path / "rk.jsonl"
    _, meta = sample_corpus(GenerationConfig(model=tiny_lm, n=2, max_tokens=30, batch_size=2, record_key=True,
                                             watermark=WatermarkConfig(key=31)), out, progress=False)
    assert meta["watermark"]["key"] == 31
    job = dict(files=[str(out)], detector="watermark", progress=False)
    with pytest.raises(OvidError, match="records its watermark key, and it is not the key given"):
        score_files(ScoreJob(**job, out=str(tmp_path / "a.jsonl"), params={"model": tiny_lm, "key": 32}))
    with pytest.raises(OvidError, match="watermarked with gamma 0.25, but the detector has gamma 0.5"):
        score_files(ScoreJob(**job, out=str(tmp_path / "b.jsonl"), params={"model": tiny_lm, "key": 31, "gamma": 0.5}))
    line = score_files(ScoreJob(**job, out=str(tmp_path / "c.jsonl"), params={"model": tiny_lm, "key": 31}))
    assert "2 texts scored with watermark" in line
    rows = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert {"p_value", "watermark", "tokens_scored", "z"} <= set(rows[0])


def test_texts_of_another_tokenizer_are_flagged_not_tested(tmp_path, tiny_lm):
    from ovid.detect.score_job import ScoreJob, score_files

    from conftest import build_tiny_lm

    other = str(build_tiny_lm(tmp_path / "other", vocab_size=280))
    out = tmp_path / "o.jsonl"
    sample_corpus(GenerationConfig(model=other, n=2, max_tokens=30, batch_size=2, watermark=WatermarkConfig(key=4)),
                  out, progress=False)
    score_files(ScoreJob(files=[str(out)], out=str(tmp_path / "s.jsonl"), detector="watermark",
                         params={"model": tiny_lm, "key": 4}, progress=False))
    rows = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [(r["watermark"], r["p_value"]) for r in rows] == [("other-tokenizer", None)] * 2


def test_schemes_use_transformers_processors():
    from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor, WatermarkLogitsProcessor

    assert isinstance(logits_processor(WatermarkConfig(key=1), 100), WatermarkLogitsProcessor)
    assert isinstance(logits_processor(WatermarkConfig(scheme="synthid", key=1), 100),
                      SynthIDTextWatermarkLogitsProcessor)
    # repeated n-grams count once
    t = watermark_test([[1, 2, 1, 2, 1, 2, 1, 2]], WatermarkConfig(key=3), 100)
    assert t.trials.tolist() == [2]
    s = synthid_test([[1, 2, 3, 1, 2, 3, 1, 2, 3]], WatermarkConfig(scheme="synthid", key=3, ngram_len=3, depth=4))
    assert s.trials.tolist() == [3 * 4]  # 3 fresh contexts (1 2, 2 3, 3 1), 4 layers each


@pytest.mark.parametrize("top_k", [None, 7])
def test_ovid_synthid_processor_scores_as_transformers_does(top_k):
    from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

    from ovid.watermark.config import SYNTHID_HISTORY, SYNTHID_TABLE_SEED, SYNTHID_TABLE_SIZE

    cfg = WatermarkConfig(scheme="synthid", key=9, ngram_len=3, depth=6)
    ours = logits_processor(cfg, 0)
    theirs = SynthIDTextWatermarkLogitsProcessor(ngram_len=3, keys=cfg.layer_keys, sampling_table_size=SYNTHID_TABLE_SIZE,
                                                 sampling_table_seed=SYNTHID_TABLE_SEED,
                                                 context_history_size=SYNTHID_HISTORY, device="cpu")
    assert isinstance(ours, SynthIDTextWatermarkLogitsProcessor)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 50, (3, 4), generator=gen)
    for step in range(6):  # the context and its history advance the same way
        scores = torch.randn(3, 50, generator=gen)
        if top_k:
            scores = warp_logits(scores, Decoding("top-k", top_k=top_k))
        a, b = ours(ids, scores), theirs(ids, scores)
        assert torch.allclose(a, b, atol=1e-5), step
        ids = torch.cat([ids, (a + torch.rand(3, 50, generator=gen)).argmax(-1, keepdim=True)], dim=1)
        if step == 3:
            ids[:, -1] = ids[:, -3]  # a repeated context is left unmarked by both
