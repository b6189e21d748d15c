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
from ovid.corpus import append_jsonl, check_sources, meta_path, read_sidecar, repair_jsonl
from ovid.errors import OvidError
from ovid.models import document_token_id, load_tokenizer, model_vocab_size, resolve
from ovid.paths import check_output_file, left_as_found_on_failure, missing_top
from ovid.ray_tasks import RaySettings, import_ray
from ovid.version import __version__

from .batches import BatchGenerator, batch_prompts, corpus_prompts
from .config import GenerationConfig
from .key_check import KeyCheck, check_resumed_key
from .ray_generation import rows_on_ray


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
    meta = read_sidecar(path)
    ours = meta is not None and meta.get("format") == "gpt-2-output-dataset" and isinstance(meta.get("identity"), dict)
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


def sample_corpus(config: GenerationConfig, out: str | Path, progress: bool = True,
                  ray: RaySettings = RaySettings()) -> tuple[Path, dict]:
    """Generate `config.n` samples into `out` (gpt-2-output-dataset JSONL + `.meta.json`), here
    or on Ray (`ray.engine`): the same rows either way.

    Returns the corpus path and its metadata. Re-running on a partial file continues it."""
    out = check_output_file(out, inputs=[config.prompts] if config.prompts else [], has_overwrite=False,
                            ours=lambda p: meta_path(p).exists(), what="a corpus this command started (no .meta.json)")
    check_sources([config.prompts] if config.prompts else [])
    if ray.engine == "ray":
        import_ray()
    made = missing_top(out.parent)
    # a failure before the first sample (a model that will not load) leaves no empty corpus,
    # "running" metadata or new folder behind; one after it leaves them, to resume from
    with left_as_found_on_failure(*made, out, meta_path(out),
                                  holds_work=lambda: out.exists() and out.stat().st_size > 0):
        out.parent.mkdir(parents=True, exist_ok=True)
        return _sample_all(config, out, progress, ray)


def _sample_all(config: GenerationConfig, out: Path, progress: bool, ray: RaySettings) -> tuple[Path, dict]:
    before = _check_resumable(out, config)
    started = (before or {}).get("started") or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    if out.exists() and not meta_path(out).exists():
        raise OvidError(f"{out} exists but has no {meta_path(out).name}; it is not a corpus this "
                        f"command started, so it is left alone")
    if ray.engine == "ray":  # the driver only tokenizes the prompts; the actors load the model
        generator, tokenizer = None, load_tokenizer(config.model)
        vocab_size = model_vocab_size(config.model) if config.watermark is not None else None
    else:
        generator = BatchGenerator(config)
        tokenizer, vocab_size = generator.tokenizer, generator.model.config.get_text_config().vocab_size
    prompts = corpus_prompts(config, tokenizer, document_token_id(config.model))
    done = repair_jsonl(out)
    # a file that already holds more samples than asked keeps them, and its meta says so
    n = max(config.n if config.n is not None else len(prompts), done)
    check = KeyCheck.from_meta(before) if config.watermark is not None else None
    if check is not None and 0 < done < n:
        check_resumed_key(out, check, config.watermark, tokenizer, vocab_size)
    write_json(meta_path(out), _meta(config, n, "running", min(done, n), started, vocab_size, check))
    bs = config.batch_size
    todo = range(done // bs, -(-n // bs))
    if generator is not None:
        batches = (generator.rows(b, batch_prompts(prompts, b, bs, n)) for b in todo)
    else:
        batches = rows_on_ray(config, [(b, batch_prompts(prompts, b, bs, n)) for b in todo], ray)
    bar = tqdm(total=n, initial=min(done, n), unit="sample", disable=not progress, file=sys.stderr,
               desc=out.name)
    t0, new_tokens = time.perf_counter(), 0
    for b, batch_rows in zip(todo, batches):
        rows = [r for r in batch_rows if r["id"] >= done]
        append_jsonl(out, rows)
        if check is not None:  # the counts a resumed run compares its key with
            check.add([r.get("continuation", r["text"]) for r in rows], config.watermark, tokenizer, vocab_size)
            written = min((b + 1) * bs, n)
            write_json(meta_path(out), _meta(config, n, "running", written, started, vocab_size, check))
        new_tokens += sum(r["length"] + r["ended"] for r in batch_rows)
        bar.update(len(rows))
        bar.set_postfix(tok_s=f"{new_tokens / (time.perf_counter() - t0):.1f}")
    bar.close()
    written = repair_jsonl(out)
    if written < n:  # the batches stopped early (a Ray pool that went away): not complete, rerun resumes
        raise OvidError(f"{out}: {written} of {n} samples written; run the same command again to finish it")
    meta = _meta(config, n, "complete", written, started, vocab_size, check)
    write_json(meta_path(out), meta)
    return out, meta
