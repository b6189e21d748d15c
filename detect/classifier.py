"""The fine-tuned classifier: a pretrained backbone with a sequence-classification head, trained
on labelled texts. The backbone is an encoder (RoBERTa, as OpenAI's GPT-2 output detector;
MiniLM-L6 offline) or a causal language model (SmolLM2-135M, Gemma 3 270M, any Hub causal LM),
as in the small-model detectors that work on today's text (ImBD, DetectAnyLLM): a causal LM
pools the sequence at its last token. Long texts are scored over windows of `max_length` tokens
(stride half a window) and the windows' log-odds are averaged.

Registered as `classifier`; `roberta` (and its `encoder` parameter) remain as aliases."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Sequence

import numpy as np

from ovid.errors import InputValueError, OvidError
from ovid.settings import one_of
from ovid.splits import split_by_document

from .base import Detector, NotFittedError, check_labelled, check_param
from .classifier_training import train_classifier, window_log_odds
from .params import DEFAULT_RECIPE, TRAINING, TrainConfig
from .registry import register

ENCODER_DIR = "encoder"


def validation_split(triples: list[tuple], seed: str) -> tuple[list, list]:
    """(train, validation) of (text, label, domain) triples, 20% of each label's documents held
    out (per label, so both labels are seen; one hash decides, so a human text and a continuation
    sharing its opening still land together). A label left with no held-out text (a handful of
    texts, as in a cross-validation fold) lends its last one, so early stopping sees both."""
    train, valid = [], []
    for label in (0, 1):
        own = [t for t in triples if t[1] == label]
        a, b = split_by_document(own, [t[0] for t in own], test_fraction=0.2, seed=seed)
        if not b and len(a) >= 2:
            a, b = a[:-1], a[-1:]
        train += a
        valid += b
    return train, valid


@register("classifier")
class FineTunedClassifier(Detector):
    trained = True
    uses_validation = True
    state_paths = (ENCODER_DIR,)
    param_aliases = {"encoder": "backbone"}

    def __init__(self, *, backbone: str = "roberta-base", max_length: int = TRAINING.max_length,
                 min_length: int = TRAINING.min_length, epochs: int = TRAINING.epochs,
                 batch_size: int = TRAINING.batch_size, lr: float = TRAINING.lr,
                 weight_decay: float = TRAINING.weight_decay, warmup: float = TRAINING.warmup,
                 patience: int = TRAINING.patience, eval_every: int = TRAINING.eval_every,
                 checkpoint_every: int = TRAINING.checkpoint_every, dtype: str = TRAINING.dtype,
                 train_layers: int = TRAINING.train_layers, pooling: str = "last",
                 seed: int = TRAINING.seed, normalize: str = DEFAULT_RECIPE):
        self.backbone = backbone  # registry name (smollm2-135m, minilm-l6, roberta-base), Hub id or folder
        self.max_length = max_length
        self.min_length = min_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.patience = patience
        self.eval_every = eval_every
        self.checkpoint_every = checkpoint_every
        self.dtype = dtype
        self.train_layers = train_layers
        self.pooling = pooling  # last: the model family's own head; mean: detect/pooled_classifier.py
        self.seed = seed
        self.normalize = normalize

    def check_params(self) -> "FineTunedClassifier":
        if not isinstance(self.backbone, str) or not self.backbone:
            raise InputValueError(f"backbone must name a model, got {self.backbone!r}")
        check_param("pooling", self.pooling, one_of("last", "mean"))
        self.train_config()
        return super().check_params()

    def train_config(self) -> TrainConfig:
        return TrainConfig(**{f.name: getattr(self, f.name) for f in fields(TrainConfig)})

    def fit(self, texts: Sequence[str], labels: Sequence[int], target_fpr: float = 0.01,
            calibration: str = "platt", *, domains: Sequence[str] | None = None,
            valid_texts: Sequence[str] | None = None, valid_labels: Sequence[int] | None = None,
            valid_domains: Sequence[str] | None = None, out_dir: str | Path | None = None,
            resume: bool = False, progress: bool = False, on_step=None) -> "FineTunedClassifier":
        """Fine-tune; without a validation set, 20% of the source documents are held out.
        Calibrates the threshold and probabilities on the validation scores (each domain's
        human texts weighing the same, when `valid_domains` / `domains` name them)."""
        import torch

        from ovid.models import load_backbone, load_sequence_classifier

        from .pooled_classifier import MeanPooledClassifier

        texts, labels = check_labelled(texts, labels)
        if valid_texts is not None:
            valid_texts, valid_labels = check_labelled(valid_texts, valid_labels)
        self.train_config()  # refuse bad settings before loading the encoder
        if valid_texts is None:
            triples = list(zip(texts, labels, domains if domains is not None else [None] * len(texts)))
            # a salt of its own: the caller's texts may already be one side of a seed-0 split
            train, valid = validation_split(triples, f"validation-{self.seed}")
            texts, labels = [t for t, _, _ in train], [y for _, y, _ in train]
            valid_texts, valid_labels = [t for t, _, _ in valid], [y for _, y, _ in valid]
            valid_domains = None if domains is None else [d for _, _, d in valid]
        texts, valid_texts = self.prepare(texts), self.prepare(valid_texts)  # split first: by the texts as given
        for name, ys in (("training", labels), ("validation", valid_labels)):
            if len(set(ys)) < 2:
                raise OvidError(f"the {name} texts need both human and machine examples "
                                f"(got {len(ys)} texts, labels {sorted(set(ys))}); give more texts or --valid files")
        if self.pooling == "mean":
            body, self.tokenizer_ = load_backbone(self.backbone, seed=self.seed)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.model_ = MeanPooledClassifier(body, body.config.hidden_size)
        else:
            self.model_, self.tokenizer_ = load_sequence_classifier(self.backbone, seed=self.seed)
        self.train_state_ = train_classifier(
            self.model_, self.tokenizer_, texts, labels, valid_texts, valid_labels, self.train_config(),
            Path(out_dir) if out_dir else None, resume, progress, on_step)
        return self.calibrate(valid_texts, valid_labels, target_fpr, calibration, valid_domains)

    def _score(self, texts: list[str], ids, progress: bool) -> np.ndarray:
        if not self.is_fitted():
            raise NotFittedError("classifier must be trained first: fit(texts, labels) or "
                                 "detect-train --detector classifier")
        token_ids = [self.tokenizer_(t, add_special_tokens=False).input_ids for t in texts]
        return window_log_odds(self.model_, self.tokenizer_, token_ids, self.max_length, dtype=self.dtype)

    def _save_state(self, folder: Path) -> list[str]:
        if getattr(self, "model_", None) is None:
            return []
        target = folder / ENCODER_DIR
        self.model_.save_pretrained(target, safe_serialization=True)
        self.tokenizer_.save_pretrained(target)
        return sorted(str(p.relative_to(folder)) for p in target.rglob("*") if p.is_file())

    def _load_state(self, folder: Path) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from .pooled_classifier import MeanPooledClassifier, is_mean_pooled

        target = folder / ENCODER_DIR
        if not target.exists():
            return
        if is_mean_pooled(target):
            self.model_ = MeanPooledClassifier.from_pretrained(target)
        else:
            self.model_ = AutoModelForSequenceClassification.from_pretrained(target, use_safetensors=True).eval()
        self.tokenizer_ = AutoTokenizer.from_pretrained(target)
