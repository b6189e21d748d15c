import json

import pytest

from ovid.corpus import HUMAN, MACHINE, append_jsonl, meta_path, read_corpora, read_corpus, repair_jsonl
from ovid.errors import CorpusError

from conftest import SHARED, needs_shared, write_jsonl


def test_gpt2_output_jsonl_reads_fields_and_labels_by_name(tmp_path):
    rows = [{"id": 7, "text": "hello there", "length": 2, "ended": True},
            {"id": 8, "text": "second", "length": 1, "ended": False}]
    recs = list(read_corpus(write_jsonl(tmp_path / "xl-1542M-k40.test.jsonl", rows)))
    assert [(r.id, r.text, r.label) for r in recs] == [("7", "hello there", 1), ("8", "second", 1)]
    assert recs[0].extra == {"length": 2, "ended": True}
    web = list(read_corpus(write_jsonl(tmp_path / "webtext.test.jsonl", rows)))
    assert {r.label for r in web} == {HUMAN}
    other = list(read_corpus(write_jsonl(tmp_path / "mine.jsonl", rows)))
    assert {r.label for r in other} == {None}


def test_sidecar_meta_marks_machine_text(tmp_path):
    p = write_jsonl(tmp_path / "s.jsonl", [{"id": 0, "text": "abc"}])
    meta_path(p).write_text("{}")
    assert meta_path(p).name == "s.meta.json"
    assert next(read_corpus(p)).label == MACHINE


def test_text_label_jsonl_and_label_override(tmp_path):
    p = write_jsonl(tmp_path / "l.jsonl", [{"text": "a", "label": 0}, {"text": "b", "label": "machine"}])
    assert [(r.id, r.label) for r in read_corpus(p)] == [("0", 0), ("1", 1)]
    assert {r.label for r in read_corpus(p, label=1)} == {1}


@pytest.mark.parametrize("line, message", [
    ('{"text": "ok"}\n{"text": "broken\n', "bad.jsonl:2: invalid JSON"),
    ('{"text": "ok"}\n{"id": 3}\n', "bad.jsonl:2: expected an object with a string 'text' field"),
    ('{"text": "ok", "label": 5}\n', "bad.jsonl:1: label must be 0/1"),
])
def test_malformed_jsonl_names_file_and_line(tmp_path, line, message):
    p = tmp_path / "bad.jsonl"
    p.write_text(line)
    with pytest.raises(CorpusError) as e:
        list(read_corpus(p))
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_fastdetectgpt_json_small(tmp_path):
    p = tmp_path / "x.raw_data.json"
    p.write_text(json.dumps({"original": ["h0", "h1"], "sampled": ["m0", "m1"]}))
    recs = list(read_corpus(p))
    assert [(r.id, r.text, r.label) for r in recs] == [
        ("original/0", "h0", 0), ("original/1", "h1", 0), ("sampled/0", "m0", 1), ("sampled/1", "m1", 1)]
    p.write_text(json.dumps({"original": ["h0"]}))
    with pytest.raises(CorpusError, match="'original' and 'sampled'"):
        list(read_corpus(p))
    p.write_text('{"original": [\n"a",]}')
    with pytest.raises(CorpusError, match=r"x.raw_data.json:2: invalid JSON"):
        list(read_corpus(p))


@needs_shared
def test_fastdetectgpt_real_file():
    recs = list(read_corpus(SHARED / "xsum_gpt2-xl.raw_data.json"))
    assert len(recs) == 1000
    assert sum(r.label for r in recs) == 500
    assert recs[0].id == "original/0" and recs[500].id == "sampled/0"
    assert recs[0].text.startswith("Maj Richard Scott")


def test_txt_folder(tmp_path):
    (tmp_path / "b.txt").write_text("second text")
    (tmp_path / "a.txt").write_text("first text")
    (tmp_path / "ignored.md").write_text("x")
    recs = list(read_corpus(tmp_path, label=0))
    assert [(r.id, r.text, r.label) for r in recs] == [("a", "first text", 0), ("b", "second text", 0)]
    (tmp_path / "c.txt").write_bytes(b"\xff\xfe bad")
    with pytest.raises(CorpusError, match=r"c.txt:1: not UTF-8"):
        list(read_corpus(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no .txt files"):
        list(read_corpus(empty))


def test_hf_dataset_local_files_and_saved_dataset(tmp_path):
    import datasets
    import pandas as pd

    pd.DataFrame({"text": ["x one", "y two"], "label": [0, 1]}).to_parquet(tmp_path / "d.parquet")
    assert [(r.text, r.label) for r in read_corpus(tmp_path / "d.parquet")] == [("x one", 0), ("y two", 1)]
    pd.DataFrame({"body": ["only"]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(CorpusError, match=r"d.csv: no 'text' column \(columns: body\)"):
        list(read_corpus(tmp_path / "d.csv"))
    datasets.Dataset.from_dict({"text": ["saved"], "id": ["s1"]}).save_to_disk(tmp_path / "saved")
    assert [(r.id, r.text) for r in read_corpus(tmp_path / "saved")] == [("s1", "saved")]


def test_builtin_human_demo_ships_with_provenance():
    recs = read_corpora(["ovid:human-demo"])
    assert len(recs) == 48 and {r.label for r in recs} == {HUMAN}
    assert len({r.id for r in recs}) == 48
    assert all(len(r.text.split()) >= 120 for r in recs)
    from ovid.corpus import builtin_path
    assert "Fast-DetectGPT" in (builtin_path("ovid:human-demo").parent / "PROVENANCE.md").read_text()


def test_missing_and_unknown_sources(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        list(read_corpus(tmp_path / "nope.jsonl"))
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(CorpusError, match="unknown corpus format"):
        list(read_corpus(tmp_path / "x.docx"))


def test_repair_drops_torn_tail_and_append_writes_whole_lines(tmp_path):
    p = tmp_path / "o.jsonl"
    append_jsonl(p, [{"id": 0, "text": "a"}, {"id": 1, "text": "b"}])
    with open(p, "a") as f:
        f.write('{"id": 2, "te')
    assert repair_jsonl(p) == 2
    assert [r.id for r in read_corpus(p)] == ["0", "1"]
    assert repair_jsonl(tmp_path / "absent.jsonl") == 0


def test_table_files_are_read_without_a_dataset_cache(tmp_path, monkeypatch):
    import pandas as pd
    import pyarrow as pa

    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    pd.DataFrame({"text": ["a one", "b two"], "label": [1, 0], "id": ["x", "y"]}).to_csv(tmp_path / "t.csv", index=False)
    table = pa.table({"text": ["arrow text"]})
    with pa.OSFile(str(tmp_path / "t.arrow"), "wb") as f, pa.ipc.new_stream(f, table.schema) as w:
        w.write_table(table)  # the streaming format, as datasets writes it
    assert [(r.id, r.text, r.label) for r in read_corpus(tmp_path / "t.csv")] == [("x", "a one", 1), ("y", "b two", 0)]
    assert [r.text for r in read_corpus(tmp_path / "t.arrow")] == ["arrow text"]
    assert not cache.exists()
    (tmp_path / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"text": "with a byte-order mark"}\n')
    assert [r.text for r in read_corpus(tmp_path / "bom.jsonl")] == ["with a byte-order mark"]
