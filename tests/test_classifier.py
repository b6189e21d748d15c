"""The fine-tuned classifier: it learns, it resumes exactly, and it scores long texts by windows."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from ovid import make_detector
from ovid.detect.classifier_training import random_crop, train_classifier, windows
from ovid.detect.params import TrainConfig
from ovid.errors import OvidError
from ovid.metrics import auroc
from ovid.models import load_sequence_classifier

A = ["the quick brown fox jumps over the lazy dog and the dog sleeps",
     "the fox and the dog walked to the market on sunday morning",
     "a lazy dog and a quick fox met by the river at the market"]
B = ["detectors score every token of a text with a language model",
     "machine text tends to have higher likelihood than human text",
     "the model release happened in stages small medium large"]


def corpus(n):
    texts = [f"{i} " + A[i % 3] for i in range(n)] + [f"{i + n} " + B[i % 3] for i in range(n)]
    return texts, [0] * n + [1] * n


def test_crops_and_windows():
    rng = np.random.default_rng(0)
    ids = list(range(100))
    crops = [random_crop(ids, rng, 5, 20) for _ in range(200)]
    assert all(5 <= len(c) <= 20 and c == ids[c[0]:c[0] + len(c)] for c in crops)
    assert len({len(c) for c in crops}) > 10 and len({c[0] for c in crops}) > 30
    assert random_crop([1, 2], rng, 5, 20) == [1, 2]
    ws = windows(ids, 40)
    assert ws[0] == ids[:40] and ws[-1][-1] == 99 and all(len(w) == 40 for w in ws)
    assert windows(ids[:10], 40) == [ids[:10]]


def test_training_lowers_loss_and_separates_sources(tiny_encoder, tmp_path):
    texts, labels = corpus(24)
    model, tok = load_sequence_classifier(tiny_encoder)
    cfg = TrainConfig(max_length=24, min_length=4, epochs=10, batch_size=8, lr=5e-3, patience=20)
    state = train_classifier(model, tok, texts, labels, texts[::4], labels[::4], cfg, tmp_path, progress=False)
    log = [json.loads(x) for x in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    first, last = np.mean([x["loss"] for x in log[:3]]), np.mean([x["loss"] for x in log[-3:]])
    assert last < 0.5 * first, (first, last)
    assert state["best_auroc"] == 1.0 and state["step"] == 60
    held_out_texts, held_out_labels = corpus(30)
    det = make_detector("roberta", encoder=tiny_encoder, max_length=24)
    det.model_, det.tokenizer_ = model, tok
    assert auroc(held_out_labels, det.decision_function(held_out_texts)) > 0.95


class Interrupt(Exception):
    pass


def test_resume_continues_as_if_uninterrupted(tiny_encoder, tmp_path):
    texts, labels = corpus(20)
    cfg = TrainConfig(max_length=20, min_length=4, epochs=3, batch_size=8, lr=1e-3, patience=10,
                      checkpoint_every=2)
    ref_model, tok = load_sequence_classifier(tiny_encoder)
    ref_state = train_classifier(ref_model, tok, texts, labels, texts, labels, cfg, tmp_path / "ref", progress=False)

    def stop_at_7(step):
        if step == 7:
            raise Interrupt

    model, _ = load_sequence_classifier(tiny_encoder)
    with pytest.raises(Interrupt):
        train_classifier(model, tok, texts, labels, texts, labels, cfg, tmp_path / "run", progress=False, on_step=stop_at_7)
    saved = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert saved["step"] == 6  # the last checkpoint before the interruption
    fresh, _ = load_sequence_classifier(tiny_encoder)
    state = train_classifier(fresh, tok, texts, labels, texts, labels, cfg, tmp_path / "run", resume=True, progress=False)
    assert state["step"] == ref_state["step"] == 15 and state["best_step"] == ref_state["best_step"]
    for (k, a), b in zip(ref_model.state_dict().items(), fresh.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=k)
    other, _ = load_sequence_classifier(tiny_encoder)  # resuming under other settings is refused by name
    with pytest.raises(OvidError, match="--resume: the interrupted run used --train-layers 0, not 1"):
        train_classifier(other, tok, texts, labels, texts, labels, dataclasses.replace(cfg, train_layers=1),
                         tmp_path / "run", resume=True, progress=False)
