"""The documentation's promises, as tests.

Every headline number in README.md, docs/*.md and the shipped detector's model card must appear
in benchmarks/RESULTS.md, where each figure sits beside the command and machine that measured
it: when a benchmark is re-run and its figure changes, a page that still quotes the old one
fails here instead of going stale.

A headline number, mechanically (`headline_numbers`):
- in prose, in tables, in the comment part (`# ...`) of a code line, and in every line of an
  output block (a fence with no language or `text`), since an output shown is a claim;
- any number with a decimal part or an exponent (0.759, 95.3%, 1.32x, 12.7 s, 4.8e-7), and any
  whole number with a time unit, a percent sign, a multiplier x or a rate (345 s, 8 min, 13%,
  31x, 2,679 tokens/s);
- not: numbers inside inline code or a code line (an option's value, a path, a literal the CLI
  tests check), version numbers (2.13.0), parts of names (gpt-neo-2.7B, SmolLM2-135M), model
  sizes written against their letter (1.5B, 124M), and the short ALLOWED list below.
A doc number matches when RESULTS.md holds the same digits (thousands commas ignored), in the
same unit where it has one (13% needs "13%" there, not any 13), so a rounded or made-up figure
fails; a figure RESULTS.md keeps only as history (SUPERSEDED) fails too. A worked estimate
computed from measured figures sits between `<!-- arithmetic -->` and `<!-- /arithmetic -->`,
its inputs quoted outside the block.

Also checked: the README's length, that it links every docs page, that every relative link in
these pages resolves, and the LICENSE.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
CARD = ROOT / "detect" / "shipped" / "default" / "README.md"
README_MAX_LINES = 220

# Numbers in the docs that are not measurements and are not in RESULTS.md, each with its reason.
ALLOWED: dict[str, str] = {
    "3.10": "the oldest Python ovid supports (a version of two parts)",
}
# Figures RESULTS.md still holds as history, beside the figure that replaced them; no page may
# quote them as current.
SUPERSEDED = {
    "0.8528": "Fast-DetectGPT (SmolLM2-135M) on xsum_gpt2-xl on raw text, before `fold` became the "
              "default normalisation; RESULTS.md gives 0.759 with it",
}

_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(\.\d+)?([eE][-+]?\d+)?")
_UNIT = re.compile(r"%|x(?!\w)|\s?(?:ms|s|min|minutes?|seconds?|h|hours?)(?![\w/])|\s?[\w.-]*/s\b")
_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK_TARGET = re.compile(r"\]\(([^)\s]*)\)")
_URL = re.compile(r"<?https?://\S+")
_COMMENT = re.compile(r"(?:^|\s)#\s?(.*)$")
_BLOCK = re.compile(r"<!--\s*arithmetic\s*-->.*?<!--\s*/arithmetic\s*-->", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def claim_text(markdown: str) -> list[tuple[int, str]]:
    """(line number, text) of the parts of a Markdown page that make claims: prose and tables
    without inline code, link targets and URLs; comments of code lines; output blocks whole."""
    # Blank out the skipped regions but keep their newlines, so line numbers stay right.
    def blank(m: re.Match) -> str:
        return "\n" * m.group(0).count("\n")

    markdown = _HTML_COMMENT.sub(blank, _BLOCK.sub(blank, markdown))
    out, fence, output_block = [], None, False
    for no, line in enumerate(markdown.splitlines(), 1):
        m = _FENCE.match(line)
        if m and (fence is None or m.group(1) == fence):
            if fence is None:
                fence, output_block = m.group(1), m.group(2) in ("", "text")
            else:
                fence = None
            continue
        if fence is not None:
            if output_block:
                out.append((no, line))
            elif c := _COMMENT.search(line):
                out.append((no, _INLINE_CODE.sub(" ", c.group(1))))
            continue
        line = _LINK_TARGET.sub("]", _INLINE_CODE.sub(" ", line))
        out.append((no, _URL.sub(" ", line)))
    return out


def _unit(after: str) -> str:
    """The unit a number is stated in, as it follows the number in a claim: "%", "x", " ms", " s",
    " min", " h"; "" for a rate (tables give those in their header) or none."""
    m = _UNIT.match(after)
    if not m:
        return ""
    u = m.group(0).strip()
    if u in ("%", "x"):
        return u
    return {"ms": " ms", "s": " s", "second": " s", "seconds": " s", "min": " min", "minute": " min",
            "minutes": " min", "h": " h", "hour": " h", "hours": " h"}.get(u, "")


def headline_numbers(markdown: str) -> list[tuple[int, str]]:
    """(line number, claim) of every headline number (see above): the number as written without
    thousands commas, followed by its unit key where it has a percent sign, a multiplier x or a
    time unit (13%, 1.32x, 345 s), since RESULTS.md must then hold it in the same unit."""
    found = []
    for no, text in claim_text(markdown):
        for m in _NUMBER.finditer(text):
            start, end = m.span()
            before = text[max(0, start - 2):start]
            if before[-1:] and (before[-1].isalnum() or before[-1] in "._"):
                continue  # part of a name or a longer number (L4, gpt2, x.y)
            if before[-1:] == "-" and before[:1].isalpha():
                continue  # part of a name (gpt-neo-2.7B)
            if re.match(r"\.\d", text[end:end + 2]):
                continue  # a version (2.13.0)
            _, frac, exp = m.groups()
            after = text[end:]
            if re.match(r"[A-Za-z_]", after) and not _UNIT.match(after):
                continue  # a model size (1.5B, 124M) or a name
            if frac or exp or _UNIT.match(after):
                found.append((no, m.group(0).replace(",", "") + _unit(after)))
    return found


def measured_numbers(results: str) -> set[str]:
    """Every number RESULTS.md holds, commas removed, both bare and with its unit key: the unit
    written after it, or its table column's ("wall (s)"); a number on a line that gives
    percentages also counts as a percentage (an interval "3.3% [1.1, 7.5]")."""
    found: set[str] = set()
    lines = results.splitlines()
    column_units: list[str] = []
    for i, line in enumerate(lines):
        cells = line.strip().strip("|").split("|") if line.lstrip().startswith("|") else None
        if cells is None:
            column_units = []
        elif i + 1 < len(lines) and re.match(r"\s*\|[\s:|-]+\|?\s*$", lines[i + 1]):
            column_units = [_unit(m.group(1)) if (m := re.search(r"\((\S+)\)\s*$", c)) else "" for c in cells]
        for j, cell in enumerate(cells if cells is not None else [line]):
            column = column_units[j] if cells is not None and j < len(column_units) else ""
            for m in _NUMBER.finditer(cell):
                num = m.group(0).replace(",", "")
                found |= {num, num + _unit(cell[m.end():]), num + column}
                if "%" in line:
                    found.add(num + "%")
    return found


def unmeasured(markdown: str, results: str) -> list[str]:
    """`line: number` for each headline number of `markdown` that `results` does not hold, or
    holds only as a figure it has since replaced (SUPERSEDED)."""
    known = measured_numbers(results) - set(SUPERSEDED)
    return [f"{no}: {num}" for no, num in headline_numbers(markdown) if num not in known and num not in ALLOWED]


def doc_pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md")), CARD]


# -- the checker itself, on made-up pages --------------------------------------------------------

RESULTS_SAMPLE = """## Fast-DetectGPT
`ovid score ...`: AUROC 0.8528 on raw text; with `fold`, 0.759 on 1,000 texts; two jobs at 1.32x.
| engine | 2,679 | 8 | 13 |; 12.7 s warm; p < 1e-3 flagged 0.00055 of 12,643 texts; within 4.8e-7.
| arxiv | 5/152 = 3.3% [1.1, 7.5] (exact 95% interval) |

| build | wall (s) |
| --- | --- |
| two processes | 9.65 |
"""


def test_the_checker_accepts_numbers_that_results_holds():
    page = """# A page
Fast-DetectGPT reaches AUROC 0.759 on 1,000 texts; two jobs get 1.32x, 2,679 tokens/s, 12.7 s.
It flags 3.3% of arXiv abstracts (exact 95% interval up to 7.5%). Two processes took 9.65 s.

```bash
ovid score --top-p 0.9 --seed 1234 x.jsonl     # AUROC 0.759, within 4.8e-7
pip install torch==2.13.0
```

Defaults are literals: `--target-fpr 0.01`, `gamma = 0.25`. Models: SmolLM2-135M, GPT-2 1.5B,
gpt-neo-2.7B, torch 2.13.0, [a link](docs/v1.2.md), https://example.org/3.14.html.
"""
    assert unmeasured(page, RESULTS_SAMPLE) == []


@pytest.mark.parametrize("claim, caught", [
    ("Fast-DetectGPT on xsum_gpt2-xl: AUROC 0.8528.", ["0.8528"]),  # the stale figure this test exists for
    ("| fast-detectgpt | 0.853 |", ["0.853"]),                       # in a table
    ("`make demo` takes about 10 minutes on 2 cores.", ["10 min"]),  # a whole number with a time unit
    ("The demo took 345 s (286 of 2,262 s in the watermark).", ["345 s", "2262 s"]),
    ("The demo takes ~8 min.", ["8 min"]),                           # RESULTS holds 8, but not 8 min
    ("It finds 13% of the boundaries.", ["13%"]),                    # RESULTS holds 13, but not 13%
    ("Serving is 3x faster with micro-batching.", ["3x"]),           # a multiplier
    ("It flags 8.8% of the essays.", ["8.8%"]),                      # a percentage
    ("It scores 1,234 tokens/s.", ["1234"]),                         # a rate
    ("Scores differ by 5e-7.", ["5e-7"]),                            # an exponent
    ("A score of -3.16 at the threshold.", ["3.16"]),                # a negative number
    ("Its FPR is 0.00055-0.00166.", ["0.00166"]),                    # the second end of a range
    ("```bash\novid score x.jsonl   # -> AUROC 0.8528\n```", ["0.8528"]),  # a code line's comment
    ("```\n1000 texts scored; AUROC 0.8528\n```", ["0.8528"]),            # an output block
])
def test_the_checker_catches_a_number_that_results_lacks(claim, caught):
    bad = unmeasured(f"# A page\n\n{claim}\n", RESULTS_SAMPLE)
    assert [line.split(": ", 1)[1] for line in bad] == caught


def test_a_worked_estimate_is_exempt_only_inside_its_markers():
    estimate = "At 1.32x, 2,679 tokens/s give 14.6 h per 10M documents."
    assert unmeasured(estimate, RESULTS_SAMPLE) == ["1: 14.6 h"]
    assert unmeasured(f"<!-- arithmetic -->\n{estimate}\n<!-- /arithmetic -->\n", RESULTS_SAMPLE) == []


# -- the real pages --------------------------------------------------------------------------------

@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_headline_number_is_in_results(page):
    bad = unmeasured(page.read_text(encoding="utf-8"), RESULTS.read_text(encoding="utf-8"))
    assert not bad, (f"{page.relative_to(ROOT)}: numbers not in benchmarks/RESULTS.md (quote the measured "
                     f"figure, or drop the claim): {', '.join(bad)}")


def test_the_allowed_numbers_are_still_needed():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in doc_pages())
    used = {num for _, num in headline_numbers(pages)}
    assert set(ALLOWED) <= used, f"no longer needed in ALLOWED: {sorted(set(ALLOWED) - used)}"


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/ (limit {README_MAX_LINES})"


def test_the_readme_links_every_docs_page():
    readme = README.read_text(encoding="utf-8")
    linked = {Path(t.split("#")[0]).as_posix() for t in _LINK_TARGET.findall(readme)}
    missing = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "docs").glob("*.md"))
               if p.relative_to(ROOT).as_posix() not in linked]
    assert not missing, f"README.md links no page {missing}"


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings ("## Bad input" -> "bad-input")."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", text, flags=re.M)}


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    text = _HTML_COMMENT.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    broken = []
    for target in _LINK_TARGET.findall(text):
        path, _, anchor = target.partition("#")
        if re.match(r"[a-z]+:", path):
            continue  # a URL
        file = page.parent / path if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _anchors(file)):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: links to missing files or headings: {broken}"


def test_the_licence_is_mit():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the ovid authors" in text
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
