"""Render report blocks as one self-contained HTML page: inline CSS, no script, no external URL,
and every figure embedded as a `data:` URI, so the page alone (moved, mailed, offline) shows all
of them. Only the links to the CSV files are relative. Every string from the data goes through
`html.escape`."""
from __future__ import annotations

import base64
from html import escape
from typing import Mapping

from .blocks import GLTR_BUCKETS, Block, Details, Figure, Heading, Note, Paragraph, Table, TokenColouring

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1180px; margin: 0 auto; padding: 1.2em 1.5em 3em; }
h1 { margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
nav a { margin-right: .9em; } .meta, .note, figcaption, caption { color: #555; }
.note { font-style: italic; border-left: 3px solid #ccc; padding-left: .6em; }
.table-wrap { overflow-x: auto; margin: .8em 0; }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; padding-bottom: .3em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: .25em .55em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; } tbody tr:nth-child(even) { background: #fafafa; }
td { white-space: nowrap; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { white-space: pre-wrap; min-width: 18em; max-width: 42em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.gltr { white-space: pre-wrap; line-height: 1.9; border: 1px solid #ddd; padding: .6em .8em; }
.gltr-title small { color: #666; font-weight: normal; }
.legend span { padding: .1em .5em; margin-right: .4em; }
details.gltr-tokens { margin: .4em 0 1em; } details.gltr-tokens td.wrap { min-width: 0; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 12px; }
""" + "".join(f".b{k} {{ background: {colour}; }}\n" for k, (_, _, colour) in enumerate(GLTR_BUCKETS))


def data_link(href: str) -> str:
    name = href.rsplit("/", 1)[-1]
    return f'<a class="csv" href="{escape(href)}">{escape(name)}</a>'


def table_html(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.header)
    kinds = ["num" if i in t.numeric else "wrap" if i in t.wrap else "" for i in range(len(t.header))]
    cells = [f' class="{k}"' if k else "" for k in kinds]
    body = "\n".join("<tr>" + "".join(f"<td{c}>{escape(v)}</td>" for c, v in zip(cells, row)) + "</tr>"
                     for row in t.rows)
    caption = escape(t.caption) + (f" Data: {data_link(t.csv)}" if t.csv else "")
    csv_attr = f' data-csv="{escape(t.csv.rsplit("/", 1)[-1])}"' if t.csv else ""
    return (f'<div class="table-wrap"><table id="t-{escape(t.key)}"{csv_attr}>'
            + (f"<caption>{caption.strip()}</caption>" if caption.strip() else "")
            + f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>")


def figure_html(f: Figure, png: bytes) -> str:
    """The figure with its PNG bytes inline; `data-file` names the copy next to the page."""
    caption = escape(f.caption) + (f" Data: {data_link(f.csv)}" if f.csv else "")
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="{uri}" alt="{escape(f.alt)}" data-file="{escape(f.src)}">'
            f"<figcaption>{caption.strip()}</figcaption></figure>")


def token_span(text: str, bucket: int) -> str:
    """One coloured token that also says its bucket in words (tooltip and accessible name)."""
    ranks = GLTR_BUCKETS[bucket][1]
    name = f"{text.strip()} ({ranks})" if text.strip() else ranks
    return f'<span class="b{bucket}" title="{ranks}" aria-label="{escape(name)}">{escape(text)}</span>'


def tokens_html(block: TokenColouring) -> str:
    legend = "".join(f'<span class="b{k}" title="{ranks}">{escape(label)} ({ranks})</span>'
                     for k, (label, ranks, _) in enumerate(GLTR_BUCKETS))
    parts = [f'<p class="legend">{legend}</p>']
    tables = block.tokens or [None] * len(block.examples)
    for ex, table in zip(block.examples, tables):
        # spans are joined with no whitespace between them: tokens carry their own spaces
        spans = "".join(token_span(text, bucket) for text, bucket in ex.tokens)
        parts.append(f'<h4 class="gltr-title">{escape(ex.title)} <small>{escape(ex.label)} · '
                     f'{escape(ex.source)}</small></h4>\n<div class="gltr">{spans}</div>')
        if table is not None:
            parts.append('<details class="gltr-tokens"><summary>The same tokens as a table, with their '
                         f"rank buckets</summary>\n{table_html(table)}</details>")
    parts.append(table_html(block.shares))
    return "\n".join(parts)


def block_html(block: Block, images: Mapping[str, bytes]) -> str:
    match block:
        case Heading(text, level, anchor):
            ident = f' id="{escape(anchor)}"' if anchor else ""
            return f"<h{level}{ident}>{escape(text)}</h{level}>"
        case Paragraph(text):
            return f"<p>{escape(text)}</p>"
        case Note(text):
            return f'<p class="note">{escape(text)}</p>'
        case Table():
            return table_html(block)
        case Figure(src):
            return figure_html(block, images[src])
        case TokenColouring():
            return tokens_html(block)
        case Details(summary, text):
            return f"<details><summary>{escape(summary)}</summary><pre>{escape(text)}</pre></details>"
    raise TypeError(f"no HTML for block {block!r}")


def render_html(title: str, intro: str, blocks: list[Block], images: Mapping[str, bytes]) -> str:
    """The whole page: title, a one-line intro, a contents bar from the level-2 headings, blocks.
    `images` maps each Figure's `src` to its PNG bytes, which the page embeds."""
    nav = " ".join(f'<a href="#{escape(b.anchor)}">{escape(b.text)}</a>'
                   for b in blocks if isinstance(b, Heading) and b.level == 2 and b.anchor)
    body = "\n".join(block_html(b, images) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f'<header><h1>{escape(title)}</h1>\n<p class="meta">{escape(intro)}</p>\n'
            f"<nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n")
