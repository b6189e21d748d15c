"""Write a sample corpus: batches from `sample_batch`, appended in whole lines, resumable.

Sample i always comes from batch i // batch_size, seeded by (seed, batch index), so a run
killed half-way and started again with the same command regenerates nothing it already wrote
and writes exactly what an uninterrupted run would have.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from ovid.atomic import write_json
from ovid.corpus import append_jsonl, meta_path, read_corpus, repair_jsonl
from ovid.errors import CorpusError, OvidError
from ovid.models import document_token_id, load_causal_lm, resolve
from ovid.paths import check_output_file
from ovid.version import __version__

from .config import GenerationConfig
from .key_check import KeyCheck, check_resumed_key
from .sampling import sample_batch


def stop_token_ids(model, tokenizer, doc_id: int) -> set[int]:
    """Every token that ends a document for this model (EOS ids and the document separator)."""
    ids = {doc_id}
    eos = model.generation_config.eos_token_id
    ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def prompt_token_ids(source: str, tokenizer, n_tokens: int, doc_id: int | None) -> list[tuple[str, list[int]]]:
    """(record id, [doc token] + first n_tokens of the text) for every text of a corpus (no
    document token when doc_id is None)."""
    prompts = []
    for rec in read_corpus(source):
        ids = tokenizer(rec.text, add_special_tokens=False).input_ids[:n_tokens]
        if not ids:
            raise CorpusError(f"{rec.source}: text {rec.id!r} is empty; it cannot prompt a model")
        prompts.append((rec.id, ([doc_id] if doc_id is not None else []) + ids))
    if not prompts:
        raise CorpusError(f"{source}: no texts to take prompts from")
    return prompts


def chat_prompt_ids(source: str, tokenizer, config: GenerationConfig) -> list[tuple[str, list[int], str]]:
    """(record id, chat-templated token ids, instruction) for every text of a corpus: the
    instruction wraps the text's first prompt_tokens tokens, as one user turn of the model's
    chat template, ending where the assistant's reply begins."""
    if not getattr(tokenizer, "chat_template", None):
        raise OvidError(f"{config.model} has no chat template; --chat needs an instruct model (smollm2-135m)")
    prompts = []
    for rid, ids in prompt_token_ids(source, tokenizer, config.prompt_tokens, doc_id=None):
        instruction = config.chat_instruction(tokenizer.decode(ids).strip())
        chat = tokenizer.apply_chat_template([{"role": "user", "content": instruction}],
                                             add_generation_prompt=True, tokenize=False)
        prompts.append((rid, tokenizer(chat, add_special_tokens=False).input_ids, instruction))
    return prompts


def _record(i: int, sample, tokenizer, prompt_id: str | None, instruction: str | None = None) -> dict:
    row = {"id": i}
    if instruction is not None:  # a chat reply: the text is the reply alone
        row["text"] = tokenizer.decode(sample.new_ids, skip_special_tokens=True).strip()
        row["prompt"] = instruction
        row["prompt_id"] = prompt_id
    elif prompt_id is None:
        row["text"] = tokenizer.decode(sample.new_ids)
    else:
        body = sample.prompt_ids[1:]  # drop the document token
        prompt = tokenizer.decode(body)
        text = tokenizer.decode(body + sample.new_ids)
        row["text"] = text
        row["prompt"] = prompt
        row["continuation"] = text[len(prompt):] if text.startswith(prompt) else tokenizer.decode(sample.new_ids)
        row["prompt_id"] = prompt_id
    row["length"] = len(sample.new_ids)
    row["ended"] = sample.ended
    return row


def watermark_meta(config: GenerationConfig, vocab_size: int, check: KeyCheck | None) -> dict | None:
    """The scheme and its parameters (what a detector needs besides the key), the size of the
    vocabulary the green lists are drawn from, the written samples' pooled test under the run's
    key (generate/key_check.py), and the key only when the user asked."""
    if config.watermark is None:
        return None
    out = config.watermark.describe() | {"vocab_size": vocab_size, "key_check": (check or KeyCheck()).as_dict()}
    if config.record_key:
        out["key"] = config.watermark.key
        if config.watermark.synthid_keys is not None:
            out["synthid_keys"] = list(config.watermark.synthid_keys)
    return out


def _meta(config: GenerationConfig, n: int, status: str, n_written: int, started: str,
          vocab_size: int | None = None, check: KeyCheck | None = None) -> dict:
    spec = resolve(config.model)
    return {"format": "gpt-2-output-dataset", "model": config.model, "hub_id": spec.hub_id,
            "params": spec.params, "decoding": config.decoding.describe(),
            "max_tokens": config.max_tokens, "n": n, "n_written": n_written,
            "prompt_source": config.prompts, "prompt_tokens": config.prompt_tokens if config.prompts else None,
            "chat": config.chat, "instruction": config.instruction if config.chat else None,
            "seed": config.seed, "batch_size": config.batch_size, "dtype": config.dtype,
            **({"watermark": watermark_meta(config, vocab_size, check)} if config.watermark else {}),
            "identity": config.identity(), "ovid_version": __version__, "started": started,
            "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "status": status}


def _ovid_meta(path: Path) -> dict | None:
    """The metadata ovid wrote for a corpus, or None if `path` is anything else."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ours = isinstance(meta, dict) and meta.get("format") == "gpt-2-output-dataset" and "identity" in meta
    return meta if ours else None


def _check_resumable(out: Path, config: GenerationConfig) -> dict | None:
    """The metadata of the run that began `out`, after checking it used the same settings."""
    mp = meta_path(out)
    if not mp.exists():
        return None
    meta = _ovid_meta(mp)
    if meta is None:
        raise OvidError(f"{mp} exists and is not the metadata of a corpus ovid generated; "
                        f"it is left alone: use another --out")
    if not out.exists():
        return None
    old, new = meta["identity"], json.loads(json.dumps(config.identity()))
    diff = [k for k in new if old.get(k) != new[k]]
    if diff:
        k = diff[0]
        raise OvidError(f"{out} was made with other settings ({k}: {old.get(k)!r} != {new[k]!r}); "
                        f"use another --out or delete it to start over")
    return meta


def sample_corpus(config: GenerationConfig, out: str | Path, progress: bool = True) -> tuple[Path, dict]:
    """Generate `config.n` samples into `out` (gpt-2-output-dataset JSONL + `.meta.json`).

    Returns the corpus path and its metadata. Re-running on a partial file continues it."""
    out = check_output_file(out, inputs=[config.prompts] if config.prompts else [])
    if config.prompts and not config.prompts.startswith(("ovid:", "hf:")) and not Path(config.prompts).exists():
        raise CorpusError(f"{config.prompts}: no such file or folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    before = _check_resumable(out, config)
    started = (before or {}).get("started") or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    if out.exists() and not meta_path(out).exists():
        raise OvidError(f"{out} exists but has no {meta_path(out).name}; it is not a corpus this "
                        f"command started, so it is left alone")
    model, tokenizer = load_causal_lm(config.model, config.dtype)
    doc_id = document_token_id(config.model)
    stops = stop_token_ids(model, tokenizer, doc_id)
    if config.chat:
        prompts = chat_prompt_ids(config.prompts, tokenizer, config)
    elif config.prompts is not None:
        prompts = [(pid, ids, None) for pid, ids in prompt_token_ids(config.prompts, tokenizer,
                                                                       config.prompt_tokens, doc_id)]
    else:
        prompts = [(None, [doc_id], None)]
    done = repair_jsonl(out)
    vocab_size = model.config.get_text_config().vocab_size
    # a file that already holds more samples than asked keeps them, and its meta says so
    n = max(config.n if config.n is not None else len(prompts), done)
    check = KeyCheck.from_meta(before) if config.watermark is not None else None
    if check is not None and 0 < done < n:
        check_resumed_key(out, check, config.watermark, tokenizer, vocab_size)
    write_json(meta_path(out), _meta(config, n, "running", min(done, n), started, vocab_size, check))
    bs = config.batch_size
    bar = tqdm(total=n, initial=min(done, n), unit="sample", disable=not progress, file=sys.stderr,
               desc=out.name)
    t0, new_tokens = time.perf_counter(), 0
    for b in range(done // bs, -(-n // bs)):
        idx = range(b * bs, min((b + 1) * bs, n))
        batch_prompts = [prompts[i % len(prompts)] for i in idx]
        samples = sample_batch(model, [p for _, p, _ in batch_prompts], config.decoding,
                               config.max_tokens, stops, seed=config.seed * 1_000_003 + b,
                               watermark=config.watermark)
        rows = [_record(i, s, tokenizer, pid, instr) for i, s, (pid, _, instr) in zip(idx, samples, batch_prompts)
                if i >= done]
        append_jsonl(out, rows)
        if check is not None:  # the counts a resumed run compares its key with
            check.add([r.get("continuation", r["text"]) for r in rows], config.watermark, tokenizer, vocab_size)
            written = min((b + 1) * bs, n)
            write_json(meta_path(out), _meta(config, n, "running", written, started, vocab_size, check))
        new_tokens += sum(len(s.new_ids) + s.ended for s in samples)
        bar.update(len(rows))
        bar.set_postfix(tok_s=f"{new_tokens / (time.perf_counter() - t0):.1f}")
    bar.close()
    written = repair_jsonl(out)
    meta = _meta(config, n, "complete", written, started, vocab_size, check)
    write_json(meta_path(out), meta)
    return out, meta
