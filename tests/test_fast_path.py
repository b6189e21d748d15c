"""The engine's fast path against the readable one: fused/compiled statistics, the output layer
at scored positions only, compiled decoder blocks, and dtype 'auto'."""
import numpy as np
import pytest
import torch

from ovid import hardware
from ovid.detect.engine import EngineConfig, ScoringEngine
from ovid.detect.forward import repeated_blocks
from ovid.detect.fused_stats import fused_token_statistics
from ovid.detect.stats import STAT_NAMES, token_statistics
from ovid.errors import OvidError

TEXTS = ["The quick brown fox jumps over the lazy dog.",
         "People found the samples convincing, and detectors caught most of them. " * 3,
         "Machine text tends to have higher likelihood than human text."]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("with_ref", [False, True])
def test_fused_statistics_equal_the_reference_definition(compiled, with_ref):
    g = torch.Generator().manual_seed(0)
    n, v = 300, 5000  # several blocks, and bf16 logits with ties for the rank
    logits = (torch.randn(n, v, generator=g) * 4).bfloat16()
    ref = (torch.randn(n, v, generator=g) * 2) if with_ref else None
    targets = torch.randint(0, v, (n,), generator=g)
    want = token_statistics(logits[None], targets[None], None if ref is None else ref[None])
    got = fused_token_statistics(logits, targets, ref, compiled=compiled)
    for k in STAT_NAMES:
        np.testing.assert_allclose(got[k].numpy(), want[k][0].numpy(), rtol=2e-5, atol=2e-4, err_msg=k)
    assert got["rank"].min() >= 1 and (got["rank"] == want["rank"][0]).all()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("with_ref", [False, True])
def test_tiled_statistics_equal_the_reference_definition(compiled, with_ref, monkeypatch):
    from ovid.detect import tiled_stats

    monkeypatch.setattr(tiled_stats, "VOCAB_TILE", 700)  # several tiles, the last one short
    monkeypatch.setattr(tiled_stats, "ROW_BLOCK", 128)
    g = torch.Generator().manual_seed(1)
    n, v, h = 300, 5000, 32
    hidden, weight = torch.randn(n, h, generator=g).bfloat16(), torch.randn(v, h, generator=g).bfloat16()
    ref_hidden = torch.randn(n, h, generator=g).bfloat16() if with_ref else None
    ref_weight = (torch.randn(v + 11, h, generator=g) * 0.5).bfloat16() if with_ref else None  # padded vocab
    targets = torch.randint(0, v, (n,), generator=g)
    want = token_statistics((hidden @ weight.T)[None], targets[None],
                            None if ref_hidden is None else (ref_hidden @ ref_weight[:v].T)[None])
    got = tiled_stats.tiled_token_statistics(hidden, weight, targets, ref_hidden, ref_weight, compiled=compiled)
    for k in ("log_prob", "entropy", "ref_mean"):
        np.testing.assert_allclose(got[k].numpy(), want[k][0].numpy(), rtol=1e-4, atol=3e-4, err_msg=k)
    np.testing.assert_allclose(got["ref_var"].numpy(), want["ref_var"][0].numpy(), rtol=1e-3, atol=1e-3)
    assert (got["rank"] == want["rank"][0]).float().mean() >= 0.99  # a bf16 tie may round either way


def test_engine_tiled_path_gives_the_blocked_numbers(tiny_lm):
    eng = ScoringEngine(EngineConfig(model=tiny_lm, dtype="float32", compile="never"))
    assert eng.logits.tiled  # GPT-2's output layer: a bias-free linear map
    tiled = stats_of(eng, TEXTS)
    eng.logits.tiled = False
    assert_same(stats_of(eng, TEXTS), tiled, atol=1e-4)


def stats_of(eng, texts):
    return eng._compute(texts, progress=False)


def assert_same(a, b, atol):
    for x, y in zip(a, b):
        for k in STAT_NAMES:
            np.testing.assert_allclose(getattr(x, k), getattr(y, k), atol=atol, err_msg=k)


def test_compiled_blocks_give_the_eager_numbers(tiny_lm):
    eager = ScoringEngine(EngineConfig(model=tiny_lm, dtype="float32", compile="never"))
    comp = ScoringEngine(EngineConfig(model=tiny_lm, dtype="float32", compile="always"))
    assert_same(stats_of(comp, TEXTS), stats_of(eager, TEXTS), atol=1e-4)
    assert comp.compiled and comp.logits.compiled and not eager.compiled
    assert comp.logits.body is not comp.model.base_model  # the shared model stays eager
    assert not any(isinstance(m, torch._dynamo.eval_frame.OptimizedModule) for m in comp.model.modules())


def test_auto_compiles_only_large_jobs(tiny_lm, monkeypatch):
    from ovid.detect import engine as engine_mod
    eng = ScoringEngine(EngineConfig(model=tiny_lm, dtype="float32"))
    stats_of(eng, TEXTS)
    assert not eng.compiled
    assert eng.compile_min_tokens == 100_000  # a small vocabulary: the measured threshold
    eng.vocab = 262_144
    assert eng.compile_min_tokens == 18_750  # Gemma 3's: compiling pays off sooner
    monkeypatch.setattr(engine_mod, "COMPILE_MIN_TOKENS", 10)
    stats_of(eng, TEXTS)
    assert eng.compiled
    with pytest.raises(OvidError, match="compile must be one of auto, always, never, got 'yes'"):
        EngineConfig(model=tiny_lm, compile="yes")


def test_full_logits_fallback_gives_the_same_numbers(tiny_lm):
    eng = ScoringEngine(EngineConfig(model=tiny_lm, dtype="float32", compile="never"))
    assert eng.logits.split  # GPT-2: logits = lm_head(transformer(x))
    fast = stats_of(eng, TEXTS)
    eng.logits.split = False  # what a model with soft-capped logits gets
    assert_same(stats_of(eng, TEXTS), fast, atol=1e-5)


def test_split_check_rejects_a_model_whose_logits_are_not_head_of_body(tiny_lm):
    from ovid.detect.forward import ScoredLogits
    from ovid.models import fresh_causal_lm

    model = fresh_causal_lm(tiny_lm, "float32")
    plain = model.forward
    model.forward = lambda *a, **kw: type(plain(*a, **kw))(logits=2 * plain(*a, **kw).logits)  # a logit scale
    assert not ScoredLogits(model, [0, 5, 7, 9]).split


def test_repeated_blocks_finds_the_decoder_stack(tiny_lm):
    from ovid.models import fresh_causal_lm

    name, blocks = repeated_blocks(fresh_causal_lm(tiny_lm, "float32").base_model)
    assert name == "h" and len(blocks) == 2


def test_bf16_engine_is_close_to_fp32(tiny_lm):
    fp32 = stats_of(ScoringEngine(EngineConfig(model=tiny_lm, dtype="float32", compile="never")), TEXTS)
    bf16 = stats_of(ScoringEngine(EngineConfig(model=tiny_lm, dtype="bfloat16", compile="never")), TEXTS)
    for a, b in zip(fp32, bf16):
        assert np.abs(a.log_prob - b.log_prob).mean() < 0.05
        assert not np.array_equal(a.log_prob, b.log_prob)  # it really ran in bf16


def test_auto_dtype_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(hardware, "device", lambda: "cpu")
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert hardware.resolve_dtype("auto") == "bfloat16"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert hardware.resolve_dtype("auto") == "bfloat16"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert hardware.resolve_dtype("auto") == "float32"
    assert hardware.resolve_dtype("bfloat16") == "bfloat16"


def test_engine_cache_key_names_the_resolved_dtype(tiny_lm):
    eng = ScoringEngine(EngineConfig(model=tiny_lm, dtype="auto", compile="never"))
    assert eng.config.dtype in ("float32", "bfloat16")
    assert f"dtype={eng.config.dtype}" in eng.key and "compile" not in eng.key
