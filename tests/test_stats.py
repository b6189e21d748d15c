"""Token statistics against hand computation, and the engine's padding/window invariance."""
import math

import numpy as np
import pytest
import torch

from ovid.detect import features as F
from ovid.detect.engine import EngineConfig, ScoringEngine, pack_batches, plan_windows
from ovid.detect.features import TokenStats
from ovid.detect.stats import token_statistics
from ovid.errors import OvidError

from conftest import build_tiny_lm

TEXTS = ["The quick brown fox jumps over the lazy dog.",
         "People found the samples convincing, and detectors caught most of them. " * 3,
         "Machine text tends to have higher likelihood than human text."]


def test_token_statistics_by_hand():
    logits = torch.tensor([[[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, 3.0, 0.0]]])  # (1, 2, 4)
    targets = torch.tensor([[1, 2]])
    s = token_statistics(logits, targets)
    p0 = np.exp([2, 1, 0, -1]) / np.exp([2, 1, 0, -1]).sum()
    assert s["log_prob"][0, 0].item() == pytest.approx(math.log(p0[1]), abs=1e-6)
    assert s["rank"][0].tolist() == [2.0, 1.0]
    assert s["entropy"][0, 0].item() == pytest.approx(-(p0 * np.log(p0)).sum(), abs=1e-6)
    mean = (p0 * np.log(p0)).sum()
    assert s["ref_mean"][0, 0].item() == pytest.approx(mean, abs=1e-6)
    assert s["ref_var"][0, 0].item() == pytest.approx((p0 * np.log(p0) ** 2).sum() - mean ** 2, abs=1e-6)
    # with a reference distribution q: mean and variance of log p under q
    ref = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    s2 = token_statistics(logits, targets, ref)
    assert s2["ref_mean"][0, 0].item() == pytest.approx(np.log(p0).mean(), abs=1e-6)
    assert s2["log_prob"][0, 0].item() == pytest.approx(math.log(p0[1]), abs=1e-6)


def stats(logp, rank, ent, mean, var):
    n = len(logp)
    return TokenStats(np.zeros(n, dtype=np.int64), *(np.asarray(x, dtype=np.float32) for x in (logp, rank, ent, mean, var)))


MACHINE = stats([-1.0, -0.5, -1.2], [1, 1, 2], [1.0, 1.2, 0.8], [-1.5, -1.4, -1.6], [1.0, 1.0, 1.0])
HUMAN = stats([-4.0, -6.0, -3.5], [40, 900, 12], [3.0, 3.5, 2.8], [-2.0, -2.2, -1.9], [2.0, 2.0, 2.0])


@pytest.mark.parametrize("name", list(F.SCALAR_FEATURES))
def test_sign_higher_is_more_machine_like(name):
    f = F.SCALAR_FEATURES[name]
    assert f(MACHINE) > f(HUMAN)


def test_feature_values_by_hand():
    assert F.likelihood(MACHINE) == pytest.approx(-0.9)
    assert F.logrank(HUMAN) == pytest.approx(-np.mean(np.log([40, 900, 12])))
    assert F.lrr(HUMAN) == pytest.approx(13.5 / np.log([40, 900, 12]).sum(), rel=1e-6)
    assert F.fast_detectgpt(MACHINE) == pytest.approx((-2.7 + 4.5) / math.sqrt(3.0), rel=1e-6)
    assert F.binoculars(HUMAN) == pytest.approx(-(13.5 / 3) / (6.1 / 3), rel=1e-6)
    assert F.gltr_buckets(stats([0] * 6, [1, 10, 11, 100, 1000, 1001], [0] * 6, [0] * 6, [0] * 6)).tolist() == [0, 0, 1, 1, 2, 3]
    assert F.gltr_fractions(HUMAN).tolist() == pytest.approx([0, 2 / 3, 1 / 3, 0])
    assert len(F.feature_vector(HUMAN)) == len(F.FEATURE_NAMES) == 10


def test_plan_windows_scores_each_token_once():
    ws = plan_windows(25, 0, window=9, stride=4)
    assert ws[0].start == 0 and ws[0].end == 8 and ws[0].score_from == 0
    scored = [t for w in ws for t in range(w.score_from, w.end)]
    assert scored == list(range(25))
    assert all(w.end - w.start <= 8 for w in ws)
    assert all(w.score_from - w.start == 4 for w in ws[1:-1])  # 4 tokens of context
    batches = pack_batches(ws + plan_windows(3, 1, 9, 4), budget=20)
    assert all(len(b) * (b[0].end - b[0].start + 1) <= 20 for b in batches)


def manual_stats(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    return token_statistics(logits[:, :-1], torch.tensor([ids[1:]]))


def test_engine_matches_direct_forward_and_is_padding_invariant(tiny_lm):
    eng = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm))
    doc = eng.doc_id
    ids = eng.tokenizer(TEXTS[0], add_special_tokens=False).input_ids
    direct = manual_stats(eng.model, [doc] + ids)
    alone = eng._compute([TEXTS[0]], progress=False)[0]
    batched = eng._compute(TEXTS, progress=False)[0]  # padded beside a longer text
    assert alone.token_ids.tolist() == ids
    for k in direct:
        np.testing.assert_allclose(alone.__dict__[k], direct[k][0].numpy(), atol=1e-5)
        np.testing.assert_allclose(batched.__dict__[k], alone.__dict__[k], atol=1e-5)


def test_engine_windows_equal_direct_forward_on_each_window(tiny_lm):
    long_text = TEXTS[1]
    eng = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm, max_length=12, stride=5))
    ids = eng.tokenizer(long_text, add_special_tokens=False).input_ids
    assert len(ids) > 30
    got = eng._compute([long_text], progress=False)[0]
    assert len(got) == len(ids)
    full = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm))._compute([long_text], progress=False)[0]
    np.testing.assert_allclose(got.log_prob[:11], full.log_prob[:11], atol=1e-5)  # first window
    for w in plan_windows(len(ids), 0, 12, 5):
        direct = manual_stats(eng.model, [eng.doc_id] + ids[w.start:w.end])
        k = w.score_from - w.start
        np.testing.assert_allclose(got.log_prob[w.score_from:w.end], direct["log_prob"][0, k:].numpy(), atol=1e-5)
        np.testing.assert_allclose(got.ref_var[w.score_from:w.end], direct["ref_var"][0, k:].numpy(), atol=1e-5)


def test_empty_text_is_an_error_naming_its_id(tiny_lm):
    eng = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm))
    with pytest.raises(OvidError, match=r"text 'b\.jsonl:7' is empty or whitespace-only"):
        eng.token_stats(["fine text", "  \n"], ids=["a", "b.jsonl:7"])


def test_disk_cache_reuses_one_pass(tiny_lm, tmp_path):
    cfg = EngineConfig(dtype="float32", model=tiny_lm, cache_dir=str(tmp_path))
    first = ScoringEngine(cfg).token_stats(TEXTS)
    shards = list(tmp_path.rglob("*.parquet"))
    assert len(shards) == 1
    again = ScoringEngine(cfg)
    again._compute = None  # a second pass would crash: everything must come from the cache
    second = again.token_stats(TEXTS)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.token_ids, b.token_ids)
        np.testing.assert_allclose(a.log_prob, b.log_prob)
        np.testing.assert_allclose(a.ref_var, b.ref_var)


def test_reference_model_moments_and_binoculars_by_hand(tiny_lm, tmp_path):
    ref_dir = str(build_tiny_lm(tmp_path / "ref", seed=1))
    eng = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm, reference_model=ref_dir))
    s = eng.token_stats([TEXTS[2]])[0]
    ids = [eng.doc_id] + eng.tokenizer(TEXTS[2], add_special_tokens=False).input_ids
    with torch.no_grad():
        lp = torch.log_softmax(eng.model(torch.tensor([ids])).logits[0, :-1], -1)
        lq = torch.log_softmax(eng.ref(torch.tensor([ids])).logits[0, :-1], -1)
    x_ppl = -(lq.exp() * lp).sum(-1).mean().item()
    log_ppl = -lp.gather(-1, torch.tensor(ids[1:]).unsqueeze(-1)).mean().item()
    assert F.binoculars(s) == pytest.approx(-log_ppl / x_ppl, rel=1e-4)
    single = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm)).token_stats([TEXTS[2]])[0]
    assert F.binoculars(single) == pytest.approx(-log_ppl / np.mean(single.entropy), rel=1e-4)


def test_pooled_hidden_states_are_the_mean_over_scored_tokens_from_the_same_pass(tiny_lm):
    eng = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm, pool_layers=(1, -1)))
    plain = ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm))
    doc = eng.doc_id
    got = eng._compute(TEXTS, progress=False)  # batched with padding
    for text, stats in zip(TEXTS, got):
        ids = [doc] + eng.tokenizer(text, add_special_tokens=False).input_ids
        with torch.no_grad():
            hs = eng.model.base_model(torch.tensor([ids]), output_hidden_states=True).hidden_states
        # position t predicts token t+1: the scored positions are all but the last
        want = np.stack([hs[1][0, :-1].mean(0).numpy(), hs[-1][0, :-1].mean(0).numpy()])
        assert stats.pooled.shape == (2, eng.model.config.hidden_size)
        np.testing.assert_allclose(stats.pooled, want, atol=1e-5)
    # the statistics are those of an engine that pools nothing; its cache key is unchanged
    for a, b in zip(got, plain._compute(TEXTS, progress=False)):
        np.testing.assert_allclose(a.log_prob, b.log_prob, atol=1e-5)
        assert b.pooled is None
    assert "pool_layers" not in plain.key and "pool_layers=(1, 2)" in eng.key


def test_pooled_hidden_states_of_a_windowed_text_average_every_scored_token(tiny_lm):
    long_text = TEXTS[1]
    cfg = dict(dtype="float32", model=tiny_lm, pool_layers=(2,))
    windowed = ScoringEngine(EngineConfig(max_length=12, stride=5, **cfg))
    ids = windowed.tokenizer(long_text, add_special_tokens=False).input_ids
    got = windowed._compute([long_text], progress=False)[0]
    sums = []
    for w in plan_windows(len(ids), 0, 12, 5):
        with torch.no_grad():
            h = windowed.model.base_model(torch.tensor([[windowed.doc_id] + ids[w.start:w.end]]),
                                          output_hidden_states=True).hidden_states[2][0]
        k = w.score_from - w.start
        sums.append(h[k:len(h) - 1].sum(0).numpy())
    np.testing.assert_allclose(got.pooled[0], np.sum(sums, 0) / len(ids), atol=1e-5)


def test_pooled_layers_out_of_range_are_refused_and_cached_pooled_states_round_trip(tiny_lm, tmp_path):
    with pytest.raises(OvidError, match=r"pool_layers \[7\] out of range .* it has 3 hidden-state layers"):
        ScoringEngine(EngineConfig(dtype="float32", model=tiny_lm, pool_layers=(7,)))
    cfg = EngineConfig(dtype="float32", model=tiny_lm, pool_layers=(0, 2), cache_dir=str(tmp_path))
    first = ScoringEngine(cfg).token_stats(TEXTS)
    again = ScoringEngine(cfg)
    again._compute = None  # from the cache only
    for a, b in zip(first, again.token_stats(TEXTS)):
        assert b.pooled.shape == a.pooled.shape == (2, 64)
        np.testing.assert_allclose(a.pooled, b.pooled)
