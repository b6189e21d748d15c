"""Render report blocks as Markdown (GitHub-flavoured tables), the same content as the page.

Data text is escaped so it can neither open HTML tags nor break a table: `<`, `>` and `&` become
entities, Markdown punctuation gets a backslash, line breaks become spaces."""
from __future__ import annotations

import re

from .blocks import Block, Details, Figure, Heading, Note, Paragraph, Table, TokenColouring

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# `_` inside a word (cross_size) cannot start emphasis, so only a word-edge `_` is escaped
_SPECIAL = re.compile(r"[&<>\\`*|~]|(?<!\w)_|_(?!\w)|\](?=[(\[])|\r\n|[\r\n]")


def md_escape(text: str) -> str:
    """Plain text safe inside a Markdown paragraph or table cell. Brackets are left alone unless
    they would form a link (`](`), so intervals still read "0.91 [0.85, 0.96]" in the file."""
    def sub(m: re.Match) -> str:
        c = m.group(0)
        if c in _ENTITIES:
            return _ENTITIES[c]
        return " " if c.strip("\r\n") == "" else "\\" + c

    return _SPECIAL.sub(sub, text)


def data_link(href: str) -> str:
    return f"[{md_escape(href.rsplit('/', 1)[-1])}]({href})"


def table_md(t: Table) -> str:
    lines = []
    caption = md_escape(t.caption) + (f" Data: {data_link(t.csv)}" if t.csv else "")
    if caption.strip():
        lines += [caption.strip(), ""]
    lines.append("| " + " | ".join(md_escape(h) for h in t.header) + " |")
    lines.append("|" + "|".join("---:" if i in t.numeric else "---" for i in range(len(t.header))) + "|")
    lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in t.rows]
    return "\n".join(lines)


def fence(text: str) -> str:
    """A code fence longer than any backtick run inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def block_md(block: Block) -> str:
    match block:
        case Heading(text, level, _):
            return f"{'#' * level} {md_escape(text)}"
        case Paragraph(text):
            return md_escape(text)
        case Note(text):
            return f"> {md_escape(text)}"
        case Table():
            return table_md(block)
        case Figure(src, alt, caption, csv):
            line = (f"*{md_escape(caption)}*" if caption else "") + (f" Data: {data_link(csv)}" if csv else "")
            return f"![{md_escape(alt)}]({src})" + (f"\n\n{line.strip()}" if line else "")
        case TokenColouring(_, shares):
            return ("> Markdown cannot colour text: the token-by-token colouring, with each token's bucket "
                    "also in words and as a table, is in [index.html](index.html#gltr).\n\n" + table_md(shares))
        case Details(summary, text):
            f = fence(text)
            return f"**{md_escape(summary)}**\n\n{f}json\n{text}\n{f}"
    raise TypeError(f"no Markdown for block {block!r}")


def render_markdown(title: str, intro: str, blocks: list[Block]) -> str:
    """The whole report: title, a one-line intro, then the blocks separated by blank lines."""
    parts = [f"# {md_escape(title)}", md_escape(intro)] + [block_md(b) for b in blocks]
    return "\n\n".join(parts) + "\n"
