"""Units of work (ovid/corpus_units.py): read one by one and put back in order, they are the
corpus as a whole read gives it, whatever the cut."""
from __future__ import annotations

import json

import pytest

from ovid.corpus import read_corpora
from ovid.corpus_units import in_source_order, plan_units, read_unit
from ovid.errors import CorpusError


def _corpora(tmp_path):
    a = tmp_path / "a.jsonl"  # a BOM, CRLF, blank lines, ids from line numbers, no final newline
    a.write_bytes(b"\xef\xbb\xbf" + b"".join(
        (json.dumps({"text": f"text {i} " * (i % 5 + 1), "label": i % 2}) + ("\r\n" if i % 3 else "\n")).encode()
        + (b"\n" if i % 4 == 0 else b"") for i in range(40)) + b'{"text": "the last one"}')
    b = tmp_path / "b.json"
    b.write_text(json.dumps({"original": [f"human {i}" for i in range(7)], "sampled": [f"model {i}" for i in range(7)]}))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    texts = tmp_path / "texts"
    texts.mkdir()
    for i in range(3):
        (texts / f"t{i}.txt").write_text(f"file {i}")
    return [str(a), str(b), str(empty), str(a), str(texts)]


@pytest.mark.parametrize("unit_bytes", [1, 37, 200, 10**6])
def test_units_read_in_order_are_the_whole_read(tmp_path, unit_bytes):
    sources = _corpora(tmp_path)
    units = plan_units(sources, unit_bytes)
    if unit_bytes == 1:
        assert sum(u.end > 0 for u in units) > 40 and max(u.stripes for u in units) > 14  # more stripes than records
    got = list(in_source_order(units, lambda i: read_unit(units[i])))
    whole = read_corpora(sources)
    assert [(r.source, r.id, r.text, r.label) for r in got] == [(r.source, r.id, r.text, r.label) for r in whole]
    assert {u.name for u in units} == set(sources) - {sources[2]}  # the empty file has no unit


def test_a_bad_line_in_a_range_names_the_files_line_and_byte(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text("".join(json.dumps({"text": f"t{i}"}) + "\n" for i in range(9)) + "{oops\n" + '{"text": "ok"}\n')
    units = plan_units([str(p)], 30)
    with pytest.raises(CorpusError, match=r"x\.jsonl:10: invalid JSON"):
        for u in units:
            list(read_unit(u))
    latin = tmp_path / "l.jsonl"
    latin.write_bytes(b'{"text": "a"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(CorpusError) as whole:
        read_corpora([str(latin)])
    with pytest.raises(CorpusError, match=r"l\.jsonl:2: not UTF-8 text \(byte 27") as ranged:
        for u in plan_units([str(latin)], 5):
            list(read_unit(u))
    assert str(ranged.value) == str(whole.value)
