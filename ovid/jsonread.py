"""The boundary every JSON document a user hands ovid crosses (a JSONL line, a Fast-DetectGPT
file, a corpus's .meta.json): bounded in depth and in the digits of its integers before Python
converts them, its strings valid Unicode (a lone surrogate cannot be written back out), and any
violation one line naming FILE:LINE and the field."""
from __future__ import annotations

import json
from typing import Any

from .errors import CorpusError

MAX_DEPTH = 64  # ovid's own formats nest three deep; a generous bound far from Python's recursion limit
MAX_INT_DIGITS = 30  # ids, labels, counts and seeds: past 2**64 already


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise CorpusError(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _field(path: list) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "the document"


def check_value(obj: Any, where: str) -> None:
    """Depth and lone surrogates, walked without recursion (keys included)."""
    stack = [(obj, [], 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CorpusError(f"{where}: {_field(path)} is nested over {MAX_DEPTH} levels deep")
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError as e:
                raise CorpusError(f"{where}: {_field(path)} holds a lone surrogate "
                                  f"({node[e.start]!r} at character {e.start}), not text") from None
        elif isinstance(node, dict):
            for k, v in node.items():
                stack.append((k, path + [f"<key {k[:20]!r}>"], depth + 1))
                stack.append((v, path + [k], depth + 1))
        elif isinstance(node, list):
            stack.extend((v, path + [i], depth + 1) for i, v in enumerate(node))


def load_json(text: str, where: str, whole_file: bool = False) -> Any:
    """`text` parsed and checked; `where` ("FILE:LINE", or "FILE" for a `whole_file`, whose
    syntax errors then name the line) prefixes every error."""
    try:
        obj = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as e:
        at = f"{where}:{e.lineno}" if whole_file else where
        raise CorpusError(f"{at}: invalid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise CorpusError(f"{where}: invalid JSON (nested too deep)") from None
    except CorpusError as e:
        raise CorpusError(f"{where}: {e}") from None
    check_value(obj, where)
    return obj
