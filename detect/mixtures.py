"""Texts of mixed authorship with known labels, and how well a segmentation finds their boundary.

Pure functions shared by the segment model's benchmark (benchmarks/train_segments.py) and a
study's "Mixed texts" section, so both measure the same thing the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HUMAN, MACHINE = 0, 1


@dataclass(frozen=True)
class Mixture:
    text: str
    labels: tuple[int, ...]  # per joined sentence: 0 human, 1 machine
    pieces: tuple[tuple[int, int], ...]  # each joined sentence's characters in `text`
    kind: str  # human-machine, machine-human, insert, edit
    domain: str


def join(parts: list[tuple[str, int]], kind: str, domain: str) -> Mixture:
    """(sentence, label) pairs joined by single spaces, with each sentence's place remembered."""
    text, pieces = "", []
    for s, _ in parts:
        text += " " if text else ""
        pieces.append((len(text), len(text) + len(s)))
        text += s
    return Mixture(text, tuple(lab for _, lab in parts), tuple(pieces), kind, domain)


def sentences_of(text: str) -> list[str]:
    """The sentences of a text as typed (ovid's splitter, no normalisation)."""
    from .segments import split_sentences

    return [text[a:b] for a, b in split_sentences(text, "none").original]


def own_sentences(machine: str, human: str) -> list[str]:
    """The machine text's sentences past any it shares with the human text's opening (a
    continuation repeats its prompt, often ending mid-sentence)."""
    h, m = " ".join(human.split()), " ".join(machine.split())
    common = 0
    while common < min(len(h), len(m)) and h[common] == m[common]:
        common += 1
    out, at = [], 0
    for s in sentences_of(m):
        start = m.find(s, at)
        at = start + len(s)
        if common > 20 and start < common:
            continue
        out.append(s)
    return out


def sentence_labels(mx: Mixture, ranges: list[tuple[int, int]]) -> np.ndarray:
    """Each found sentence's label (`ranges`: character ranges in mx.text, as a splitter found
    them): that of the joined sentence it overlaps most."""
    out = []
    for a, b in ranges:
        overlap = [max(0, min(b, q) - max(a, p)) for p, q in mx.pieces]
        out.append(mx.labels[int(np.argmax(overlap))])
    return np.array(out, dtype=int)


def true_boundary(labels: np.ndarray) -> int:
    """The index of the first sentence by the second author (0 if there is only one)."""
    change = np.flatnonzero(labels[1:] != labels[:-1])
    return int(change[0]) + 1 if len(change) else 0


def predicted_boundary(states: np.ndarray, first_label: int) -> int:
    """Where the labelling first leaves the text's first author (0 if it never starts with
    them, len if it never leaves)."""
    if len(states) == 0 or states[0] != first_label:
        return 0
    change = np.flatnonzero(states != first_label)
    return int(change[0]) if len(change) else len(states)


def boundary_error(labels: np.ndarray, states: np.ndarray) -> int:
    """Sentences between the true change of author and the predicted one."""
    return abs(predicted_boundary(np.asarray(states, int), int(labels[0])) - true_boundary(labels))
