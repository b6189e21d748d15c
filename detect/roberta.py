"""The fine-tuned classifier: an encoder (RoBERTa online, as OpenAI's GPT-2 output detector;
MiniLM-L6 offline) with a sequence-classification head. Long texts are scored over windows of
`max_length` tokens (stride half a window) and the windows' log-odds are averaged."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Sequence

import numpy as np

from ovid.errors import InputValueError, OvidError
from ovid.splits import split_by_document

from .base import Detector, NotFittedError, check_labelled
from .classifier_training import train_classifier, window_log_odds
from .params import TRAINING, TrainConfig
from .registry import register

ENCODER_DIR = "encoder"


@register("roberta")
class FineTunedClassifier(Detector):
    trained = True
    uses_validation = True
    state_paths = (ENCODER_DIR,)

    def __init__(self, *, encoder: str = "roberta-base", max_length: int = TRAINING.max_length,
                 min_length: int = TRAINING.min_length, epochs: int = TRAINING.epochs,
                 batch_size: int = TRAINING.batch_size, lr: float = TRAINING.lr,
                 weight_decay: float = TRAINING.weight_decay, warmup: float = TRAINING.warmup,
                 patience: int = TRAINING.patience, eval_every: int = TRAINING.eval_every,
                 checkpoint_every: int = TRAINING.checkpoint_every, seed: int = TRAINING.seed):
        self.encoder = encoder  # registry name (minilm-l6, roberta-base), Hub id or folder
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
        self.seed = seed

    def check_params(self) -> "FineTunedClassifier":
        if not isinstance(self.encoder, str) or not self.encoder:
            raise InputValueError(f"encoder must name an encoder model, got {self.encoder!r}")
        self.train_config()
        return self

    def train_config(self) -> TrainConfig:
        return TrainConfig(**{f.name: getattr(self, f.name) for f in fields(TrainConfig)})

    def fit(self, texts: Sequence[str], labels: Sequence[int], target_fpr: float = 0.01,
            calibration: str = "platt", valid_texts: Sequence[str] | None = None,
            valid_labels: Sequence[int] | None = None, out_dir: str | Path | None = None,
            resume: bool = False, progress: bool = False, on_step=None) -> "FineTunedClassifier":
        """Fine-tune; without a validation set, 20% of the source documents are held out.
        Calibrates the threshold and probabilities on the validation scores."""
        from ovid.models import load_encoder_classifier

        texts, labels = check_labelled(texts, labels)
        if valid_texts is not None:
            valid_texts, valid_labels = check_labelled(valid_texts, valid_labels)
        self.train_config()  # refuse bad settings before loading the encoder
        if valid_texts is None:
            pairs = list(zip(texts, labels))
            # a salt of its own: the caller's texts may already be one side of a seed-0 split
            train, valid = split_by_document(pairs, list(texts), test_fraction=0.2, seed=f"validation-{self.seed}")
            texts, labels = [t for t, _ in train], [y for _, y in train]
            valid_texts, valid_labels = [t for t, _ in valid], [y for _, y in valid]
        for name, ys in (("training", labels), ("validation", valid_labels)):
            if len(set(ys)) < 2:
                raise OvidError(f"the {name} texts need both human and machine examples "
                                f"(got {len(ys)} texts, labels {sorted(set(ys))}); give more texts or --valid files")
        self.model_, self.tokenizer_ = load_encoder_classifier(self.encoder, seed=self.seed)
        self.train_state_ = train_classifier(
            self.model_, self.tokenizer_, texts, labels, valid_texts, valid_labels, self.train_config(),
            Path(out_dir) if out_dir else None, resume, progress, on_step)
        return self.calibrate(valid_texts, valid_labels, target_fpr, calibration)

    def _score(self, texts: list[str], ids, progress: bool) -> np.ndarray:
        if not self.is_fitted():
            raise NotFittedError("roberta must be trained first: fit(texts, labels) or "
                                 "detect-train --detector roberta")
        token_ids = [self.tokenizer_(t, add_special_tokens=False).input_ids for t in texts]
        return window_log_odds(self.model_, self.tokenizer_, token_ids, self.max_length)

    def _save_state(self, folder: Path) -> list[str]:
        if getattr(self, "model_", None) is None:
            return []
        target = folder / ENCODER_DIR
        self.model_.save_pretrained(target, safe_serialization=True)
        self.tokenizer_.save_pretrained(target)
        return sorted(str(p.relative_to(folder)) for p in target.rglob("*") if p.is_file())

    def _load_state(self, folder: Path) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        target = folder / ENCODER_DIR
        if target.exists():
            self.model_ = AutoModelForSequenceClassification.from_pretrained(target, use_safetensors=True).eval()
            self.tokenizer_ = AutoTokenizer.from_pretrained(target)
