import os
import subprocess
import sys

import pytest

from ovid.errors import ModelUnavailable
from ovid.hardware import resolve_dtype
from ovid.models import REGISTRY, family_members, load_causal_lm, resolve

from conftest import needs_smollm2

OFFLINE_ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def run_ovid(*args, env=OFFLINE_ENV, timeout=300):
    return subprocess.run([sys.executable, "-c", "from ovid.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


def test_registry_sizes_and_families():
    assert family_members("gpt2") == ["gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl"]
    assert [REGISTRY[n].hub_id for n in family_members("gpt2")] == ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"]
    assert REGISTRY["gpt2-xl"].params > 1.5e9 and REGISTRY["gpt2-small"].params == 124_000_000
    assert REGISTRY["minilm-l6"].kind == "encoder"


def test_resolve_paths_and_hub_ids(tmp_path, tiny_lm):
    assert resolve(tiny_lm).locate() == (tiny_lm, None)
    g = tmp_path / "m.gguf"
    g.write_bytes(b"GGUF")
    assert resolve(str(g)).locate() == (str(tmp_path), "m.gguf")
    assert resolve("EleutherAI/gpt-neo-2.7B").hub_id == "EleutherAI/gpt-neo-2.7B"
    with pytest.raises(ModelUnavailable, match="does not exist"):
        resolve(str(tmp_path / "missing.gguf"))


def test_hub_model_offline_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from ovid import models
    models.hub_reachable.cache_clear()
    with pytest.raises(ModelUnavailable) as e:
        load_causal_lm("gpt2-xl")
    assert str(e.value) == ("gpt2-xl needs the Hugging Face Hub, which is unreachable; "
                            "offline models: smollm2-135m, gemma3-270m")
    models.hub_reachable.cache_clear()


def test_cli_offline_error_exit_2_one_line():
    r = run_ovid("generate", "--model", "gpt2-xl", "-n", "2", "--out", "/tmp/ovid-never.jsonl")
    assert r.returncode == 2
    assert r.stderr.strip() == ("error: gpt2-xl needs the Hugging Face Hub, which is unreachable; "
                                "offline models: smollm2-135m, gemma3-270m")
    assert "Traceback" not in r.stderr


def test_cli_models_lists_offline_availability():
    r = run_ovid("models")
    assert r.returncode == 0
    lines = {line.split()[0]: line for line in r.stdout.splitlines()[1:]}
    assert set(REGISTRY) <= set(lines)
    assert lines["gpt2-xl"].split()[3] == "no"  # never cached on these machines


def test_model_loaded_once_per_process(tiny_lm):
    a = load_causal_lm(tiny_lm)
    b = load_causal_lm(tiny_lm)
    assert a[0] is b[0] and a[1] is b[1]
    assert load_causal_lm(tiny_lm, "auto")[0] is load_causal_lm(tiny_lm, resolve_dtype("auto"))[0]


@needs_smollm2
@pytest.mark.slow
def test_gguf_model_loads_dense_and_its_tokenizer_saves(tmp_path, capfd):
    import torch

    from ovid.models import fresh_causal_lm, load_tokenizer

    model = fresh_causal_lm("smollm2-135m", "bfloat16")
    assert "packed is fastest" not in capfd.readouterr().err  # the misleading warning is gone
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 211 and all(type(m) is torch.nn.Linear for m in linears)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    load_tokenizer("smollm2-135m").save_pretrained(tmp_path)  # no quantization config inside
    assert (tmp_path / "tokenizer_config.json").exists()


@needs_smollm2
@pytest.mark.packaged_model
@pytest.mark.slow
def test_packaged_gguf_model_is_converted_once_then_read_from_the_cache(tmp_path, monkeypatch):
    """The dense copy gives the same tokens and logits as the GGUF conversion it replaces."""
    import torch

    from ovid import models

    monkeypatch.setenv("OVID_CACHE_DIR", str(tmp_path))
    models.load_tokenizer.cache_clear()
    probe = "A probe of the cached model: 1,234 words."
    cold_tok, cold = models.load_tokenizer("smollm2-135m"), models.fresh_causal_lm("smollm2-135m", "float32")
    (folder,) = (tmp_path / "models").iterdir()
    assert folder.name.startswith("smollm2-135m-")
    assert sorted(p.name for p in folder.iterdir()) == ["float32", "tokenizer"]
    assert (folder / "float32" / models.CACHE_DONE).exists() and (folder / "float32" / "model.safetensors").exists()
    models.load_tokenizer.cache_clear()
    warm_tok, warm = models.load_tokenizer("smollm2-135m"), models.fresh_causal_lm("smollm2-135m", "float32")
    ids = cold_tok(probe).input_ids
    assert warm_tok(probe).input_ids == ids and warm_tok.eos_token_id == cold_tok.eos_token_id
    with torch.inference_mode():
        x = torch.tensor([ids])
        assert torch.equal(cold(x).logits, warm(x).logits)
    models.load_tokenizer.cache_clear()
