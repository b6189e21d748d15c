"""Every structured file ovid reads, whatever its content: an OvidError with one line, never a
traceback. Hypothesis generates JSON and TOML values of the wrong type, depth and size for each
file kind (a JSONL line, a Fast-DetectGPT file, a study TOML, a saved detector's config.json)."""
from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovid import load_detector, make_detector
from ovid.corpus import read_corpus
from ovid.errors import OvidError
from ovid.reports.study.config import load_study

from conftest import TRAIN_TEXT

BIGINT = "<bigint>"  # stands for a 5,000-digit integer (Hypothesis cannot show one)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 40, 10 ** 40), st.floats(allow_nan=True),
                    st.text(max_size=20), st.just("\ud800"), st.just(BIGINT))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=20)
KEYS = st.sampled_from(["text", "id", "label", "original", "sampled", "format", "detector", "params", "files",
                        "calibration", "ovid_version", "study", "human", "machine", "detectors", "name", "corpus",
                        "seed", "bootstrap", "threshold"])
DOCS = st.one_of(VALUES, st.dictionaries(KEYS, VALUES, max_size=6))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def dumps(value) -> str:
    """JSON text, including what json.dumps refuses (huge integers, lone surrogates as escapes)."""
    return json.dumps(value, ensure_ascii=True).replace(f'"{BIGINT}"', "9" * 5000)


def one_line_error(fn) -> None:
    try:
        fn()
    except OvidError as e:
        assert "\n" not in str(e).strip(), str(e)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@FAST
@given(doc=DOCS)
def test_a_jsonl_line_of_anything(tmp_path, doc):
    path = tmp_path / "c.jsonl"
    path.write_text(dumps(doc) + "\n" + '{"text": ' + deep(5000) + "}\n", encoding="utf-8")
    one_line_error(lambda: list(read_corpus(path)))


@FAST
@given(doc=DOCS)
def test_a_fastdetectgpt_file_of_anything(tmp_path, doc):
    path = tmp_path / "x.raw_data.json"
    path.write_text(dumps(doc), encoding="utf-8")
    one_line_error(lambda: list(read_corpus(path)))


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v == BIGINT:
        return "9" * 5000
    if isinstance(v, (int, float)) and v == v and abs(v) != float("inf"):
        return repr(v) if isinstance(v, float) else str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=True)


@FAST
@given(section=st.sampled_from(["study", "human", "generate", "robustness", "watermark", "memorization"]),
       items=st.dictionaries(KEYS, VALUES, max_size=4))
def test_a_study_toml_of_anything(tmp_path, section, items):
    path = tmp_path / "s.toml"
    body = "\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in items.items())
    path.write_text(f"[{section}]\n{body}\n[[detectors]]\nname = {toml_value(items.get('name', 5))}\n",
                    encoding="utf-8")
    one_line_error(lambda: load_study(path))
    path.write_text("a = " + deep(3000) + "\n", encoding="utf-8")
    one_line_error(lambda: load_study(path))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("det") / "d"
    make_detector("tfidf").fit(TRAIN_TEXT[:8], [0, 1] * 4).save(folder)
    return folder


@FAST
@given(key=KEYS, value=VALUES)
def test_a_saved_detector_config_of_anything(tmp_path, saved, key, value):
    folder = tmp_path / "d"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(saved, folder)
    cfg = json.loads((folder / "config.json").read_text())
    parts = key.split(".")
    cfg[parts[0]] = value
    if isinstance(cfg.get("calibration"), dict) and key == "threshold":
        cfg["calibration"]["threshold"] = value
    (folder / "config.json").write_text(dumps(cfg))
    one_line_error(lambda: load_detector(folder))


SIDECARS = st.one_of(DOCS, st.fixed_dictionaries({"format": st.sampled_from(["gpt-2-output-dataset", "ovid-attack"])},
                                                  optional={"identity": VALUES, "source": VALUES, "seed": VALUES,
                                                            "started": VALUES, "watermark": VALUES}))


@FAST
@given(doc=SIDECARS)
def test_a_corpus_sidecar_of_anything(tmp_path, doc):
    """A .meta.json beside a corpus: read for its label, and checked by generate and attack
    before they resume into the corpus."""
    from ovid.attack import AttackConfig
    from ovid.attack.corpus_job import _check_resumable as attack_resumable
    from ovid.attack.corpus_job import _meta
    from ovid.generate import GenerationConfig
    from ovid.generate.corpus_job import _check_resumable as generate_resumable

    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "a text"}\n', encoding="utf-8")
    (tmp_path / "c.meta.json").write_text(dumps(doc), encoding="utf-8")
    one_line_error(lambda: list(read_corpus(corpus)))
    one_line_error(lambda: generate_resumable(corpus, GenerationConfig(n=1)))
    config = AttackConfig(attacks=("number",))
    one_line_error(lambda: attack_resumable(corpus, _meta(config, "s.jsonl", 1, 0, "running", "")))
