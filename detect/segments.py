"""Which parts of a text a machine wrote, from the one forward pass.

A text is cut into sentences (pysbd) in the form the user typed it; each sentence is normalised
on its own and the pieces joined, so every sentence has a character range in the text the
language model reads and in the original. The model reads the joined text once; each token's
statistics go to the sentence that holds its last character (a sentence is scored with the text
before it as context, as the pass conditions on it). Then, in pure functions:

- a sentence's features: its tokens' mean log-probability, log-rank and entropy, its Fast-DetectGPT
  discrepancy and its length;
- a logistic model gives each sentence's log-odds of being machine text, and a two-state hidden
  Markov model (human, machine; a fixed chance of switching between sentences) turns them into
  each sentence's posterior P(machine) (forward-backward) and the most likely labelling
  (Viterbi), whose runs are the spans;
- each span is scored again as a whole (the same features over all its tokens, its own logistic
  model) and gets a verdict at the segment model's threshold, set so that at most `target_fpr` of
  human texts have any span flagged, and P(machine) stated as a text's is (detect/calibration.py):
  at the prior where that threshold is even odds, so at least 50% exactly when the span is flagged.
  A span shorter than `min_sentences` sentences or `min_tokens` tokens gets no verdict of its own,
  and so no P(machine).

The fitted numbers live in a SegmentModel (JSON, shipped per language model)."""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ovid.errors import OvidError
from ovid.normalize import normalize

from .calibration import even_odds, reported
from .features import TokenStats

SENTENCE_FEATURES = ("log_prob", "log_rank", "entropy", "discrepancy", "log_tokens")
SHIPPED = Path(__file__).resolve().parent / "shipped" / "segments"
TOO_SHORT = "too short"


# -- sentences --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sentences:
    """One text's sentences: character ranges in the original text and in `normalized`, the
    text the language model reads (each sentence normalised on its own, joined by one space
    where the original had whitespace between them)."""
    original: list[tuple[int, int]]
    normalized_text: str
    normalized: list[tuple[int, int]]


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str, recipe: str = "fold") -> Sentences:
    """The sentences of `text` (see Sentences); pieces with nothing left once normalised are dropped."""
    spans = []
    for s in _segmenter().segment(text):
        a = s.start + (len(s.sent) - len(s.sent.lstrip()))
        b = s.start + len(s.sent.rstrip())
        if b > a:
            spans.append((a, b))
    if not spans and text.strip():
        spans = [(len(text) - len(text.lstrip()), len(text.rstrip()))]
    original, bounds, parts, at, prev_end = [], [], [], 0, None
    for a, b in spans:
        piece = normalize(text[a:b], recipe).text
        if not piece:
            continue
        if prev_end is not None and a > prev_end:  # whitespace (or a dropped piece) between them
            parts.append(" ")
            at += 1
        parts.append(piece)
        original.append((a, b))
        bounds.append((at, at + len(piece)))
        at += len(piece)
        prev_end = b
    return Sentences(original, "".join(parts), bounds)


def token_sentences(offsets: list[tuple[int, int]], bounds: list[tuple[int, int]]) -> np.ndarray:
    """For each token (its character range in the normalised text), the sentence holding its
    last character: a token that begins with the space before a sentence belongs to it."""
    starts = np.array([a for a, _ in bounds])
    last = np.array([max(a, b - 1) for a, b in offsets], dtype=np.int64)
    return np.clip(np.searchsorted(starts, last, side="right") - 1, 0, max(0, len(bounds) - 1))


# -- features ---------------------------------------------------------------------------------------
def group_features(stats: TokenStats, mask: np.ndarray) -> np.ndarray:
    """SENTENCE_FEATURES over the tokens `mask` selects (a sentence, or a whole span)."""
    n = int(mask.sum())
    if n == 0:
        return np.zeros(len(SENTENCE_FEATURES))
    lp, var = stats.log_prob[mask], stats.ref_var[mask]
    discrepancy = float((lp - stats.ref_mean[mask]).sum() / math.sqrt(max(float(var.sum()), 1e-6)))
    return np.array([lp.mean(), -np.log(stats.rank[mask]).mean(), -stats.entropy[mask].mean(), discrepancy,
                     math.log(n)])


def sentence_features(stats: TokenStats, index: np.ndarray, n_sentences: int) -> np.ndarray:
    """(n_sentences, F): each sentence's features from its tokens (`index`: sentence per token)."""
    return np.stack([group_features(stats, index == i) for i in range(n_sentences)]) \
        if n_sentences else np.zeros((0, len(SENTENCE_FEATURES)))


# -- the two-state model ----------------------------------------------------------------------------
def _log_transitions(switch: float) -> np.ndarray:
    stay, move = math.log1p(-switch), math.log(switch)
    return np.array([[stay, move], [move, stay]])


def _log_emissions(log_odds: np.ndarray) -> np.ndarray:
    """(n, 2) log-likelihoods up to a constant: the sentence model's log-odds is the log of the
    likelihood ratio machine/human (it was fitted on balanced classes)."""
    half = np.asarray(log_odds, dtype=np.float64) / 2
    return np.stack([-half, half], axis=1)


def posteriors(log_odds: np.ndarray, switch: float, p_start: float = 0.5) -> np.ndarray:
    """P(machine) of each sentence given all of them (forward-backward, in log space)."""
    n = len(log_odds)
    if n == 0:
        return np.zeros(0)
    e, t = _log_emissions(log_odds), _log_transitions(switch)
    fwd, bwd = np.zeros((n, 2)), np.zeros((n, 2))
    fwd[0] = np.log([1 - p_start, p_start]) + e[0]
    for i in range(1, n):
        cand = fwd[i - 1][:, None] + t  # from state (row) to state (column)
        fwd[i] = e[i] + np.logaddexp(cand[0], cand[1])
    for i in range(n - 2, -1, -1):
        cand = t + (e[i + 1] + bwd[i + 1])[None, :]
        bwd[i] = np.logaddexp(cand[:, 0], cand[:, 1])
    post = fwd + bwd
    post -= np.logaddexp(post[:, 0], post[:, 1])[:, None]
    return np.exp(post[:, 1])


def viterbi(log_odds: np.ndarray, switch: float, p_start: float = 0.5) -> np.ndarray:
    """The most likely state of each sentence (0 human, 1 machine)."""
    n = len(log_odds)
    if n == 0:
        return np.zeros(0, dtype=int)
    e, t = _log_emissions(log_odds), _log_transitions(switch)
    score, back = np.log([1 - p_start, p_start]) + e[0], np.zeros((n, 2), dtype=int)
    for i in range(1, n):
        cand = score[:, None] + t  # from state (row) to state (column)
        back[i] = cand.argmax(axis=0)
        score = cand.max(axis=0) + e[i]
    states = np.zeros(n, dtype=int)
    states[-1] = int(score.argmax())
    for i in range(n - 1, 0, -1):
        states[i - 1] = back[i, states[i]]
    return states


def runs(states: np.ndarray) -> list[tuple[int, int]]:
    """[(first sentence, end sentence)] of each run of equal states."""
    out, a = [], 0
    for i in range(1, len(states) + 1):
        if i == len(states) or states[i] != states[a]:
            out.append((a, i))
            a = i
    return out


# -- the fitted model -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Logistic:
    """A logistic model over standardised features: log-odds = coef . (x - mean) / scale + intercept."""
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(X)
        return ((X - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.coef) + self.intercept

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, C: float = 1.0) -> "Logistic":
        from sklearn.linear_model import LogisticRegression

        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[scale == 0] = 1.0
        lr = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit((X - mean) / scale, y)
        return cls(mean.tolist(), scale.tolist(), lr.coef_[0].tolist(), float(lr.intercept_[0]))


@dataclass(frozen=True)
class SegmentModel:
    """Everything segmentation learned, for one language model and normalisation."""
    model: str
    recipe: str
    sentence: Logistic
    span: Logistic
    switch: float  # P(the author changes between two adjacent sentences)
    p_start: float  # P(the first sentence is machine text)
    threshold: float  # span log-odds at or above which a span is flagged
    target_fpr: float  # share of human texts with any span flagged that `threshold` was set for
    min_sentences: int = 2
    min_tokens: int = 40
    trained_on: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"format": "ovid-segments", **asdict(self)}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> "SegmentModel":
        from ovid.jsonread import load_json

        d = load_json(text, where, whole_file=True)
        try:
            if not isinstance(d, dict) or d.pop("format", None) != "ovid-segments":
                raise ValueError("not an ovid segment model")
            width = len(SENTENCE_FEATURES)
            parts = {k: Logistic(**d.pop(k)) for k in ("sentence", "span")}
            for name, lg in parts.items():
                arrays = (lg.mean, lg.scale, lg.coef)
                if any(len(a) != width for a in arrays) or not all(
                        isinstance(v, (int, float)) and math.isfinite(v) for a in arrays for v in a) \
                        or not all(v > 0 for v in lg.scale) or not math.isfinite(lg.intercept):
                    raise ValueError(f"{name} must hold {width} finite features")
            model = cls(**d, **parts)
        except (TypeError, ValueError) as e:
            raise OvidError(f"{where}: {e}") from None
        if not (0 < model.switch < 1 and 0 < model.p_start < 1 and 0 < model.target_fpr < 1
                and math.isfinite(model.threshold)):
            raise OvidError(f"{where}: switch, p_start and target_fpr must be in (0, 1) and threshold finite")
        return model


@lru_cache(maxsize=8)
def shipped_model(model: str) -> SegmentModel:
    """The segment model ovid ships for a language model (fitted by benchmarks/train_segments.py);
    read once per process, not on every request that asks for spans."""
    path = SHIPPED / f"{model}.json"
    if not re.fullmatch(r"[\w.-]+", model) or not path.is_file():
        have = sorted(p.stem for p in SHIPPED.glob("*.json"))
        raise OvidError(f"no segment model for {model}; segments are fitted for {', '.join(have) or 'no model yet'}")
    return SegmentModel.from_json(path.read_text(encoding="utf-8"), str(path))


# -- one text ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    """A run of sentences one author wrote, by the model's reading: character offsets in the
    text as given, its sentence and token counts, its log-odds (score) for balanced classes, its
    verdict ("machine", "human", or "too short" below the minimum length, which gets none), and
    P(machine) at `prior`, the share of machine text at which the span threshold is even odds
    (both None for a span too short for a verdict)."""
    start: int
    end: int
    sentences: int
    tokens: int
    score: float
    p_machine: float | None
    prior: float | None
    verdict: str

    def as_row(self) -> dict:
        """The span as a JSON row (`ovid score --segments`, the service)."""
        p, prior = (None, None) if self.p_machine is None else reported(self.p_machine, self.prior)
        return {"start": self.start, "end": self.end, "sentences": self.sentences, "tokens": self.tokens,
                "score": round(self.score, 6), "p_machine": p, "prior": prior, "verdict": self.verdict}


@dataclass(frozen=True)
class Segmentation:
    spans: list[Span]
    sentence_p_machine: list[float]  # each sentence's posterior P(machine), in order
    sentences: list[tuple[int, int]]  # each sentence's character range in the text as given
    sentence_machine: list[bool]  # each sentence's state on the most likely path (the spans' runs)


def segment(stats: TokenStats, sentences: Sentences, index: np.ndarray, m: SegmentModel) -> Segmentation:
    """Spans of one text from its token statistics (`index`: the sentence of each token)."""
    n = len(sentences.original)
    log_odds = m.sentence.log_odds(sentence_features(stats, index, n)) if n else np.zeros(0)
    post, states = posteriors(log_odds, m.switch, m.p_start), viterbi(log_odds, m.switch, m.p_start)
    spans = []
    for a, b in runs(states):
        mask = (index >= a) & (index < b)
        tokens = int(mask.sum())
        score = float(m.span.log_odds(group_features(stats, mask))[0])
        if b - a < m.min_sentences or tokens < m.min_tokens:
            verdict, p, prior = TOO_SHORT, None, None
        else:
            verdict = "machine" if score >= m.threshold else "human"
            (p,), prior = even_odds([score], m.threshold)  # the span model was fitted on balanced classes
            p = float(p)
        spans.append(Span(sentences.original[a][0], sentences.original[b - 1][1], b - a, tokens, score, p, prior,
                          verdict))
    return Segmentation(spans, post.tolist(), list(sentences.original), [bool(x) for x in states])


def token_index(tokenizer, sentences: Sentences, stats: TokenStats) -> np.ndarray:
    """The sentence of each scored token, from the tokenizer's character offsets (the tokens
    are the ones the engine scored: checked)."""
    enc = tokenizer(sentences.normalized_text, add_special_tokens=False, return_offsets_mapping=True)
    if list(enc.input_ids) != stats.token_ids.tolist():
        raise OvidError("the tokenizer's offsets do not match the scored tokens; cannot place sentences")
    return token_sentences(list(enc.offset_mapping), sentences.normalized)


def first_tokens(sentences: Sentences, tokenizer, max_tokens: int) -> tuple[Sentences, bool]:
    """The sentences that end within the first `max_tokens` tokens (at least the first one, cut
    there), and whether any were dropped: a service that reads at most so many tokens per text
    segments what it read."""
    offsets = tokenizer(sentences.normalized_text, add_special_tokens=False,
                        return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) <= max_tokens:
        return sentences, False
    end = offsets[max_tokens - 1][1]
    keep = max(1, sum(1 for _, b in sentences.normalized if b <= end))
    bounds = list(sentences.normalized[:keep])
    a, b = bounds[-1]
    bounds[-1] = (a, min(b, end)) if keep == 1 else (a, b)
    original = list(sentences.original[:keep])  # a first sentence cut short keeps its typed range
    return Sentences(original, sentences.normalized_text[:bounds[-1][1]], bounds), True


def prepare(engine, texts: list[str], recipe: str, ids=None, progress: bool = False, max_tokens: int | None = None):
    """Each text's sentences, token statistics (one pass, through the engine's caches) and the
    sentence of each token; with `max_tokens`, only the sentences within a text's first max_tokens tokens."""
    sents = [split_sentences(t, recipe) for t in texts]
    if max_tokens is not None:
        sents = [first_tokens(s, engine.tokenizer, max_tokens)[0] for s in sents]
    stats = engine.token_stats([s.normalized_text for s in sents], ids=ids, progress=progress)
    return [(s, st, token_index(engine.tokenizer, s, st)) for s, st in zip(sents, stats)]


def segment_texts(engine, texts: list[str], m: SegmentModel, ids=None, progress: bool = False,
                  max_tokens: int | None = None) -> list[Segmentation]:
    """Spans of every text, from one forward pass each."""
    return [segment(st, s, index, m) for s, st, index in prepare(engine, texts, m.recipe, ids, progress, max_tokens)]
