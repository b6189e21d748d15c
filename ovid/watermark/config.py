"""A watermark's settings, defined once: `ovid generate --watermark`, `make_detector("watermark")`,
`ovid score --detector watermark` and a study's [watermark] section all take these fields.

The key is the one secret. KGW uses it as transformers' `hashing_key`; SynthID needs one key per
tournament layer, which are drawn from it (`synthid_keys`) unless given explicitly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ovid.settings import SettingError, at_least, check_settings, fraction, one_of, positive, setting

SCHEMES = ("kgw", "synthid")
MAX_KEY = 2**63 - 1  # torch seeds and int64 hashes take keys below this
# SynthID's sampling table: transformers' defaults, fixed here so a corpus's meta and a detector
# agree without saying them (the table is public; the layer keys are the secret)
SYNTHID_TABLE_SIZE = 2**16
SYNTHID_TABLE_SEED = 0
SYNTHID_HISTORY = 1024


def key_check(x) -> str | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= MAX_KEY:
        return f"must be an integer in [0, 2**63 - 1], got {x!r}"
    return None


def keys_check(xs) -> str | None:
    if xs is None:
        return None
    if not xs:
        return "must list at least one key (one per tournament layer)"
    for x in xs:
        problem = key_check(x)
        if problem:
            return f"each key {problem}"
    if len(set(xs)) != len(xs):
        return "must not repeat a key: two layers with one key make the same choice twice"
    return None


@dataclass(frozen=True, kw_only=True)
class WatermarkConfig:
    """Which watermark, with which key and parameters."""
    scheme: str = setting("kgw", "kgw (Kirchenbauer et al. 2023: a green list seeded by the previous tokens, "
                          "its logits raised by delta) or synthid (Dathathri et al. 2024: tournament sampling).",
                          check=one_of(*SCHEMES))
    key: int | None = setting(None, "The watermark's secret key, an integer; the same key detects it.",
                              check=key_check)
    gamma: float = setting(0.25, "kgw: share of the vocabulary in each green list.", check=fraction())
    delta: float = setting(2.0, "kgw: bias added to the green tokens' logits.", check=positive())
    context_width: int = setting(1, "kgw: previous tokens that seed the green list (selfhash uses them all; "
                                 "lefthash, as transformers implements it, the last).", check=at_least(1))
    seeding_scheme: str = setting("lefthash", "kgw: lefthash (the green list depends on the previous token) or "
                                  "selfhash (also on the token itself; slower, more robust).",
                                  check=one_of("lefthash", "selfhash"))
    ngram_len: int = setting(5, "synthid: n-gram length, the token and its ngram_len - 1 predecessors.",
                             check=at_least(2))
    depth: int = setting(30, "synthid: tournament layers, one key each, drawn from the key.", check=at_least(1))
    synthid_keys: list[int] | None = setting(None, "synthid: the layer keys themselves (their number sets the "
                                             "depth), instead of drawing them from the key.", check=keys_check)

    def __post_init__(self) -> None:
        if self.synthid_keys is not None:
            object.__setattr__(self, "synthid_keys", [int(k) for k in self.synthid_keys])
        check_settings(self)
        if self.key is None and self.synthid_keys is None:
            raise SettingError("key", "is required: the watermark's secret key (an integer)")
        if self.synthid_keys is not None and self.scheme != "synthid":
            raise SettingError("synthid_keys", f"apply to the synthid scheme only, not {self.scheme}")

    @property
    def layer_keys(self) -> list[int]:
        """SynthID's per-layer keys: given, or drawn from the key (the same key, the same keys)."""
        if self.synthid_keys is not None:
            return list(self.synthid_keys)
        rng = np.random.default_rng(self.key)
        return [int(k) for k in rng.choice(2**31 - 1, size=self.depth, replace=False)]

    def describe(self) -> dict:
        """The scheme and the parameters it uses, without any secret: what a corpus's meta keeps."""
        if self.scheme == "kgw":
            return {"scheme": "kgw", "gamma": self.gamma, "delta": self.delta,
                    "context_width": self.context_width, "seeding_scheme": self.seeding_scheme}
        return {"scheme": "synthid", "ngram_len": self.ngram_len, "depth": len(self.layer_keys),
                "sampling_table_size": SYNTHID_TABLE_SIZE, "sampling_table_seed": SYNTHID_TABLE_SEED}

    def settings(self) -> dict:
        """Every field, the key included (for --record-key)."""
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class WatermarkTest:
    """How a text is judged by the watermark test (the detector's side; the scheme is WatermarkConfig)."""
    alpha: float = setting(1e-3, "The p-value below which a text counts as watermarked.", check=fraction())
    min_tokens: int = setting(16, "Fewest scored n-grams to test a text; shorter texts are flagged too-short.",
                              check=at_least(1))


TEST = WatermarkTest()
