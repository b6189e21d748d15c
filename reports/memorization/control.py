"""The positive control of the memorization study: fine-tune a small LM on a few reference texts
until it memorises them, so the report shows the overlap method catching copying when it exists.

Measured when this was designed: SmolLM2-135M, 8 texts of 128 tokens, batch 2, AdamW lr 1e-4,
30 steps (about 60 s on 2 cores) took the loss from 2.6 to 0.2, and its top-k 40 continuations of
the texts' first 16 tokens then overlapped the texts at 98-100% of 8-grams.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from ovid.atomic import write_json
from ovid.models import MODEL_INFO, document_token_id, fresh_causal_lm, load_tokenizer, resolve
from ovid.padding import pad_rows
from ovid.settings import at_least, check_settings, positive, seed_range, setting


@dataclass(frozen=True, kw_only=True)
class ControlConfig:
    model: str = setting("smollm2-135m", "The model made to memorise.")
    steps: int = setting(30, "Fine-tuning steps.", check=at_least(1))
    lr: float = setting(1e-4, "AdamW learning rate.", check=positive())
    max_tokens: int = setting(128, "Tokens of each text trained on.", check=at_least(2))
    batch_size: int = setting(2, "Texts per fine-tuning step.", check=at_least(1))
    seed: int = setting(0, "Seed of the data order.", check=seed_range())

    def __post_init__(self) -> None:
        check_settings(self)


def plain_copy(model):
    """The same weights in a model transformers will save: a GGUF-loaded model keeps a GGUF
    "quantizer" marker that save_pretrained refuses, although its weights are dense here."""
    import copy

    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(model.state_dict())
    return plain


def memorise(texts: Sequence[str], out_dir: str | Path, cfg: ControlConfig = ControlConfig(),
             progress: bool = True) -> Path:
    """Fine-tune `cfg.model` on `texts` and save it to `out_dir` (safetensors + tokenizer + a
    marker with the settings, the texts' hash and the loss curve). Reuses a matching save."""
    import torch

    out_dir = Path(out_dir)
    key = {"config": asdict(cfg), "texts": [t[:200] for t in texts]}
    marker = out_dir / MODEL_INFO
    if marker.exists() and json.loads(marker.read_text()).get("key") == key:
        return out_dir
    tok = load_tokenizer(cfg.model)
    doc = document_token_id(cfg.model)
    seqs = [[doc] + tok(t, add_special_tokens=False).input_ids[:cfg.max_tokens] for t in texts]
    model = fresh_causal_lm(cfg.model, "float32")
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    losses, t0 = [], time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        for step in range(cfg.steps):
            rows = [seqs[(step * cfg.batch_size + j) % len(seqs)] for j in range(cfg.batch_size)]
            ids, mask = pad_rows(rows, doc)
            labels = ids.masked_fill(mask == 0, -100)  # no loss on padding
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(round(float(loss.detach()), 4))
            if progress:
                print(f"memorising: step {step + 1}/{cfg.steps} loss {losses[-1]:.3f}", flush=True)
    model.eval()
    plain_copy(model).save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    spec = resolve(cfg.model)
    write_json(marker, {"key": key, "document_token": tok.convert_ids_to_tokens(doc),
                        "params": spec.params, "base_model": cfg.model, "losses": losses,
                        "seconds": round(time.perf_counter() - t0, 1)})
    return out_dir
