"""A detector as a batch function: for Ray Data's `map_batches` (a callable class, so each actor
loads its detector once) and for Hugging Face `datasets`' `map(batched=True)`, the same object.

    ds = ray.data.read_json("texts.jsonl")
    scored = score_dataset(ds, "ovid:default", workers=4, gpus_per_worker=1)

    ds = datasets.load_dataset("json", data_files="texts.jsonl")["train"]
    scored = ds.map(ScoreBatch("ovid:default"), batched=True, batch_size=64)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ovid.ray_tasks import actor_pool

from .calibration import reported_p_machine
from .persistence import resolve_detector


class ScoreBatch:
    """batch (a dict of columns) -> the batch plus `score`, and for a calibrated detector
    `p_machine` with the `prior` it holds at (as `ovid score` states them; NaN where the detector
    states none) and `machine` (the decision at the saved threshold). The detector is resolved as
    `ovid score --detector` does (ovid:default, a registry name with `params`, a saved folder)."""

    def __init__(self, detector: str = "ovid:default", params: dict[str, Any] | None = None,
                 text_column: str = "text"):
        self.detector = resolve_detector(detector, dict(params or {}))
        self.text_column = text_column

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(t) for t in batch[self.text_column]]
        scores = np.asarray(self.detector.decision_function(texts), dtype=np.float64)
        out = dict(batch)
        out["score"] = scores
        cal = self.detector.calibration()
        if cal:
            flags = self.detector.decisions(scores)
            # NaN, not None, where none is stated: the columns stay float in every batch
            stated = np.array(reported_p_machine(cal, scores, flags), dtype=np.float64).reshape(-1, 2)
            out["p_machine"], out["prior"] = stated[:, 0], stated[:, 1]
            out["machine"] = np.array(flags, dtype=np.int64)
        return out


def score_dataset(ds, detector: str = "ovid:default", params: dict[str, Any] | None = None, *,
                  text_column: str = "text", workers: int = 1, gpus_per_worker: float = 0.0,
                  batch_size: int = 64):
    """A `ray.data.Dataset` with the detector's columns added, scored by `workers` actors (each
    with `gpus_per_worker` GPUs) that load the detector once; lazy, like every Ray Data step."""
    return ds.map_batches(ScoreBatch, fn_constructor_kwargs={"detector": detector, "params": dict(params or {}),
                                                             "text_column": text_column},
                          batch_size=batch_size, batch_format="numpy", compute=actor_pool(workers),
                          num_gpus=gpus_per_worker or None)
