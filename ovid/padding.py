"""Rows of token ids of different lengths as one padded batch with its attention mask."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Sequence

if TYPE_CHECKING:
    import torch


def pad_rows(rows: Sequence[Sequence[int]], pad_id: int,
             side: Literal["right", "left"] = "right") -> tuple["torch.Tensor", "torch.Tensor"]:
    """(ids, mask), both (B, T) long with T the longest row; mask is 1 on real tokens.
    Right padding for scoring and training; left padding for generation, so every row's last
    position is its last real token."""
    import torch  # here, so the foundation imports without torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        span = slice(width - len(r), width) if side == "left" else slice(0, len(r))
        ids[i, span] = torch.as_tensor(r, dtype=torch.long)
        mask[i, span] = 1
    return ids, mask
