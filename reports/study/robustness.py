"""Detection under attack (a study's [robustness] section): each detector scores held-out machine
texts under each attack against clean held-out human texts (RAID's protocol: AUROC, and TPR at
the target FPR with the threshold set on those clean human scores), and held-out human texts
under each attack at the detector's own saved threshold (false accusations). With `undefended`,
every detector also scores with its normalisation off, side by side. Each rate counts texts, so it
carries its exact (Clopper-Pearson) 95% interval."""
from __future__ import annotations

from contextlib import contextmanager
from itertools import zip_longest

import numpy as np
import pandas as pd

from ovid.attack import ATTACKS, attack_texts
from ovid.attack.lm import AttackLM
from ovid.log import logger
from ovid.metrics import auroc_of, threshold_at_fpr

from ..schema import TABLES
from .config import StudyConfig
from .corpora import Corpus, Split
from .detectors import score
from .statistics import rate_columns

say = logger("ovid report")


@contextmanager
def normalization(det, recipe: str | None):
    """The detector with its normalisation set to `recipe` for a while (None: as it is)."""
    if recipe is None or "normalize" not in det.param_names():
        yield det
        return
    saved = det.normalize
    det.normalize = recipe
    try:
        yield det
    finally:
        det.normalize = saved


def attacked_texts(cfg: StudyConfig, machine, human) -> dict[str, tuple[list[str], list[str]]]:
    """attack -> (machine texts, human texts) under it; each text seeded by its id."""
    acfg = cfg.robustness.attack_config()
    lm = AttackLM(acfg.attack_model, acfg.dtype)
    out = {}
    for name in acfg.attacks:
        recs = machine + human
        run = [a.text for a in attack_texts(name, [r.text for r in recs], acfg.rate, acfg.seed,
                                              keys=[r.id for r in recs], lm_model=lm)]
        out[name] = (run[:len(machine)], run[len(machine):])
        say(f"attack {name}: {len(run)} texts")
    return out


def robustness_rows(label: str, det, machine: list[str], human: list[str],
                    attacked: dict[str, tuple[list[str], list[str]]], target_fpr: float,
                    undefended: bool = True, more_fprs: tuple[float, ...] = ()) -> list[dict]:
    """The rows of robustness.csv for one detector: each attack (and "none") with the defences on,
    and off when `undefended` and the detector has any; `more_fprs` adds `tpr_at_<fpr>` columns."""
    rows = []
    modes = [("on", None)] + ([("off", "none")] if undefended and det.repairs() else [])
    for defence, recipe in modes:
        with normalization(det, recipe):
            h_clean = score(det, human)
            cut = threshold_at_fpr(h_clean, target_fpr)
            saved = det.threshold_
            for name in ["none", *attacked]:
                m = score(det, machine if name == "none" else attacked[name][0])
                h = h_clean if name == "none" else score(det, attacked[name][1])
                rows.append({"detector": label, "attack": name,
                             "level": "none" if name == "none" else ATTACKS[name].level, "defence": defence,
                             "n_human": len(h), "n_machine": len(m), "auroc": auroc_of(h_clean, m),
                             **rate_columns("tpr", m >= cut), **rate_columns("fpr_human_attacked", h >= saved),
                             **rate_columns("fpr_human_clean", h_clean >= saved), "threshold": saved,
                             **{f"tpr_at_{f:g}": float(np.mean(m >= threshold_at_fpr(h_clean, f))) for f in more_fprs}})
    return rows


def robustness_table(dets: dict, corpora: list[Corpus], split: Split, cfg: StudyConfig) -> pd.DataFrame:
    rb = cfg.robustness
    # taken in turn from each corpus, so a small max_texts still covers every model and decoding
    machine = [r for group in zip_longest(*(split.test[c.name] for c in corpora)) for r in group
               if r is not None][:rb.max_texts]
    human = split.human_test[:rb.max_texts]
    attacked = attacked_texts(cfg, machine, human)
    rows = [row for label, det in dets.items()
            for row in robustness_rows(label, det, [r.text for r in machine], [r.text for r in human], attacked,
                                       cfg.study.target_fpr, rb.undefended)]
    return pd.DataFrame(rows, columns=TABLES["robustness.csv"])
