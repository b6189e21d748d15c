"""int8 scoring (ovid/quantize.py): the body is quantized, the output layer is not, and a model
whose int8 statistics stray from float32's is scored in float32 with a note."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ovid import quantize
from ovid.detect.engine import EngineConfig, ScoringEngine
from ovid.models import fresh_causal_lm
from ovid.settings import SettingError


@pytest.fixture(scope="module")
def tiny_llama(tiny_lm, tmp_path_factory) -> str:
    """A random 2-block Llama (nn.Linear layers, unlike GPT-2's Conv1D) with the tiny tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tiny_lm)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(cfg).eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def test_quantize_body_replaces_the_body_linears_and_keeps_the_head(tiny_llama):
    model = quantize.quantize_body(fresh_causal_lm(tiny_llama, "float32"))
    body_linears = [m for m in model.base_model.modules() if type(m) is torch.nn.Linear]
    quantized = [m for m in model.base_model.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert body_linears == [] and len(quantized) == 2 * 7  # q, k, v, o, gate, up, down per block
    assert type(model.get_output_embeddings()) is torch.nn.Linear
    assert model.get_output_embeddings().weight.dtype == torch.float32
    assert model.ovid_dtype == "int8"


def test_a_body_without_linear_layers_is_left_unmarked(tiny_lm):
    model = quantize.quantize_body(fresh_causal_lm(tiny_lm, "float32"))  # GPT-2: Conv1D
    assert not hasattr(model, "ovid_dtype")


def test_agreement_measures_the_log_probability_gap():
    a = torch.tensor([-1.0, -2.0, -3.0, -4.0])
    assert quantize.agreement_of(a, a) == {"mean_abs_diff": 0.0, "correlation": 1.0}
    shifted = quantize.agreement_of(a, a - 0.5)
    assert shifted["mean_abs_diff"] == pytest.approx(0.5) and shifted["correlation"] == pytest.approx(1.0)
    assert quantize.agrees_with({"mean_abs_diff": 0.05, "correlation": 0.999})
    assert not quantize.agrees_with({"mean_abs_diff": 0.5, "correlation": 0.999})
    assert not quantize.agrees_with({"mean_abs_diff": 0.05, "correlation": 0.9})


TEXTS = ["The quick brown fox jumps over the lazy dog.", "A detector scores every token of a text with a model."]


def _engine(model: str) -> ScoringEngine:
    from ovid import models

    models._shared_causal_lm.cache_clear()  # each test decides the check's outcome afresh
    models.int8_usable.cache_clear()
    return ScoringEngine(EngineConfig(model=model, dtype="int8"))


def test_int8_engine_runs_quantized_where_the_check_passes(tiny_llama, monkeypatch):
    monkeypatch.setattr(quantize, "MAX_MEAN_LOGPROB_DIFF", float("inf"))
    monkeypatch.setattr(quantize, "MIN_LOGPROB_CORRELATION", -1.0)
    engine = _engine(tiny_llama)
    assert engine.config.dtype == "int8" and engine.model.ovid_dtype == "int8"
    reference = ScoringEngine(EngineConfig(model=tiny_llama, dtype="float32"))
    assert reference.key != engine.key  # the statistics cache keeps the two apart
    for q, f in zip(engine.token_stats(TEXTS), reference.token_stats(TEXTS)):
        assert np.array_equal(q.token_ids, f.token_ids)
        assert np.abs(q.log_prob - f.log_prob).mean() < 0.5  # a random model: close, not equal
        assert not np.array_equal(q.log_prob, f.log_prob)


def test_int8_engine_falls_back_to_float32_with_a_note(tiny_llama, monkeypatch, capsys):
    monkeypatch.setattr(quantize, "MAX_MEAN_LOGPROB_DIFF", -1.0)
    engine = _engine(tiny_llama)
    assert engine.config.dtype == "float32" and not hasattr(engine.model, "ovid_dtype")
    err = capsys.readouterr().err
    assert "cannot run in int8 (its token log-probabilities stray from float32's" in err
    assert "scoring in float32" in err
    reference = ScoringEngine(EngineConfig(model=tiny_llama, dtype="float32"))
    for q, f in zip(engine.token_stats(TEXTS), reference.token_stats(TEXTS)):
        assert np.allclose(q.log_prob, f.log_prob, atol=1e-5)


def test_int8_is_a_scoring_dtype_only():
    from ovid.detect.params import TrainConfig

    with pytest.raises(SettingError, match="dtype"):
        TrainConfig(dtype="int8")


def test_the_check_s_figures_are_kept_and_a_damaged_file_is_ignored(tiny_llama, monkeypatch, tmp_path, capsys):
    from ovid import models

    kept = tmp_path / "int8-check.json"
    monkeypatch.setattr(models, "_int8_check_file", lambda name: kept)
    monkeypatch.setattr(quantize, "MAX_MEAN_LOGPROB_DIFF", float("inf"))
    monkeypatch.setattr(quantize, "MIN_LOGPROB_CORRELATION", -1.0)
    assert _engine(tiny_llama).config.dtype == "int8"
    figures = json.loads(kept.read_text())
    assert set(figures) == {"mean_abs_diff", "correlation"} and figures["mean_abs_diff"] > 0
    kept.write_text(json.dumps({"mean_abs_diff": 9.25, "correlation": 0.5}))  # read, not measured again
    monkeypatch.setattr(quantize, "MAX_MEAN_LOGPROB_DIFF", 1.0)
    engine = _engine(tiny_llama)
    assert engine.config.dtype == "float32" and "9.250 nats" in capsys.readouterr().err
    kept.write_text('{"mean_abs_diff": 0.01}')  # damaged: measured again, and kept whole
    _engine(tiny_llama)
    assert set(json.loads(kept.read_text())) == {"mean_abs_diff", "correlation"}


def test_a_failed_int8_shares_the_float32_model(tiny_llama, monkeypatch):
    from ovid import models

    monkeypatch.setattr(quantize, "MAX_MEAN_LOGPROB_DIFF", -1.0)
    _engine(tiny_llama)
    assert models.load_causal_lm(tiny_llama, "int8")[0] is models.load_causal_lm(tiny_llama, "float32")[0]


def test_gpt2_conv1d_bodies_run_float32_with_a_note(tiny_lm, capsys):
    engine = _engine(tiny_lm)
    assert engine.config.dtype == "float32"
    assert "no Linear layers to quantize" in capsys.readouterr().err


def test_a_detector_saved_with_auto_may_be_told_its_dtype():
    """ovid:default is saved with dtype auto (bf16 where native): float32 or bf16 may be asked for
    (float32: scores that repeat exactly on every machine); int8 was never checked for it."""
    from ovid.detect.persistence import resolve_detector
    from ovid.errors import OvidError

    assert resolve_detector("ovid:default", {"dtype": "float32"}).dtype == "float32"
    assert resolve_detector("ovid:default", {"dtype": "bfloat16"}).dtype == "bfloat16"
    with pytest.raises(OvidError, match="only --cache-dir, --token-budget and --dtype auto"):
        resolve_detector("ovid:default", {"dtype": "int8"})
    with pytest.raises(OvidError, match="only --cache-dir and --token-budget change"):
        resolve_detector("ovid:default-v1", {"dtype": "float32"})
