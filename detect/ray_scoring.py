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
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ovid.atomic import atomic_open
from ovid.corpus import check_sources
from ovid.corpus_units import Unit, in_source_order, plan_units, read_unit, unit_bytes
from ovid.errors import OutputError, OvidError
from ovid.paths import check_output_dir, check_output_file
from ovid.ray_tasks import (
    error_fields,
    import_ray,
    map_with_actors,
    raise_error_fields,
    ray_failure,
    start_ray,
    use_assigned_cpus,
)
from ovid.version import __version__

from .persistence import resolve_detector
from .score_rows import is_score_file, score_rows, summary_line, write_scores

MANIFEST = "_ovid_score.json"
BYTES_PER_TOKEN = 4  # English text in BPE tokens, JSON around it included: an estimate, for compile's threshold
GATHERED = (".jsonl", ".csv")


def shard_name(i: int, n: int) -> str:
    return f"part-{i:05d}-of-{n:05d}.jsonl"


class ScoreUnits:
    """A Ray Data actor: resolves the detector once, then for each unit in a batch reads it,
    scores it and writes its shard into `folder`. Returns the units' indices and text counts."""

    def __init__(self, detector: str, params: dict[str, Any], folder: str, shards: int, encoding: str,
                 expected_tokens: int, segments: bool = False):
        from .engine import compile_for_job  # torch: in the actor only

        use_assigned_cpus()
        self.det = resolve_detector(detector, params)
        # units are small calls: compile as the local engine would for the whole job in one call
        compile_for_job(self.det, expected_tokens)
        self.folder, self.shards, self.encoding, self.segments = Path(folder), shards, encoding, segments

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = []
        for i in range(len(batch["index"])):
            index = int(batch["index"][i])
            unit = Unit(**{k: (str(v[i]) if k in ("source", "name") else int(v[i]))
                           for k, v in batch.items() if k != "index"})
            try:
                rows = score_rows(self.det, list(read_unit(unit, self.encoding)), segments=self.segments)
            except OvidError as e:  # e.g. a malformed line: the driver raises it as it would locally
                out.append({"index": index, "texts": 0, **error_fields(e)})
                continue
            for row in rows:  # read by absolute path, named as the user gave it (as the local rows are)
                if row["source"] == unit.source:
                    row["source"] = unit.name
            write_scores(rows, self.folder / shard_name(index, self.shards))
            out.append({"index": index, "texts": len(rows), "error": "", "message": ""})
        return {k: np.asarray([o[k] for o in out]) for k in out[0]}


def _stats(path: str) -> list | None:
    """Size and modification time of a file, or of every file under a folder."""
    p = Path(path)
    if p.is_file():
        st = p.stat()
        return [st.st_size, st.st_mtime_ns]
    if p.is_dir():
        return [[str(f.relative_to(p)), f.stat().st_size, f.stat().st_mtime_ns]
                for f in sorted(p.rglob("*")) if f.is_file()]
    return None


def _identity(job, units: list[Unit]) -> dict:
    """What a rerun must match to reuse the shards: ovid's version, the inputs (sizes and times,
    down to the files inside a folder), the detector (a saved folder's files too), the cut."""
    return {"format": "ovid score shards", "ovid_version": __version__,
            "files": [[f, _stats(f)] for f in job.files], "detector": job.detector,
            "detector_files": _stats(job.detector), "params": job.params, "encoding": job.encoding,
            "segments": job.segments,
            "shard_bytes": job.shard_bytes, "shards": len(units)}


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
    out = Path(job.out)
    gathered = out.suffix in GATHERED
    inputs = [*job.files, *([job.detector] if Path(job.detector).is_dir() else [])]
    check_sources(job.files)
    if gathered:
        check_output_file(out, inputs=inputs, overwrite=job.overwrite, ours=is_score_file,
                          what="a file of ovid's scores")
    folder = Path(str(out) + ".parts") if gathered else out
    check_output_dir(folder, inputs=inputs, ours=lambda p: _read_manifest(p) is not None,
                     what="of ovid score shards")
    import_ray()  # the extra is missing: say so before a model loads
    det = resolve_detector(job.detector, job.params)  # a bad detector or parameter fails here, before Ray starts
    if job.segments:
        det.segment_model()
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
    for tmp in folder.glob(".*.tmp"):  # left by a writer killed mid-write (atomic_open's temporary files)
        tmp.unlink()
    with atomic_open(folder / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(identity, f, indent=1)
    paths = [folder / shard_name(i, len(units)) for i in range(len(units))]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    if todo:
        _run_actors(job, units, todo, folder)
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise OutputError(f"--out {job.out}: the workers finished but {len(missing)} shards are not in {folder} "
                          f"(e.g. {missing[0]}); on a cluster, --out must be on storage the driver and every "
                          f"node share")
    if not any(p.stat().st_size for p in paths):
        raise OvidError(f"no texts in {', '.join(job.files)}")
    rows = in_source_order(units, lambda i: _shard_rows(paths[i]))
    if gathered:
        rows = list(rows)
        write_scores(rows, out)
        for p in paths:  # what this run wrote, the manifest last, then the folder if nothing else is there
            p.unlink()
        (folder / MANIFEST).unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
        return summary_line(out, rows, det, job.detector, job.target_fpr)
    line = summary_line(out, rows, det, job.detector, job.target_fpr)
    with atomic_open(folder / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(identity | {"summary": line}, f, indent=1)
    return line


def _run_actors(job, units: list[Unit], todo: list[int], folder: Path) -> None:
    ray = start_ray(job)
    items = [{"index": i, **asdict(units[i])} for i in todo]
    workers = min(job.workers, len(todo))
    text_bytes = sum(unit_bytes(units[i]) for i in todo)
    ds = map_with_actors(ray.data.from_items(items, override_num_blocks=len(items)), ScoreUnits, {
        "detector": job.detector, "params": job.params, "folder": str(folder.resolve()),
        "shards": len(units), "encoding": job.encoding, "segments": job.segments,
        "expected_tokens": text_bytes // BYTES_PER_TOKEN // workers}, job, len(todo))
    done = ds.iter_rows()
    if job.progress:
        from tqdm.auto import tqdm

        done = tqdm(done, total=len(todo), desc=f"shards ({min(job.workers, len(todo))} Ray workers)", unit="shard")
    try:
        for row in done:
            raise_error_fields(row)
    except OvidError:
        raise
    except Exception as e:  # anything else an actor raised: one line, as ovid says errors
        raise ray_failure(e) from None
