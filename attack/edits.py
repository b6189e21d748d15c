"""What an attack returns: the new text and the character spans it changed (in the new text),
as RAID records them (`generation`, `num_edits`, `edits`)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attacked:
    text: str
    edits: list[tuple[int, int]] = field(default_factory=list)  # [start, end) in `text`

    @property
    def num_edits(self) -> int:
        return len(self.edits)


def apply_replacements(text: str, replacements: list[tuple[int, int, str]]) -> Attacked:
    """Replace each [start, end) span of `text` (non-overlapping) by its string; the edits are
    the spans of the new strings in the result."""
    out, edits, pos, shift = [], [], 0, 0
    for start, end, new in sorted(replacements):
        out.append(text[pos:start])
        out.append(new)
        edits.append((start + shift, start + shift + len(new)))
        shift += len(new) - (end - start)
        pos = end
    out.append(text[pos:])
    return Attacked("".join(out), edits)
