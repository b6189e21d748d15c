"""A resumed watermarked corpus must go on with the key it began with. The metadata holds no key
(unless --record-key), so each batch's samples are tested with the run's key as they are written
(re-tokenized, as a detector will read them) and the pooled counts kept in the metadata. A resumed
run tests the samples already there with its own key: when they showed the mark clearly under the
key that wrote them and show nothing under this one, the key is another and the run is refused.
When the samples never showed the mark (too few tokens, or a tokenizer that does not give the
same tokens back), nothing can be told and the run goes on.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ovid.errors import OvidError
from ovid.watermark.config import WatermarkConfig
from ovid.watermark.schemes import watermark_test
from ovid.watermark.stats import binomial_p_value

VISIBLE_P = 1e-6  # the written samples showed the mark under their own key at least this clearly
WRONG_KEY_P = 0.01  # and under the key given now they show less than this


@dataclass
class KeyCheck:
    trials: int = 0
    successes: int = 0
    null_rate: float = 0.0

    @classmethod
    def from_meta(cls, meta: dict | None) -> "KeyCheck":
        got = ((meta or {}).get("watermark") or {}).get("key_check")
        return cls(**got) if isinstance(got, dict) else cls()

    def add(self, texts: list[str], config: WatermarkConfig, tokenizer, vocab_size: int) -> "KeyCheck":
        test = watermark_test(token_ids(texts, tokenizer), config, vocab_size)
        self.trials += int(test.trials.sum())
        self.successes += int(test.successes.sum())
        self.null_rate = test.null_rate
        return self

    @property
    def p_value(self) -> float:
        return float(binomial_p_value(self.successes, self.trials, self.null_rate)) if self.trials else 1.0

    def as_dict(self) -> dict:
        return asdict(self)


def token_ids(texts: list[str], tokenizer) -> list[list[int]]:
    return [tokenizer(t, add_special_tokens=False).input_ids for t in texts]


def written_texts(out: Path) -> list[str]:
    """The generated part of each sample already in `out` (the continuation when prompted)."""
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r.get("continuation", r["text"]) for r in rows]


def check_resumed_key(out: Path, recorded: KeyCheck, config: WatermarkConfig, tokenizer, vocab_size: int) -> None:
    if recorded.p_value > VISIBLE_P:
        return
    texts = written_texts(out)
    now = KeyCheck().add(texts, config, tokenizer, vocab_size)
    if now.p_value > WRONG_KEY_P:
        raise OvidError(f"{out}: the {len(texts)} samples already there carry their watermark (pooled p-value "
                        f"{recorded.p_value:.2g} under the key that made them) but not this --watermark-key's "
                        f"({now.p_value:.2g}); use that key, another --out, or delete the file to start over")
