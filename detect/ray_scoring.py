"""`ovid score --engine ray`: the local engine's rows and summary line, scored by a pool of Ray Data
actors that each load the detector once.

The driver only plans units of work (ovid.corpus_units: byte ranges of JSONL files, stripes of
other formats); each actor reads its unit, scores it and writes that unit's rows as one shard
(atomically), so a killed run, rerun, skips the shards that exist. The output is that folder of
shards, or, for an --out ending in .jsonl or .csv, one file gathered from them in the local
engine's order.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ovid.atomic import atomic_open
from ovid.corpus_units import Unit, in_source_order, plan_units, read_unit
from ovid.errors import CorpusError, OutputError, OvidError
from ovid.paths import check_output_dir, check_output_file
from ovid.ray_tasks import (
    actor_options,
    error_fields,
    import_ray,
    raise_error_fields,
    ray_failure,
    start_ray,
    use_assigned_cpus,
)

from .score_rows import resolve_detector, score_rows, summary_line, write_scores

MANIFEST = "_ovid_score.json"
GATHERED = (".jsonl", ".csv")


def shard_name(i: int, n: int) -> str:
    return f"part-{i:05d}-of-{n:05d}.jsonl"


class ScoreUnits:
    """A Ray Data actor: resolves the detector once, then for each unit in a batch reads it,
    scores it and writes its shard into `folder`. Returns the units' indices and text counts."""

    def __init__(self, detector: str, params: dict[str, Any], folder: str, shards: int, encoding: str):
        use_assigned_cpus()
        self.det = resolve_detector(detector, params)
        self.folder, self.shards, self.encoding = Path(folder), shards, encoding

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = []
        for i in range(len(batch["index"])):
            index = int(batch["index"][i])
            unit = Unit(**{k: (str(v[i]) if k == "source" else int(v[i])) for k, v in batch.items() if k != "index"})
            try:
                rows = score_rows(self.det, list(read_unit(unit, self.encoding)))
            except OvidError as e:  # e.g. a malformed line: the driver raises it as it would locally
                out.append({"index": index, "texts": 0, **error_fields(e)})
                continue
            write_scores(rows, self.folder / shard_name(index, self.shards))
            out.append({"index": index, "texts": len(rows), "error": "", "message": ""})
        return {k: np.asarray([o[k] for o in out]) for k in out[0]}


def _identity(job, units: list[Unit]) -> dict:
    """What a rerun must match to reuse the shards: inputs (with size and time), detector, cut."""
    files = []
    for f in job.files:
        st = Path(f).stat() if Path(f).exists() else None
        files.append([f, st.st_size if st else None, st.st_mtime_ns if st else None])
    return {"format": "ovid score shards", "files": files, "detector": job.detector, "params": job.params,
            "encoding": job.encoding, "shard_bytes": job.shard_bytes, "shards": len(units)}


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _shard_rows(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def score_files_on_ray(job) -> str:
    import_ray()  # the extra is missing: say so before anything is read
    out = Path(job.out)
    gathered = out.suffix in GATHERED
    inputs = [*job.files, *([job.detector] if Path(job.detector).is_dir() else [])]
    for src in job.files:
        if not src.startswith(("hf:", "ovid:")) and not Path(src).exists():
            raise CorpusError(f"{src}: no such file or folder")
    if gathered:
        check_output_file(out, inputs=inputs)
    folder = Path(str(out) + ".parts") if gathered else out
    check_output_dir(folder, inputs=inputs, ours=lambda p: _read_manifest(p) is not None,
                     what="of ovid score shards")
    det = resolve_detector(job.detector, job.params)  # a bad detector or parameter fails here, before Ray starts
    units = plan_units(job.files, job.shard_bytes)
    if not units:
        raise OvidError(f"no texts in {', '.join(job.files)}")
    identity = _identity(job, units)
    found = _read_manifest(folder)
    if found is not None and {k: found.get(k) for k in identity} != identity:
        changed = next(k for k in identity if found.get(k) != identity[k])
        raise OutputError(f"--out {job.out}: {folder} holds shards of another job (its {changed} differ); "
                          f"remove it, or give another --out")
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_open(folder / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(identity, f, indent=1)
    paths = [folder / shard_name(i, len(units)) for i in range(len(units))]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    if todo:
        _run_actors(job, units, todo, folder)
    rows = in_source_order(units, lambda i: _shard_rows(paths[i]))
    if gathered:
        rows = list(rows)
        write_scores(rows, out)
        shutil.rmtree(folder)
        return summary_line(out, rows, det, job.detector, job.target_fpr)
    line = summary_line(out, rows, det, job.detector, job.target_fpr)
    with atomic_open(folder / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(identity | {"summary": line}, f, indent=1)
    return line


def _run_actors(job, units: list[Unit], todo: list[int], folder: Path) -> None:
    ray = start_ray(job)
    items = [{"index": i, **asdict(units[i])} for i in todo]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    ds = ds.map_batches(ScoreUnits, fn_constructor_kwargs={
        "detector": job.detector, "params": job.params, "folder": str(folder.resolve()),
        "shards": len(units), "encoding": job.encoding}, batch_size=1, batch_format="numpy", **actor_options(job))
    done = ds.iter_rows()
    if job.progress:
        from tqdm.auto import tqdm

        done = tqdm(done, total=len(todo), desc=f"shards ({job.workers} Ray workers)", unit="shard")
    try:
        for row in done:
            raise_error_fields(row)
    except OvidError:
        raise
    except Exception as e:  # anything else an actor raised: one line, as ovid says errors
        raise ray_failure(e) from None
