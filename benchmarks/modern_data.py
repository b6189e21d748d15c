"""The chat-era training and evaluation data (../shared/data/modern) and the human-only fairness
sets (../shared/data/fairness), defined once, beside the GPT-2-era files of default_data.py.

- Each modern file pairs human texts (`original`) with machine texts (`sampled`) of one chat-era
  generator on one domain. In the paired files (same prompt, or a rewrite of the human text) the
  machine text i belongs to human text i, so it is split with its human's document key: a
  rewrite never lands on the other side of the split from the text it rewrites. Unpaired files
  split each text by its own key. The split is ovid/splits.py's (test fraction 0.5, seed 0), the
  same hash as default_data.py, so a human article shared with the GPT-2-era files (the rewrite
  set's pool) is held out of both or of neither.
- `decue` strips the shortcut cues that modern/PROVENANCE.md lists between the two sides, on both
  sides alike: chat prefaces ("Here is a ...:", "Sure, here's ..."), "Title:" lines and markdown
  headlines, "[assistant]:" tags, WritingPrompts tags ("[ WP ]"), the BBC's "Media playback is not
  supported on this device", mojibake ("Â£"), sentences
  glued by a dropped newline ("offences.It will") and all line-break differences (whitespace is
  folded). A detector trained or measured on these texts cannot win by those cues; the cue-only
  baseline (benchmarks/cue_baseline.py) is measured on the raw texts, where the cues are there
  for it to find.
- Licences: the three DetectRL files (xsum_*) state none: they train and measure in benchmarks,
  never a shipped detector (`SHIPPABLE`). The fairness essays only ever measure.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ovid.splits import document_key, is_test_document

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
MODERN = SHARED / "modern"
FAIRNESS = SHARED / "fairness"
SPLIT_SEED = 0
TEST_FRACTION = 0.5
# generator -> family
FAMILIES = {
    "gpt-3.5-turbo": "openai", "gpt-4-turbo": "openai", "gpt-4o": "openai",
    "claude-3-opus": "anthropic", "claude-3-sonnet": "anthropic",
    "gemini-1.0-pro": "google", "palm-2": "google",
    "llama-2-70b": "meta", "llama-3-8b": "meta",
    "mistral-7b": "mistral",
}
UNPAIRED = {"writing_gemini-1.0-pro", "xsum_gpt-3.5-turbo", "xsum_palm-2", "xsum_llama-2-70b"}
UNLICENSED = {"xsum_gpt-3.5-turbo", "xsum_palm-2", "xsum_llama-2-70b"}  # DetectRL: no licence stated
FAIRNESS_SETS = ("toefl_real_91", "hewlett_student_essay_88", "college_essay_70")


@dataclass(frozen=True)
class Text:
    text: str  # de-cued (see `decue`); `raw` keeps the file's text
    label: int  # 1 machine, 0 human
    domain: str
    generator: str  # the file's generator ("" for a human-only set)
    file: str  # e.g. "writing_gpt-4-turbo"
    key: str  # the document key the split is made by
    test: bool  # held-out half
    raw: str = ""

    @property
    def family(self) -> str:
        return FAMILIES.get(self.generator, self.generator)

    @property
    def shippable(self) -> bool:
        return self.file not in UNLICENSED


_PREFACE = re.compile(
    r"^\s*(?:\[?assistant\]?:\s*)?(?:(?:sure|certainly|okay|of course)[!,.]?\s*)?"
    r"(?:here(?:'s| is| are)\b[^\n:]{0,200}:|title:[^\n]*\n)\s*", re.IGNORECASE)
_HEADLINE = re.compile(r"^\s*(?:\*\*[^*\n]{1,200}\*\*:?|#+\s[^\n]{1,200}\n)\s*")
# a headline glued to the first sentence by a dropped newline ("... InvestigationIn a shocking"):
# a short run of mostly capitalised words that ends where a capitalised word starts unspaced
_GLUED_HEAD = re.compile(r"^(?:[Tt]itle:\s*)?((?:\S+\s+){2,24}?\S*?[A-Za-z0-9)'’?!.])(?=[A-Z][a-z])")
_TAGS = re.compile(r"\[\s*(?:WP|FF|EU|IP|RF|CW|TT|OT|PI|SP|MP)\s*\]|\[assistant\]:?", re.IGNORECASE)
_GLUED = re.compile(r"([a-z0-9%)][.!?][\"')\]]?)([A-Z][a-z])")
_MARKDOWN = re.compile(r"\*\*|__|^#+\s", re.MULTILINE)
_MOJIBAKE = {"Â£": "£", "Â ": " ", "â€™": "'", "â€œ": '"', "â€\x9d": '"', "â€“": "-", "â€”": "-", "Ã©": "é"}


def decue(text: str) -> str:
    """The text without the cues modern/PROVENANCE.md lists (module docstring)."""
    for _ in range(2):  # a preface, then a headline under it (or the other way round)
        text = _HEADLINE.sub("", text, count=1)
        text = _PREFACE.sub("", text, count=1)
    head = _GLUED_HEAD.match(text)
    if head and "\n" not in head.group(1):
        words = head.group(1).split()
        if sum(w[:1].isupper() or not w[:1].isalpha() for w in words) >= 0.6 * len(words):
            text = text[head.end():]
    for bad, good in _MOJIBAKE.items():
        text = text.replace(bad, good)
    text = _TAGS.sub(" ", text)
    text = text.replace("Media playback is not supported on this device", " ")  # BBC boilerplate, human side
    text = _MARKDOWN.sub("", text)
    text = _GLUED.sub(r"\1 \2", text)
    return " ".join(text.split())


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def modern_files() -> list[str]:
    return sorted(p.name.removesuffix(".raw_data.json") for p in MODERN.glob("*.raw_data.json"))


def file_texts(name: str, pairs: int | None = None) -> list[Text]:
    """A modern file's human and machine texts (the first `pairs` pairs), each with its split."""
    domain, generator = name.split("_", 1)
    d = _read(MODERN / f"{name}.raw_data.json")
    human, machine = d["original"][:pairs], d["sampled"][:pairs]
    out = []
    for i, h in enumerate(human):
        key = document_key(h)
        out.append(Text(decue(h), 0, domain, generator, name, key, is_test_document(key, TEST_FRACTION, SPLIT_SEED), h))
    for i, m in enumerate(machine):
        key = document_key(m) if name in UNPAIRED else out[i].key
        out.append(Text(decue(m), 1, domain, generator, name, key, is_test_document(key, TEST_FRACTION, SPLIT_SEED), m))
    return out


def modern_texts(pairs: int | None = None) -> list[Text]:
    """Every modern file's texts; a human text shared by several files (the rewrite pool) is
    kept once per file, so each file can be measured on its own humans."""
    return [t for name in modern_files() for t in file_texts(name, pairs)]


def fairness_texts() -> list[Text]:
    """The human-only essays (measured, never trained or calibrated on)."""
    out = []
    for name in FAIRNESS_SETS:
        with open(FAIRNESS / f"{name}.jsonl", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    t = json.loads(line)["text"]
                    out.append(Text(" ".join(t.split()), 0, name, "", name, document_key(t), True, t))
    return out
