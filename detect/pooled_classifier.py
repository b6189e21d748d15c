"""A classification head on the mean of a backbone's final hidden states over the real tokens.

Detection signals are averages over tokens (likelihood, rank, entropy); a causal LM's own
sequence-classification head reads only the last real token and must learn to aggregate through
attention. Mean pooling hands the head the average directly: SmolLM2-135M with its top 8 blocks
trained reached validation AUROC 0.716 with last-token pooling and MiniLM 0.818 under the same
recipe (benchmarks/RESULTS.md).

Saved as the backbone's own folder (`save_pretrained`, safetensors) plus `head.safetensors`."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch
from safetensors.torch import load_file, save_file

HEAD_FILE = "head.safetensors"


class MeanPooledClassifier(torch.nn.Module):
    def __init__(self, body: torch.nn.Module, hidden: int, num_labels: int = 2):
        super().__init__()
        self.body = body  # a backbone without its LM head (e.g. LlamaModel, BertModel)
        self.score = torch.nn.Linear(hidden, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None):
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1)
        logits = self.score(pooled)
        loss = torch.nn.functional.cross_entropy(logits.float(), labels) if labels is not None else None
        return SimpleNamespace(loss=loss, logits=logits)

    def save_pretrained(self, folder: Path, **kwargs) -> None:
        folder = Path(folder)
        self.body.save_pretrained(folder, **kwargs)
        save_file({k: v.contiguous() for k, v in self.score.state_dict().items()}, folder / HEAD_FILE)

    @classmethod
    def from_pretrained(cls, folder: Path) -> "MeanPooledClassifier":
        from transformers import AutoModel

        body = AutoModel.from_pretrained(folder, use_safetensors=True)
        head = load_file(Path(folder) / HEAD_FILE)
        model = cls(body, head["weight"].shape[1], head["weight"].shape[0])
        model.score.load_state_dict(head)
        return model.eval()


def is_mean_pooled(folder: Path) -> bool:
    return (Path(folder) / HEAD_FILE).is_file()
