"""Logits at the scored positions only, from an optionally compiled transformer body.

A causal LM's output layer is as wide as its vocabulary (49k-262k), so the logits of a padded
batch are its biggest tensor: (rows x width x vocab). The engine needs them only where a token is
scored (not on padding, not on the context of a later window), so `ScoredLogits` runs the
transformer body once, picks the hidden states of the scored positions, and applies the output
layer to blocks of those. Whether a model's logits really are `head(body(x))` (no logit
soft-capping or scaling in between) is checked once on a probe; if not, the full model runs
and the positions are picked from its logits.

`compile()` switches the body to torch.compile'd copies of its repeated decoder blocks
("regional compilation": one block is compiled and reused by all). On a 2-core CPU that fuses
the norms, rotary embeddings and activations that eager mode runs as ~100 separate memory-bound
kernels per block: the body runs ~1.5x faster after a one-time ~25 s compile (~10 s from
torch's on-disk cache). The shared model is not modified (generation keeps the eager one).
"""
from __future__ import annotations

import copy
import sys

import torch


def repeated_blocks(body: torch.nn.Module) -> tuple[str, torch.nn.ModuleList] | None:
    """The body's stack of decoder blocks: its largest ModuleList of one module class."""
    best = None
    for name, mod in body.named_children():
        if isinstance(mod, torch.nn.ModuleList) and len(mod) > 1 and len({type(m) for m in mod}) == 1:
            if best is None or len(mod) > len(best[1]):
                best = (name, mod)
    return best


class ScoredLogits:
    def __init__(self, model, probe_ids: list[int]):
        self.model = model
        self.body = model.base_model
        self.eager_body = self.body
        self.head = model.get_output_embeddings()
        self.split = self.head is not None and self.body is not model and self._split_matches(probe_ids)
        # a plain bias-free linear output layer can be applied in vocabulary tiles (detect/tiled_stats.py)
        self.tiled = self.split and isinstance(self.head, torch.nn.Linear) and self.head.bias is None
        self.compiled = False

    @torch.inference_mode()
    def _split_matches(self, probe_ids: list[int]) -> bool:
        ids = torch.tensor([probe_ids], device=self.model.device)
        full = self.model(input_ids=ids).logits.float()
        split = self.head(self.body(input_ids=ids, use_cache=False).last_hidden_state).float()
        return full.shape == split.shape and torch.allclose(full, split, atol=1e-3, rtol=1e-3)

    def compile(self) -> None:
        """Run the body's decoder blocks compiled from now on (once; see the module docstring)."""
        found = repeated_blocks(self.eager_body) if self.split else None
        # an int8 body's fbgemm kernels are opaque to torch.compile: nothing to fuse around them
        if self.compiled or found is None or getattr(self.model, "ovid_dtype", None) == "int8":
            return
        name, blocks = found
        body = copy.copy(self.eager_body)  # shares parameters and buffers; only the block list differs
        body._modules = dict(body._modules)
        body._modules[name] = torch.nn.ModuleList([torch.compile(b, dynamic=True) for b in blocks])
        self.body, self.compiled = body, True

    def _hidden(self, ids: torch.Tensor, mask: torch.Tensor, layers: tuple[int, ...] = ()):
        """The final hidden states (B, T, H) and, for `layers`, the hidden states after those
        decoder blocks (0 = the embeddings; the body's last entry is after its final norm)."""
        try:
            out = self.body(input_ids=ids, attention_mask=mask, use_cache=False, output_hidden_states=bool(layers))
            return out.last_hidden_state, [out.hidden_states[i] for i in layers]
        except Exception as e:  # a block torch.compile cannot handle: same numbers, eagerly
            if not self.compiled:
                raise
            print(f"ovid: compiled blocks failed ({type(e).__name__}: {str(e).splitlines()[0][:120]}); "
                  f"running them eagerly", file=sys.stderr)
            self.body, self.compiled = self.eager_body, False
            return self._hidden(ids, mask, layers)

    def hidden_at(self, ids: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor,
                  cols: torch.Tensor) -> torch.Tensor:
        """The final hidden states at positions (rows[i], cols[i]) of a padded batch: (N, H)."""
        return self._hidden(ids, mask)[0][rows, cols]

    def hidden_and_layers_at(self, ids: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                             layers: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """`hidden_at` plus the hidden states of `layers` at the same positions, (N, L, H) float32:
        both from the one pass of the body."""
        last, picked = self._hidden(ids, mask, layers)
        return last[rows, cols], torch.stack([h[rows, cols].float() for h in picked], 1)

    def layer_count(self) -> int:
        """Entries of the body's hidden states: the embeddings plus one per decoder block."""
        return self.model.config.num_hidden_layers + 1

    def blocks(self, ids: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
               block: int):
        """Yield the logits at positions (rows[i], cols[i]) of a padded batch, `block` positions
        at a time."""
        if not self.split:
            logits = self.model(input_ids=ids, attention_mask=mask, use_cache=False).logits[rows, cols]
            for a in range(0, len(rows), block):
                yield logits[a:a + block]
            return
        hidden = self.hidden_at(ids, mask, rows, cols)
        for a in range(0, len(rows), block):
            yield self.head(hidden[a:a + block])
