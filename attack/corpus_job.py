"""`ovid attack`: a corpus under attack, as JSONL (the original id and label, `attack`, `rate`,
`edits`, `num_edits`, `domain`) with a `.meta.json` sidecar. Texts are attacked in order, each
attack over the whole corpus in turn, and appended in whole lines, so a killed run started again
with the same command continues; every text's edits depend only on (seed, attack, its id)."""
from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from ovid.atomic import write_json
from ovid.corpus import append_jsonl, check_sources, meta_path, read_corpus, read_sidecar, record_domain, repair_jsonl
from ovid.errors import CorpusError, OvidError
from ovid.paths import check_output_file, left_as_found_on_failure, missing_top
from ovid.version import __version__

from .config import AttackConfig
from .lm import AttackLM
from .registry import attack_spec, attack_texts

FORMAT = "ovid-attack"
BATCH = 32


def _meta(config: AttackConfig, source: str, n: int, n_written: int, status: str, started: str) -> dict:
    return {"format": FORMAT, "source": source, **asdict(config),
            "rates": {a: config.rate if config.rate is not None else attack_spec(a).rate for a in config.attacks},
            "n": n, "n_written": n_written, "status": status, "ovid_version": __version__, "started": started,
            "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def _identity(meta: dict) -> dict:
    keys = ("source", "attacks", "rate", "seed", "attack_model", "dtype", "encoding")
    return {k: json.loads(json.dumps(meta.get(k))) for k in keys}


def _check_resumable(out: Path, new: dict) -> str | None:
    mp = meta_path(out)
    if not mp.exists():
        if out.exists():
            raise OvidError(f"{out} exists but has no {mp.name}; it is not an attacked corpus this command "
                            f"started, so it is left alone: use another --out")
        return None
    old = read_sidecar(mp)
    if old is None or old.get("format") != FORMAT:
        raise OvidError(f"{mp} exists and is not the metadata of an attacked corpus; it is left alone: "
                        f"use another --out")
    diff = [k for k, v in _identity(new).items() if _identity(old)[k] != v]
    if diff and out.exists():
        k = diff[0]
        raise OvidError(f"{out} was made with other settings ({k}: {old.get(k)!r} != {new[k]!r}); "
                        f"use another --out or delete it to start over")
    return old.get("started")


def attack_rows(batch: list, name: str, config: AttackConfig, lm: AttackLM) -> list[dict]:
    """Rows of (index, record) pairs under attack `name`."""
    done = attack_texts(name, [rec.text for _, rec in batch], config.rate, config.seed,
                        keys=[f"{i}|{rec.id}" for i, rec in batch], lm_model=lm)
    return [_row(rec, name, config, d) for (_, rec), d in zip(batch, done)]


def _row(rec, name: str, config: AttackConfig, done) -> dict:
    row = {"id": rec.id, "text": done.text}
    if rec.label is not None:
        row["label"] = rec.label
    row.update(attack=name, rate=config.rate if config.rate is not None else attack_spec(name).rate,
               num_edits=done.num_edits, edits=[list(e) for e in done.edits], domain=record_domain(rec))
    return row


def attack_corpus(config: AttackConfig, source: str, out: str | Path, progress: bool = True) -> tuple[Path, dict]:
    """Write every text of `source` under each of config.attacks to `out`; returns (path, meta)."""
    check_sources([source])
    out = check_output_file(out, inputs=[source], has_overwrite=False,
                            ours=lambda p: meta_path(p).exists(), what="a corpus this command started (no .meta.json)")
    records = list(read_corpus(source, encoding=config.encoding))
    if not records:
        raise CorpusError(f"{source}: no texts to attack")
    n = len(records) * len(config.attacks)
    started = _check_resumable(out, _meta(config, source, n, 0, "running", "")) \
        or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    made = missing_top(out.parent)
    # a failure before the first row (a model that will not load) leaves no empty corpus or
    # "running" metadata behind; one after it leaves them, to resume from
    with left_as_found_on_failure(*made, out, meta_path(out),
                                  holds_work=lambda: out.exists() and out.stat().st_size > 0):
        out.parent.mkdir(parents=True, exist_ok=True)
        return _attack_all(config, source, out, records, n, started, progress)


def _attack_all(config: AttackConfig, source: str, out: Path, records: list, n: int, started: str,
                progress: bool) -> tuple[Path, dict]:
    done = repair_jsonl(out)
    write_json(meta_path(out), _meta(config, source, n, done, "running", started))
    lm = AttackLM(config.attack_model, config.dtype)
    jobs = [(name, i, rec) for name in config.attacks for i, rec in enumerate(records)]
    bar = tqdm(total=n, initial=done, unit="text", disable=not progress, file=sys.stderr, desc=out.name)
    for a in range(done, n, BATCH):
        chunk = jobs[a:a + BATCH]
        rows = []
        for name in dict.fromkeys(name for name, _, _ in chunk):  # a batch may span two attacks
            rows += attack_rows([(i, rec) for nm, i, rec in chunk if nm == name], name, config, lm)
        append_jsonl(out, rows)
        bar.update(len(rows))
    bar.close()
    meta = _meta(config, source, n, repair_jsonl(out), "complete", started)
    write_json(meta_path(out), meta)
    return out, meta
