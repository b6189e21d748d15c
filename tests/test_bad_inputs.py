"""Bad and unusual inputs, one table: each case is a command (or a Python call), the exit code
(or exception) it must give, and a fragment of its one-line message. Every case also checks that
no file the user owns changed and nothing new appeared among them. Commands run in this process
(`run_ovid`), and every error here is found before a model loads, so the table runs in seconds.

A command added to ovid adds its rows here.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from ovid import load_detector, make_detector
from ovid.attack import attack_text
from ovid.cli.app import run_ovid
from ovid.cli.runner import run
from ovid.cli.train import spread_lists, standalone_app
from ovid.corpus import read_corpus
from ovid.detect.score_job import ScoreJob
from ovid.errors import CorpusError, InputTypeError, InputValueError, OvidError
from ovid.generate import Decoding, GenerationConfig
from ovid.ray_tasks import RaySettings
from ovid.serve import ServeConfig, Service
from ovid.settings import SettingError

from conftest import TRAIN_TEXT

HUMAN = ["I walked to the market on Sunday and bought apples, bread and a newspaper for my aunt.",
         "Our village council argued about the price of bread and the broken church bell again.",
         "She painted the fence blue because her grandmother said blue keeps the flies away.",
         "The football club lost again and the supporters sang louder than ever in the rain."]
MACHINE = ["The detector scores every token of a text with a language model and a threshold.",
           "Machine text tends to have higher likelihood than human text under the model.",
           "The release happened in stages: small, medium, large and extra large models.",
           "Samples were convincing, and detectors caught most of them at a low false rate."]


def jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> Path:
    """A user's folder: corpora (good and bad), a study, folders of their own, a saved detector."""
    u = tmp_path_factory.mktemp("user")
    rows = [{"id": f"h{i}", "text": f"Note {i}: {t}", "label": 0} for i, t in enumerate(HUMAN * 5)] + \
           [{"id": f"m{i}", "text": f"Item {i}: {t}", "label": 1} for i, t in enumerate(MACHINE * 5)]
    (u / "good.jsonl").write_text(jsonl(rows))
    (u / "unlabelled.jsonl").write_text(jsonl([{"text": t} for t in HUMAN]))
    (u / "human.jsonl").write_text(jsonl([{"text": t} for t in HUMAN]))
    (u / "machine.jsonl").write_text(jsonl([{"text": t} for t in MACHINE]))
    (u / "precious.txt").write_text("my notes\n")
    shutil.copy(u / "good.jsonl", u / "good-copy.jsonl")
    (u / "fakestudy").mkdir()  # the user's own folder, whose study.json is theirs
    (u / "fakestudy" / "study.json").write_text('{"my": "own study"}\n')
    (u / "fakestudy" / "thesis.txt").write_text("chapter one\n")
    (u / "surrogate.jsonl").write_text('{"text": "fine"}\n{"id": "a\\ud800", "text": "x"}\n')
    (u / "surrogate-text.jsonl").write_text('{"text": "bad \\udc00 text"}\n')
    (u / "deep.jsonl").write_text('{"text": "a", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    (u / "bigint.jsonl").write_text('{"id": ' + "9" * 5000 + ', "text": "a"}\n')
    (u / "fdg-strings.json").write_text(json.dumps({"original": "abc", "sampled": "def"}))
    (u / "fdg-objects.json").write_text(json.dumps({"original": {"a": 1}, "sampled": {"b": 2}}))
    (u / "gen.jsonl").write_text(jsonl([{"id": 0, "text": MACHINE[0]}]))
    (u / "gen.meta.json").write_text('{"status": "complete"}\n')
    os.mkfifo(u / "fifo.jsonl")  # reading it would wait for a writer forever
    (u / "zero.txt").symlink_to("/dev/zero")  # never ends
    (u / "latin1.jsonl").write_bytes(jsonl([{"text": "caf\u00e9 au lait", "label": 0}]).encode("latin-1"))
    (u / "latin1.json").write_bytes(json.dumps({"original": ["d\u00e9j\u00e0 vu"], "sampled": ["ok"]},
                                               ensure_ascii=False).encode("latin-1"))
    (u / "latin1.csv").write_bytes("text,label\nna\u00efve,0\n".encode("latin-1"))
    (u / "latin1.txt").write_bytes("r\u00e9sum\u00e9".encode("latin-1"))
    (u / "broken.jsonl").write_text('{"text": "fine"}\n{"text": oops}\n')
    (u / "list.json").write_text("[1, 2]")
    (u / "corpus.xml").write_text("<texts/>")
    (u / "empty.jsonl").write_text("")
    (u / "short.jsonl").write_text(jsonl([{"text": "too short"}]))
    (u / "notes").mkdir()
    (u / "notes" / "config.json").write_text('{"mine": true}')
    (u / "texts").mkdir()
    (u / "texts" / "a.txt").write_text(HUMAN[0])
    (u / "empty-folder").mkdir()
    (u / "mine.jsonl.parts").mkdir()  # the user's own folder where a gathered Ray output keeps its shards
    (u / "mine.jsonl.parts" / "notes.txt").write_text("mine")
    (u / "ref.bloom.shards").mkdir()
    (u / "ref.bloom.shards" / "mine.jsonl").write_text(jsonl([{"text": " ".join(HUMAN)}]))
    (u / "mine.meta.json").write_text('{"my": "notes"}')
    (u / ".busy.training").mkdir()  # another detect-train (process 1, always alive) writing --out busy
    (u / ".busy.training" / ".ovid-training").write_text("1")
    (u / "latin1.toml").write_bytes('[study]\nname = "\u00e9t\u00e9"\n'.encode("latin-1"))
    (u / "bad.toml").write_text("[study\nname=")
    base = '[human]\ncorpus = "human.jsonl"\n[[machine]]\ncorpus = "machine.jsonl"\n[[detectors]]\nname = "tfidf"\n'
    (u / "fraction.toml").write_text("[study]\ntest_fraction = 1.5\n" + base)
    (u / "fpr.toml").write_text("[study]\ntarget_fpr = 2\n" + base)
    (u / "detectors-5.toml").write_text("detectors = 5\n" + base.split("[[detectors]]")[0])
    (u / "name-5.toml").write_text(base.replace('name = "tfidf"', "name = 5"))
    (u / "bootstrap.toml").write_text("[study]\nbootstrap = 1000000000000\n" + base)
    (u / "bigint.toml").write_text("[study]\nseed = " + "9" * 5000 + "\n" + base)
    (u / "dtype.toml").write_text(base.replace('name = "tfidf"', 'name = "likelihood"\ndtype = "nope"'))
    (u / "study.toml").write_text(base)
    (u / "human-none.toml").write_text(base.replace('corpus = "human.jsonl"', "corpus = []"))
    (u / "human-one.jsonl").write_text(jsonl([{"text": HUMAN[0]}]))
    (u / "human-one.toml").write_text(base.replace('"human.jsonl"', '"human-one.jsonl"'))
    (u / "human-all-machine.toml").write_text(base.replace('"human.jsonl"', '"machine-labelled.jsonl"'))
    (u / "machine-labelled.jsonl").write_text(jsonl([{"text": t, "label": 1} for t in MACHINE]))
    (u / "fdg-numbers.json").write_text('{"original": 5, "sampled": 7}')
    (u / "gen-not-a-model.toml").write_text(f'[human]\ncorpus = "human.jsonl"\n[generate]\nmodels = ["{u / "notes"}"]\n'
                                            '[[detectors]]\nname = "tfidf"\n')
    det = make_detector("tfidf").fit(TRAIN_TEXT[:10] + HUMAN * 3, [1] * 10 + [0] * 12)
    det.save(u / "det")
    for name, edit in {
        "det-no-params": lambda c: c.pop("params"),
        "det-unknown-param": lambda c: c["params"].update(alpha=1),
        "det-wrong-type": lambda c: c["params"].update(C="ten"),
        "det-bad-value": lambda c: c["params"].update(C=-1.0),
        "det-no-files": lambda c: c.update(files={}),
        "det-escape": lambda c: c["files"].update({"../good.jsonl": "0" * 64}),
        "det-nan-threshold": lambda c: c["calibration"].update(threshold=float("nan")),
        "det-bad-distributions": lambda c: c["calibration"].update(distributions={"edges": [1, 0], "human": [3],
                                                                                  "machine": [1]}),
        "det-newer": lambda c: c.update(ovid_version="99.0.0"),
        "det-coef-string": lambda c: c["calibration"]["calibration"].update(coef="x"),
    }.items():
        shutil.copytree(u / "det", u / name)
        cfg = json.loads((u / name / "config.json").read_text())
        edit(cfg)
        (u / name / "config.json").write_text(json.dumps(cfg))
    shutil.copytree(u / "det", u / "det-tampered")
    with open(u / "det-tampered" / "model.skops", "ab") as f:
        f.write(b"\0")
    shutil.copytree(u / "det", u / "det-not-json")
    (u / "det-not-json" / "config.json").write_text("{nope")
    shutil.copytree(u / "det", u / "det-deep")  # 100k levels: a RecursionError inside json
    (u / "det-deep" / "config.json").write_text('{"format": "ovid-detector", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    shutil.copytree(u / "det", u / "det-bigint")
    (u / "det-bigint" / "config.json").write_text('{"format": "ovid-detector", "x": ' + "9" * 5000 + "}")
    shutil.copytree(u / "det", u / "det-linked-state")  # same bytes, same hash, but a link to a file elsewhere
    shutil.copy(u / "det" / "model.skops", u / "elsewhere.skops")
    (u / "det-linked-state" / "model.skops").unlink()
    (u / "det-linked-state" / "model.skops").symlink_to(u / "elsewhere.skops")
    import numpy as np
    import skops.io as sio

    shutil.copytree(u / "det", u / "det-coef-shape")  # an edited model whose hash was remade to match
    state = u / "det-coef-shape" / "model.skops"
    model = sio.load(state, trusted=sio.get_untrusted_types(file=state))
    model.named_steps["lr"].coef_ = np.zeros((1, 3))
    sio.dump(model, state)
    cfg = json.loads((u / "det-coef-shape" / "config.json").read_text())
    cfg["files"]["model.skops"] = hashlib.sha256(state.read_bytes()).hexdigest()
    (u / "det-coef-shape" / "config.json").write_text(json.dumps(cfg))
    return u


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# (case id, argv with {u} for the user's folder, exit code, fragment of the one-line message)
CLI = [
    # data loss: an output that is an input, a folder, unwritable, or a folder ovid did not make
    ("score-out-is-input", "score {u}/good.jsonl --detector {u}/det --out {u}/good.jsonl", 2, "is also an input"),
    ("score-out-is-folder", "score {u}/good.jsonl --detector {u}/det --out {u}/notes", 2, "is a folder; give a file name"),
    ("score-out-unwritable", "score {u}/good.jsonl --detector {u}/det --out /proc/ovid.jsonl", 2, "cannot write in /proc"),
    ("score-out-under-file", "score {u}/good.jsonl --detector {u}/det --out {u}/good.jsonl/s.jsonl", 2, "is a file, not a folder"),
    ("score-out-in-input-folder", "score {u}/texts --detector {u}/det --out {u}/texts/s.jsonl", 2, "is also an input"),
    ("train-out-user-folder", "train --detector tfidf --train {u}/good.jsonl --out {u}/notes", 2, "is not empty"),
    ("train-out-saved-detector", "train --detector tfidf --train {u}/good.jsonl --out {u}/det", 2, "give --overwrite"),
    ("train-out-overwrite-foreign", "train --detector tfidf --train {u}/good.jsonl --out {u}/notes --overwrite", 2,
     "is not empty"),
    ("train-out-holds-input", "train --detector tfidf --human {u}/texts --machine {u}/machine.jsonl --out {u}/texts",
     2, "holds an input"),
    ("train-out-busy", "train --detector tfidf --train {u}/good.jsonl --out {u}/busy", 2,
     "another detect-train (process 1) is training into it now"),
    ("train-out-is-file", "train --detector tfidf --train {u}/good.jsonl --out {u}/good.jsonl", 2, "is a file"),
    ("generate-out-is-prompts", "generate --prompts {u}/human.jsonl --out {u}/human.jsonl", 2, "is also an input"),
    ("generate-out-foreign-file", "generate -n 2 --out {u}/machine.jsonl", 2, "not a corpus this command started"),
    ("generate-out-dir-user-folder", "generate -n 2 --decoding pure,top-k --out-dir {u}/notes", 2, "is not empty"),
    ("generate-out-unwritable", "generate -n 2 --out /proc/g.jsonl", 2, "cannot write in /proc"),
    ("bloom-out-is-input", "bloom {u}/human.jsonl --out {u}/human.jsonl", 2, "is also an input"),
    ("bloom-out-is-folder", "bloom {u}/human.jsonl --out {u}/notes", 2, "is a folder"),
    ("bloom-shards-hold-input", "bloom {u}/ref.bloom.shards/mine.jsonl --out {u}/ref.bloom", 2, "holds an input"),
    ("bloom-shards-user-folder", "bloom {u}/human.jsonl --out {u}/ref.bloom", 2,
     "ref.bloom.shards: folder exists and is not empty"),
    ("score-out-into-detector", "score {u}/good.jsonl --detector {u}/det --out {u}/det/config.json", 2,
     "is also an input"),
    ("generate-out-user-meta", "generate -n 2 --out {u}/mine.jsonl", 2, "is not the metadata of a corpus ovid generated"),
    ("report-out-user-folder", "report {u}/study.toml --out {u}/notes", 2, "is not empty"),
    ("report-out-is-file", "report {u}/study.toml --out {u}/good.jsonl", 2, "is a file, not a folder"),
    ("report-out-holds-input", "report {u}/study.toml --out {u}", 2, "holds an input"),
    ("download-out-user-folder", "download --dataset webtext --out-dir {u}/notes", 2, "is not empty"),
    ("download-out-is-file", "download --dataset webtext --out-dir {u}/good.jsonl", 2, "is a file"),
    # text in another encoding, malformed or missing files
    ("jsonl-latin1", "score {u}/latin1.jsonl --detector {u}/det --out {o}/s.jsonl", 2, "latin1.jsonl:1: not UTF-8 text (byte"),
    ("json-latin1", "score {u}/latin1.json --detector {u}/det --out {o}/s.jsonl", 2, "latin1.json:1: not UTF-8 text (byte 16"),
    ("csv-latin1", "score {u}/latin1.csv --detector {u}/det --out {o}/s.jsonl", 2, "latin1.csv:2: not UTF-8 text (byte 13"),
    ("txt-latin1", "score {u}/latin1.txt --detector {u}/det --out {o}/s.jsonl", 2, "latin1.txt:1: not UTF-8 text (byte 1"),
    ("toml-latin1", "report {u}/latin1.toml --out {o}/r", 2, "latin1.toml:2: not UTF-8 text"),
    ("unknown-encoding", "score {u}/good.jsonl --detector {u}/det --encoding nope --out {o}/s.jsonl", 2,
     "unknown text encoding 'nope'"),
    ("encoding-not-text", "score {u}/good.jsonl --detector {u}/det --encoding rot13 --out {o}/s.jsonl", 2,
     "--encoding: unknown text encoding 'rot13'"),
    ("encoding-utf16", "score {u}/good.jsonl --detector {u}/det --encoding utf-16 --out {o}/s.jsonl", 2,
     "utf-16 is not ASCII-compatible"),
    ("jsonl-malformed", "score {u}/broken.jsonl --detector {u}/det --out {o}/s.jsonl", 2, "broken.jsonl:2: invalid JSON"),
    ("json-not-object", "score {u}/list.json --detector {u}/det --out {o}/s.jsonl", 2, "expected a JSON object"),
    ("unknown-format", "score {u}/corpus.xml --detector {u}/det --out {o}/s.jsonl", 2, "unknown corpus format"),
    ("missing-corpus", "score {u}/nope.jsonl --detector {u}/det --out {o}/s.jsonl", 2, "nope.jsonl: no such file"),
    ("empty-corpus", "score {u}/empty.jsonl --detector {u}/det --out {o}/s.jsonl", 2, "no texts in"),
    # numbers out of range, unknown names
    ("score-dtype", "score {u}/good.jsonl --detector fast-detectgpt --dtype nope --out {o}/s.jsonl", 2,
     "Invalid value for '--dtype': 'nope' is not one of 'auto', 'float32'"),
    ("score-max-length-0", "score {u}/good.jsonl --detector fast-detectgpt --max-length 0 --out {o}/s.jsonl", 2, "--max-length must be >= 3, got 0"),
    ("score-max-length-neg", "score {u}/good.jsonl --detector fast-detectgpt --max-length -5 --out {o}/s.jsonl", 2, "--max-length must be >= 3"),
    ("score-budget-0", "score {u}/good.jsonl --token-budget 0 --out {o}/s.jsonl", 2, "--token-budget must be >= 1"),
    ("score-default-dtype", "score {u}/good.jsonl --dtype int8 --out {o}/s.jsonl", 2,
     "--dtype does not apply to a saved detector (ovid:default keeps the settings it was trained with; only "
     "--cache-dir, --token-budget and --dtype auto|float32|bfloat16 change"),
    ("score-pinned-dtype", "score {u}/good.jsonl --detector ovid:default-v1 --dtype float32 --out {o}/s.jsonl", 2,
     "--dtype does not apply to a saved detector (ovid:default-v1 keeps the settings it was trained with; only "
     "--cache-dir and --token-budget change"),
    ("score-unknown-shipped", "score {u}/good.jsonl --detector ovid:nope --out {o}/s.jsonl", 2,
     "ovid:nope: no such shipped detector; shipped: ovid:default, ovid:default-v1"),
    ("score-fpr-2", "score {u}/good.jsonl --target-fpr 2 --out {o}/s.jsonl", 2, "--target-fpr must be in (0, 1), got 2"),
    ("score-fpr-neg", "score {u}/good.jsonl --target-fpr -1 --out {o}/s.jsonl", 2, "--target-fpr must be in (0, 1)"),
    ("score-fpr-text", "score {u}/good.jsonl --target-fpr x --out {o}/s.jsonl", 2, "Invalid value for '--target-fpr'"),
    ("score-unknown-detector", "score {u}/good.jsonl --detector fast-detect --out {o}/s.jsonl", 2,
     "did you mean fast-detectgpt"),
    ("score-missing-detector-folder", "score {u}/good.jsonl --detector {u}/nodet --out {o}/s.jsonl", 2,
     "no such saved detector folder"),
    ("score-saved-with-model", "score {u}/good.jsonl --detector {u}/det --model gpt2 --out {o}/s.jsonl", 2,
     "--model does not apply to a saved detector"),
    ("score-empty-detector", "score {u}/good.jsonl --detector= --out {o}/s.jsonl", 2, "--detector is empty"),
    ("score-unknown-option", "score {u}/good.jsonl --bogus 1 --out {o}/s.jsonl", 2, "No such option: --bogus"),
    ("score-threads-0", "score {u}/good.jsonl --threads 0 --out {o}/s.jsonl", 2, "--threads must be >= 1, got 0"),
    ("score-file-and-text", "score {u}/good.jsonl --text hello", 2,
     "give texts one way: corpus files, - (standard input) or --text"),
    ("score-file-and-stdin", "score {u}/good.jsonl -", 2, "give texts one way: corpus files, - (standard input) or --text"),
    ("score-text-ray", "score --text hello --engine ray --out {o}/s", 2,
     "--engine ray scores corpus files into --out; give both"),
    ("score-text-blank", "score --text hello --text=", 2, "--text 2 is blank; give the text to check"),
    ("score-no-files", "score --out {o}/s.jsonl", 2, "no corpus given to score: name files, - for standard input, or --text"),
    ("unknown-command", "scorez", 2, "No such command 'scorez'"),
    # saved detector folders, checked whole on load
    ("det-no-params", "score {u}/good.jsonl --detector {u}/det-no-params --out {o}/s.jsonl", 2, "missing key 'params'"),
    ("det-unknown-param", "score {u}/good.jsonl --detector {u}/det-unknown-param --out {o}/s.jsonl", 2,
     "takes no parameter 'alpha'"),
    ("det-wrong-type", "score {u}/good.jsonl --detector {u}/det-wrong-type --out {o}/s.jsonl", 2, "params.C must be float"),
    ("det-bad-value", "score {u}/good.jsonl --detector {u}/det-bad-value --out {o}/s.jsonl", 2, "C must be > 0"),
    ("det-no-files", "score {u}/good.jsonl --detector {u}/det-no-files --out {o}/s.jsonl", 2,
     "model.skops: not listed with a hash"),
    ("det-escape", "score {u}/good.jsonl --detector {u}/det-escape --out {o}/s.jsonl", 2, "points outside the folder"),
    ("det-bad-distributions", "score {u}/good.jsonl --detector {u}/det-bad-distributions --out {o}/s.jsonl", 2,
     "calibration.distributions must hold edges"),
    ("det-nan-threshold", "score {u}/good.jsonl --detector {u}/det-nan-threshold --out {o}/s.jsonl", 2,
     "calibration is not of the form ovid saves"),
    ("score-out-foreign-file", "score {u}/human.jsonl --detector {u}/det --out {u}/machine.jsonl", 2,
     "machine.jsonl: a file is there that is not a file of ovid's scores; give --overwrite to replace it"),
    ("score-out-input-sidecar", "score {u}/gen.jsonl --detector {u}/det --out {u}/gen.meta.json", 2,
     "gen.meta.json: is the metadata of an input"),
    ("score-out-dash", "score {u}/good.jsonl --detector {u}/det --out -", 2, "--out -: give a file name"),
    ("bloom-out-foreign-file", "bloom {u}/human.jsonl --out {u}/precious.txt", 2,
     "precious.txt: a file is there that is not an ovid Bloom filter; give --overwrite"),
    ("score-lone-surrogate-id", "score {u}/surrogate.jsonl --detector {u}/det --out {o}/s.jsonl", 2,
     "surrogate.jsonl:2: id holds a lone surrogate ('\\ud800' at character 1), not text"),
    ("score-lone-surrogate-text", "score {u}/surrogate-text.jsonl --detector {u}/det --out {o}/s.csv", 2,
     "surrogate-text.jsonl:1: text holds a lone surrogate"),
    ("score-jsonl-deep", "score {u}/deep.jsonl --detector {u}/det --out {o}/s.jsonl", 2,
     "deep.jsonl:1: invalid JSON (nested too deep)"),
    ("score-jsonl-bigint", "score {u}/bigint.jsonl --detector {u}/det --out {o}/s.jsonl", 2,
     "bigint.jsonl:1: an integer of 5000 digits (at most 30)"),
    ("score-fdg-strings", "score {u}/fdg-strings.json --detector {u}/det --out {o}/s.jsonl", 2,
     "fdg-strings.json: original must be a list of texts, got str"),
    ("score-fdg-objects", "score {u}/fdg-objects.json --detector {u}/det --out {o}/s.jsonl", 2,
     "fdg-objects.json: original must be a list of texts, got dict"),
    ("score-segments-tfidf", "score {u}/good.jsonl --detector {u}/det --segments --out {o}/s.jsonl", 2,
     "tfidf reads no language model's tokens, so it cannot score sentences"),
    ("score-fdg-numbers", "score {u}/fdg-numbers.json --detector {u}/det --out {o}/s.jsonl", 2,
     "fdg-numbers.json: original must be a list of texts, got int"),
    ("attack-lone-surrogate", "attack {u}/surrogate-text.jsonl --attack number --out {o}/a.jsonl", 2,
     "surrogate-text.jsonl:1: text holds a lone surrogate"),
    ("generate-model-etc", "generate -n 1 --model /etc --out {o}/g.jsonl", 2, "'/etc' is a folder without a model"),
    ("report-human-none", "report {u}/human-none.toml --out {o}/r", 2, "[human].corpus is empty"),
    ("report-human-one", "report {u}/human-one.toml --no-progress --out {o}/r", 2,
     "[human]: 1 text(s) leave none for testing"),
    ("report-human-all-machine", "report {u}/human-all-machine.toml --no-progress --out {o}/r", 2,
     "no human texts (every record is labelled machine)"),
    ("score-hf-empty", "score hf: --detector {u}/det --out {o}/s.jsonl", 2, "hf:: name a Hugging Face dataset"),
    ("score-model-folder-not-model", "score {u}/good.jsonl --detector likelihood --model {u}/notes --out {o}/s.jsonl", 2,
     "is a folder without a model (no config.json with a model_type)"),
    ("score-model-file-not-model", "score {u}/good.jsonl --detector likelihood --model {u}/precious.txt --out "
     "{o}/s.jsonl", 2, "precious.txt' is not a model"),
    ("score-fifo", "score {u}/fifo.jsonl --detector {u}/det --out {o}/s.jsonl", 2,
     "fifo.jsonl: a named pipe (FIFO); ovid reads regular files and folders only"),
    ("score-device", "score {u}/zero.txt --detector {u}/det --out {o}/s.jsonl", 2, "zero.txt: a device; ovid reads"),
    ("generate-prompts-fifo", "generate --prompts {u}/fifo.jsonl -n 1 --out {o}/g.jsonl", 2, "a named pipe (FIFO)"),
    ("train-device", "train --detector tfidf --train {u}/zero.txt --out {o}/d", 2, "zero.txt: a device"),
    ("det-tampered", "score {u}/good.jsonl --detector {u}/det-tampered --out {o}/s.jsonl", 2, "do not match the hash"),
    ("det-not-json", "score {u}/good.jsonl --detector {u}/det-not-json --out {o}/s.jsonl", 2, "not valid JSON"),
    ("det-deep", "score {u}/good.jsonl --detector {u}/det-deep --out {o}/s.jsonl", 2, "not valid JSON (nested too deep)"),
    ("det-bigint", "score {u}/good.jsonl --detector {u}/det-bigint --out {o}/s.jsonl", 2, "not valid JSON (Exceeds"),
    ("det-coef-string", "score {u}/good.jsonl --detector {u}/det-coef-string --out {o}/s.jsonl", 2,
     "calibration.calibration is not of the form ovid saves (platt: platt needs numbers coef and intercept"),
    ("det-newer", "score {u}/good.jsonl --detector {u}/det-newer --out {o}/s.jsonl", 2,
     "saved by ovid 99.0.0, newer than this ovid"),
    ("det-linked-state", "score {u}/good.jsonl --detector {u}/det-linked-state --out {o}/s.jsonl", 2,
     "det-linked-state/model.skops: a symbolic link; a detector's state files must be its own regular files"),
    ("det-coef-shape", "score {u}/good.jsonl --detector {u}/det-coef-shape --out {o}/s.jsonl", 2,
     "model.skops: LogisticRegression.coef_ has shape (1, 3), not one row of"),
    ("det-not-a-detector", "score {u}/good.jsonl --detector {u}/notes --out {o}/s.jsonl", 2, "not an ovid detector"),
    # generate
    ("gen-decoding", "generate -n 2 --decoding beam --out {o}/g.jsonl", 2, "--decoding must be one of pure"),
    ("gen-n-0", "generate -n 0 --out {o}/g.jsonl", 2, "-n must be in [1, 10000000], got 0"),
    ("gen-top-p-0", "generate -n 2 --top-p 0 --out {o}/g.jsonl", 2, "--top-p must be in (0, 1], got 0"),
    ("gen-top-k-0", "generate -n 2 --top-k 0 --out {o}/g.jsonl", 2, "--top-k must be >= 1"),
    ("gen-temperature-0", "generate -n 2 --temperature 0 --out {o}/g.jsonl", 2, "--temperature must be > 0"),
    ("gen-dtype", "generate -n 2 --dtype nope --out {o}/g.jsonl", 2, "Invalid value for '--dtype': 'nope' is not one of"),
    ("gen-decoding-repeated", "generate -n 2 --decoding pure --decoding beam --out-dir {o}/g", 2,
     "--decoding must be one of pure, top-k, top-p, temperature, got 'beam'"),
    ("gen-model-repeated-empty", "generate -n 2 --model , --model , --out {o}/g.jsonl", 2, "give at least one --model"),
    ("gen-max-tokens-0", "generate -n 2 --max-tokens 0 --out {o}/g.jsonl", 2, "--max-tokens must be in [1, 131072], got 0"),
    ("gen-max-tokens-huge", "generate -n 2 --max-tokens 10000000000 --out {o}/g.jsonl", 2,
     "--max-tokens must be in [1, 131072], got 10000000000"),
    ("gen-n-huge", "generate -n 1000000000000 --out {o}/g.jsonl", 2, "-n must be in [1, 10000000], got 1000000000000"),
    ("gen-seed-huge", "generate -n 2 --seed 99999999999999999999 --out {o}/g.jsonl", 2,
     "--seed must be in [0, 4294967295], got 99999999999999999999"),
    ("gen-no-out", "generate -n 2", 2, "give --out FILE"),
    ("gen-unconditional-no-n", "generate --out {o}/g.jsonl", 2, "--n is required for unconditional samples"),
    ("gen-missing-prompts", "generate --prompts {u}/nope.jsonl --out {o}/g.jsonl", 2, "nope.jsonl: no such file"),
    ("gen-empty-model", "generate -n 2 --model , --out {o}/g.jsonl", 2, "give at least one --model"),
    ("gen-chat-no-prompts", "generate -n 2 --chat --out {o}/g.jsonl", 2, "--chat needs prompts"),
    ("gen-chat-instruction", "generate --prompts {u}/human.jsonl --chat --instruction Summarise --out {o}/g.jsonl", 2,
     "--instruction must contain {prompt}"),
    # train
    ("train-epochs-0", "train --detector roberta --backbone x --epochs 0 --train {u}/good.jsonl --out {o}/d", 2,
     "--epochs must be >= 1, got 0"),
    ("train-fpr-2", "train --detector tfidf --target-fpr 2 --train {u}/good.jsonl --out {o}/d", 2,
     "--target-fpr must be in (0, 1)"),
    ("train-calibration", "train --detector tfidf --calibration sigmoid --train {u}/good.jsonl --out {o}/d", 2,
     "Invalid value for '--calibration': 'sigmoid' is not one of 'platt', 'isotonic'."),
    ("train-max-texts-1", "train --detector tfidf --max-texts 1 --train {u}/good.jsonl --out {o}/d", 2,
     "--max-texts must be >= 2"),
    ("train-param-not-taken", "train --detector tfidf --backbone minilm-l6 --train {u}/good.jsonl --out {o}/d", 2,
     "--backbone does not apply to detector 'tfidf'"),
    ("train-train-layers-neg", "train --detector classifier --train-layers -1 --train {u}/good.jsonl --out {o}/d", 2,
     "--train-layers must be >= 0, got -1"),
    ("train-classifier-dtype", "train --detector classifier --dtype fp8 --train {u}/good.jsonl --out {o}/d", 2,
     "Invalid value for '--dtype': 'fp8' is not one of 'auto'"),
    ("train-classifier-pooling", "train --detector classifier --pooling max --train {u}/good.jsonl --out {o}/d", 2,
     "Invalid value for '--pooling': 'max' is not one of 'last', 'mean'."),
    ("train-classifier-empty-backbone", "train --detector classifier --backbone= --train {u}/good.jsonl --out {o}/d", 2,
     "backbone must name a model"),
    ("train-pool-layers-words", "train --detector ensemble --features hidden --pool-layers 4,b --train {u}/good.jsonl "
     "--out {o}/d", 2, "Invalid value for '--pool-layers': 'b' is not an integer"),
    ("train-pool-layers-repeated", "train --detector ensemble --features hidden --pool-layers 4 --pool-layers x "
     "--train {u}/good.jsonl --out {o}/d", 2, "Invalid value for '--pool-layers': 'x' is not an integer"),
    ("train-hidden-no-layers", "train --detector ensemble --features hidden --train {u}/good.jsonl --out {o}/d", 2,
     "features='hidden' needs pool_layers"),
    ("train-features", "train --detector ensemble --features words --train {u}/good.jsonl --out {o}/d", 2,
     "Invalid value for '--features': 'words' is not one of 'stats', 'distributions', 'hidden'."),
    ("train-valid-is-train", "train --detector tfidf --train {u}/good.jsonl --valid {u}/good.jsonl --out {o}/d", 2,
     "good.jsonl is also --train"),
    ("train-valid-same-texts", "train --detector tfidf --train {u}/good.jsonl --valid {u}/good-copy.jsonl --out {o}/d",
     2, "every validation text (40) is also a training text"),
    ("train-human-is-machine", "train --detector tfidf --human {u}/human.jsonl --machine {u}/human.jsonl --out {o}/d",
     2, "are the same file: its texts cannot be both"),
    ("train-no-texts", "train --detector tfidf --out {o}/d", 2, "no training texts"),
    ("train-human-only", "train --detector tfidf --human {u}/human.jsonl --out {o}/d", 2, "no training texts"),
    ("train-missing-input", "train --detector tfidf --train {u}/nope.jsonl --out {o}/d", 2, "nope.jsonl: no such file"),
    ("train-missing-in-commas", "train --detector tfidf --train {u}/good.jsonl,{u}/nope.jsonl --out {o}/d", 2,
     "nope.jsonl: no such file"),
    ("train-missing-repeated", "train --detector tfidf --human {u}/human.jsonl --human {u}/nope.jsonl "
     "--machine {u}/machine.jsonl --out {o}/d", 2, "nope.jsonl: no such file"),
    ("train-default-missing", "train --train {u}/nope.jsonl --out {o}/d", 2, "nope.jsonl: no such file"),
    ("train-default-max-texts", "train --max-texts 1 --train {u}/good.jsonl --out {o}/d", 2, "--max-texts must be >= 2"),
    ("train-resume-tfidf", "train --detector tfidf --resume --train {u}/good.jsonl --out {o}/d", 2,
     "--resume applies to detectors trained in steps"),
    ("train-unlabelled", "train --detector tfidf --train {u}/unlabelled.jsonl --out {o}/d", 2, "has no label"),
    ("train-tfidf-c", "train --detector tfidf --c -1 --train {u}/good.jsonl --out {o}/d", 2, "C must be > 0"),
    ("train-tfidf-c-text", "train --detector tfidf --c x --train {u}/good.jsonl --out {o}/d", 2,
     "Invalid value for '--c'"),
    ("train-max-features-0", "train --detector tfidf --max-features 0 --train {u}/good.jsonl --out {o}/d", 2,
     "max_features must be >= 1"),
    ("train-unknown-detector", "train --detector robertta --train {u}/good.jsonl --out {o}/d", 2, "did you mean roberta"),
    # bloom
    ("bloom-ngram-len-0", "bloom {u}/human.jsonl --ngram-len 0 --out {o}/b.bloom", 2, "--ngram-len must be >= 1, got 0"),
    ("bloom-workers-neg", "bloom {u}/human.jsonl --workers -1 --out {o}/b.bloom", 2, "--workers must be >= 0, got -1"),
    ("bloom-fpr-2", "bloom {u}/human.jsonl --fpr 2 --out {o}/b.bloom", 2, "--fpr must be in (0, 1)"),
    ("bloom-empty", "bloom {u}/short.jsonl --workers 1 --out {o}/b.bloom", 2, "no 8-grams"),
    ("bloom-empty-file", "bloom {u}/empty.jsonl --out {o}/b.bloom", 2, "empty.jsonl: no texts"),
    ("bloom-missing", "bloom {u}/nope.jsonl --out {o}/b.bloom", 2, "nope.jsonl: no such file"),
    # report
    ("report-test-fraction", "report {u}/fraction.toml --out {o}/r", 2, "[study].test_fraction must be in (0, 1), got 1.5"),
    ("report-target-fpr", "report {u}/fpr.toml --out {o}/r", 2, "[study].target_fpr must be in (0, 1), got 2"),
    ("report-detectors-5", "report {u}/detectors-5.toml --out {o}/r", 2, "[[detectors]] must be an array of tables"),
    ("report-detector-name-5", "report {u}/name-5.toml --out {o}/r", 2,
     "[[detectors]][0].name must be a detector's name (a string), got int"),
    ("report-out-user-study-json", "report {u}/study.toml --out {u}/fakestudy", 2,
     "fakestudy: folder exists and is not empty, and is not a folder of an ovid study"),
    ("report-bootstrap-huge", "report {u}/bootstrap.toml --out {o}/r", 2,
     "[study].bootstrap must be in [0, 100000], got 1000000000000"),
    ("report-seed-5000-digits", "report {u}/bigint.toml --out {o}/r", 2, "bigint.toml: invalid TOML (Exceeds the limit"),
    ("report-detector-dtype", "report {u}/dtype.toml --out {o}/r", 2, "[[detectors]][0].dtype must be one of"),
    ("report-missing-study", "report {u}/nope.toml --out {o}/r", 2, "no such study file"),
    ("report-bad-toml", "report {u}/bad.toml --out {o}/r", 2, "invalid TOML"),
    # attack
    ("attack-unknown", "attack {u}/good.jsonl --attack homoglif --out {o}/a.jsonl", 2,
     "unknown attack 'homoglif'; did you mean homoglyph?"),
    ("attack-none-given", "attack {u}/good.jsonl --attack , --out {o}/a.jsonl", 2, "give at least one attack"),
    ("attack-rate-0", "attack {u}/good.jsonl --attack number --rate 0 --out {o}/a.jsonl", 2, "--rate must be in (0, 1]"),
    ("attack-rate-big", "attack {u}/good.jsonl --attack number --rate 1.5 --out {o}/a.jsonl", 2, "--rate must be in (0, 1]"),
    ("attack-seed", "attack {u}/good.jsonl --seed -1 --out {o}/a.jsonl", 2, "--seed must be in [0, 4294967295]"),
    ("attack-dtype", "attack {u}/good.jsonl --dtype fp8 --out {o}/a.jsonl", 2, "Invalid value for '--dtype': 'fp8'"),
    ("attack-unknown-in-repeated", "attack {u}/good.jsonl --attack number --attack homoglif,number --out {o}/a.jsonl",
     2, "unknown attack 'homoglif'; did you mean homoglyph?"),
    ("attack-missing", "attack {u}/nope.jsonl --out {o}/a.jsonl", 2, "nope.jsonl: no such file"),
    ("attack-empty", "attack {u}/empty.jsonl --out {o}/a.jsonl", 2, "empty.jsonl: no texts to attack"),
    ("attack-broken", "attack {u}/broken.jsonl --out {o}/a.jsonl", 2, "broken.jsonl:2: invalid JSON"),
    ("attack-latin1", "attack {u}/latin1.jsonl --out {o}/a.jsonl", 2, "latin1.jsonl:1: not UTF-8 text (byte"),
    ("attack-encoding", "attack {u}/good.jsonl --encoding klingon --out {o}/a.jsonl", 2, "klingon"),
    ("attack-out-is-input", "attack {u}/good.jsonl --out {u}/good.jsonl", 2, "is also an input"),
    ("attack-out-is-folder", "attack {u}/good.jsonl --out {u}/notes", 2, "is a folder; give a file name"),
    ("attack-out-not-ours", "attack {u}/human.jsonl --out {u}/machine.jsonl", 2,
     "machine.jsonl: a file is there that is not a corpus this command started (no .meta.json); give another name"),
    ("attack-out-foreign-meta", "attack {u}/good.jsonl --out {u}/mine.jsonl", 2,
     "mine.meta.json exists and is not the metadata of an attacked corpus"),
    ("train-normalize", "train --detector tfidf --normalize lower --train {u}/good.jsonl --out {o}/d", 2,
     "Invalid value for '--normalize': 'lower' is not one of 'none', 'repair', 'fold'."),
    # a failure before any work is saved leaves nothing behind: no folder, empty corpus or "running" metadata
    ("attack-model-fails", "attack {u}/good.jsonl --attack misspelling --attack-model {u}/notes --no-progress "
     "--out {o}/new/a.jsonl", 2, "is a folder without a model"),
    ("generate-model-fails", "generate -n 1 --model {u}/notes --no-progress --out {o}/new/g.jsonl", 2,
     "is a folder without a model"),
    ("report-model-fails", "report {u}/gen-not-a-model.toml --no-progress --out {o}/new/study", 2,
     "is a folder without a model"),
    # download
    ("download-unknown-dataset", "download --dataset webtxt --out-dir {o}/dl", 2, "unknown dataset(s) webtxt"),
    ("download-unknown-split", "download --dataset webtext --split dev --out-dir {o}/dl", 2, "unknown split(s) dev"),
    ("download-unknown-in-commas", "download --dataset webtext,webtxt --out-dir {o}/dl", 2, "unknown dataset(s) webtxt"),
    # watermarks: generate's options, then the detector's (all refused before a model loads)
    ("generate-watermark-no-key", "generate -n 2 --watermark kgw --out {o}/g.jsonl", 2, "--watermark-key is required"),
    ("generate-watermark-key-text", "generate -n 2 --watermark kgw --watermark-key abc --out {o}/g.jsonl", 2,
     "Invalid value for '--watermark-key'"),
    ("generate-watermark-key-negative", "generate -n 2 --watermark kgw --watermark-key -5 --out {o}/g.jsonl", 2,
     "--watermark-key must be an integer in [0, 2**63 - 1], got -5"),
    ("generate-watermark-key-huge", "generate -n 2 --watermark kgw --watermark-key 9223372036854775808 "
     "--out {o}/g.jsonl", 2, "--watermark-key must be an integer in [0, 2**63 - 1]"),
    ("generate-watermark-unknown", "generate -n 2 --watermark redlist --watermark-key 1 --out {o}/g.jsonl", 2,
     "Invalid value for '--watermark': 'redlist' is not one of 'kgw', 'synthid'."),
    ("generate-gamma-alone", "generate -n 2 --gamma 0.5 --out {o}/g.jsonl", 2,
     "--gamma needs --watermark kgw or --watermark synthid"),
    ("generate-gamma-1", "generate -n 2 --watermark kgw --watermark-key 1 --gamma 1 --out {o}/g.jsonl", 2,
     "--gamma must be in (0, 1), got 1.0"),
    ("generate-delta-0", "generate -n 2 --watermark kgw --watermark-key 1 --delta 0 --out {o}/g.jsonl", 2,
     "--delta must be > 0"),
    ("generate-seeding", "generate -n 2 --watermark kgw --watermark-key 1 --seeding-scheme minhash "
     "--out {o}/g.jsonl", 2, "Invalid value for '--seeding-scheme': 'minhash' is not one of 'lefthash', 'selfhash'."),
    ("generate-ngram-len-1", "generate -n 2 --watermark synthid --watermark-key 1 --ngram-len 1 --out {o}/g.jsonl", 2,
     "--ngram-len must be >= 2"),
    ("generate-synthid-keys-repeated", "generate -n 2 --watermark synthid --synthid-keys 3 --synthid-keys 3 "
     "--out {o}/g.jsonl", 2, "--synthid-keys must not repeat a key"),
    ("generate-synthid-keys-commas", "generate -n 2 --watermark synthid --synthid-keys 3,3 --out {o}/g.jsonl", 2,
     "--synthid-keys must not repeat a key"),
    ("generate-synthid-keys-text", "generate -n 2 --watermark synthid --synthid-keys 3,x --out {o}/g.jsonl", 2,
     "Invalid value for '--synthid-keys': 'x' is not an integer"),
    ("generate-synthid-keys-kgw", "generate -n 2 --watermark kgw --watermark-key 1 --synthid-keys 3 "
     "--out {o}/g.jsonl", 2, "--synthid-keys apply to the synthid scheme only"),
    ("generate-record-key-alone", "generate -n 2 --record-key --out {o}/g.jsonl", 2,
     "--record-key needs a watermark"),
    ("score-watermark-no-key", "score {u}/good.jsonl --detector watermark --out {o}/s.jsonl", 2, "key is required"),
    ("score-watermark-key-negative", "score {u}/good.jsonl --detector watermark --watermark-key -1 --out {o}/s.jsonl",
     2, "key must be an integer in [0, 2**63 - 1], got -1"),
    ("score-watermark-scheme", "score {u}/good.jsonl --detector watermark --watermark kwg --watermark-key 1 "
     "--out {o}/s.jsonl", 2, "Invalid value for '--watermark': 'kwg' is not one of 'kgw', 'synthid'."),
    ("score-watermark-alpha", "score {u}/good.jsonl --detector watermark --watermark-key 1 --alpha 1.5 "
     "--out {o}/s.jsonl", 2, "alpha must be in (0, 1), got 1.5"),
    ("score-watermark-min-tokens", "score {u}/good.jsonl --detector watermark --watermark-key 1 --min-tokens 0 "
     "--out {o}/s.jsonl", 2, "min_tokens must be an integer >= 1, got 0"),
    ("score-watermark-no-model", "score {u}/good.jsonl --detector watermark --watermark-key 1 --model {u}/nomodel "
     "--out {o}/s.jsonl", 2, "nomodel' does not exist"),
    ("score-gamma-other-detector", "score {u}/good.jsonl --detector fast-detectgpt --gamma 0.5 --out {o}/s.jsonl", 2,
     "takes no parameter gamma"),
    ("train-watermark-key", "train --detector watermark --watermark-key x --train {u}/good.jsonl --out {o}/d", 2,
     "Invalid value for '--watermark-key'"),
    ("bloom-engine", "bloom {u}/human.jsonl --engine spark --out {o}/r.bloom", 2,
     "Invalid value for '--engine': 'spark' is not one of 'local', 'ray'."),
    # score and generate on Ray: every option checked before Ray starts or a model loads
    ("score-engine", "score {u}/good.jsonl --engine spark --out {o}/s.jsonl", 2,
     "Invalid value for '--engine': 'spark' is not one of 'local', 'ray'."),
    ("score-ray-only-workers", "score {u}/good.jsonl --workers 2 --out {o}/s.jsonl", 2,
     "--workers applies to --engine ray only"),
    ("score-ray-only-address", "score {u}/good.jsonl --ray-address 10.0.0.1:6379 --out {o}/s.jsonl", 2,
     "--ray-address applies to --engine ray only"),
    ("score-ray-workers-0", "score {u}/good.jsonl --engine ray --workers 0 --out {o}/s.jsonl", 2,
     "--workers must be >= 1, got 0"),
    ("score-ray-gpus", "score {u}/good.jsonl --engine ray --gpus-per-worker -1 --out {o}/s.jsonl", 2,
     "--gpus-per-worker must be >= 0"),
    ("score-ray-shard-bytes", "score {u}/good.jsonl --engine ray --shard-bytes 0 --out {o}/s", 2,
     "--shard-bytes must be >= 1, got 0"),
    ("score-ray-missing", "score {u}/nope.jsonl --engine ray --out {o}/s", 2, "nope.jsonl: no such file or folder"),
    ("score-ray-users-folder", "score {u}/good.jsonl --engine ray --out {u}/notes", 2,
     "is not a folder of ovid score shards"),
    ("score-ray-empty", "score {u}/empty.jsonl --engine ray --detector likelihood --out {o}/s", 2, "no texts in"),
    ("score-ray-out-is-input", "score {u}/good.jsonl --engine ray --out {u}/good.jsonl", 2, "is also an input"),
    ("score-ray-parts-taken", "score {u}/good.jsonl --engine ray --out {u}/mine.jsonl", 2,
     "mine.jsonl.parts: folder exists and is not empty, and is not a folder of ovid score shards"),
    ("score-ray-unknown-builtin", "score ovid:humans --engine ray --out {o}/s", 2, "ovid:humans: no such built-in corpus"),
    ("score-ray-into-input", "score {u}/texts --engine ray --out {u}/texts/scores", 2, "is inside an input folder"),
    ("generate-ray-only", "generate --model smollm2-135m -n 2 --workers 2 --out {o}/g.jsonl", 2,
     "--workers applies to --engine ray only"),
    ("generate-engine", "generate --model smollm2-135m -n 2 --engine dask --out {o}/g.jsonl", 2,
     "Invalid value for '--engine': 'dask' is not one of 'local', 'ray'."),
    ("generate-ray-gpus", "generate --model smollm2-135m -n 2 --engine ray --gpus-per-worker -0.5 --out {o}/g.jsonl", 2,
     "--gpus-per-worker must be >= 0"),
    # ovid serve: every option and detector checked before a model loads or a port is taken
    ("serve-port-0", "serve --detector {u}/det --port 0", 2, "--port must be a port number in [1, 65535], got 0"),
    ("serve-port-high", "serve --detector {u}/det --port 70000", 2, "--port must be a port number"),
    ("serve-port-text", "serve --detector {u}/det --port http", 2, "Invalid value for '--port'"),
    ("serve-host-elsewhere", "serve --detector {u}/det --host 192.0.2.1 --port 8765", 2,
     "cannot listen on 192.0.2.1:8765"),
    ("serve-unknown-detector", "serve --detector fast-detectgtp", 2, "did you mean fast-detectgpt"),
    ("serve-allowed-host-url", "serve --detector {u}/det --allowed-host http://x.example/", 2,
     "--allowed-host has a name that is not a host: 'http://x.example/'"),
    ("serve-read-timeout-0", "serve --detector {u}/det --read-timeout-s 0", 2, "--read-timeout-s must be > 0, got 0"),
    ("serve-no-folder", "serve --detector {u}/nothing-here", 2, "no such saved detector folder"),
    ("serve-tampered", "serve --detector {u}/det-tampered", 2, "do not match the hash"),
    ("serve-max-request-texts", "serve --detector {u}/det --max-request-texts 0", 2,
     "--max-request-texts must be >= 1, got 0"),
    ("serve-max-chars", "serve --detector {u}/det --max-chars -5", 2, "--max-chars must be >= 1"),
    ("serve-max-body", "serve --detector {u}/det --max-body-bytes 0", 2, "--max-body-bytes must be >= 1"),
    ("serve-truncate-tokens", "serve --detector {u}/det --truncate-tokens 1", 2, "--truncate-tokens must be >= 2"),
    ("serve-detector-missing-in-commas", "serve --detector {u}/det,{u}/nothing-here", 2, "no such saved detector folder"),
    ("serve-allowed-host-repeated", "serve --detector {u}/det --allowed-host x.example --allowed-host http://y/", 2,
     "--allowed-host has a name that is not a host: 'http://y/'"),
    ("serve-timeout", "serve --detector {u}/det --timeout-s 0", 2, "--timeout-s must be > 0"),
    ("serve-batch-wait", "serve --detector {u}/det --batch-wait-ms -1", 2, "--batch-wait-ms must be >= 0"),
    ("serve-cache", "serve --detector {u}/det --cache-mb -1", 2, "--cache-mb must be >= 0"),
    ("bloom-n-and-ngram-len", "bloom {u}/human.jsonl --ngram-len 3 --n 4 --out {o}/b.bloom", 2,
     "give --ngram-len or its old name --n, not both"),
    ("train-C-and-c", "train --detector tfidf --c 1 --C 2 --train {u}/good.jsonl --out {o}/d", 2,
     "give --c or its old name --C, not both"),
    ("serve-watermark-alone", "serve --detector {u}/det --watermark kgw --watermark-key 1", 2,
     "--watermark-model and --watermark go together"),
    ("serve-watermark-no-key", "serve --detector {u}/det --watermark kgw --watermark-model smollm2-135m", 2,
     "key is required"),
    ("serve-watermark-scheme", "serve --detector {u}/det --watermark kwg --watermark-key 1 "
     "--watermark-model smollm2-135m", 2, "Invalid value for '--watermark': 'kwg' is not one of 'kgw', 'synthid'."),
]


@pytest.mark.parametrize("case, argv, code, fragment", CLI, ids=[c[0] for c in CLI])
def test_cli_bad_input(user, tmp_path, capsys, case, argv, code, fragment):
    before = snapshot(user)
    args = [a.format(u=user, o=tmp_path) for a in argv.split()]
    got = run_ovid(args)
    err = capsys.readouterr().err.strip()
    assert got == code, err
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and fragment in err, err
    assert snapshot(user) == before
    assert not any(tmp_path.iterdir()), sorted(p.name for p in tmp_path.iterdir())  # nothing left behind


# (case id, argv under an option's old name, the same under its new name, fragment of the note): the old
# name still works for one release, with one note line on stderr before what the new name gives
OLD_NAMES = [
    ("bloom-n", "bloom {u}/human.jsonl --n 0 --out {o}/b.bloom", "bloom {u}/human.jsonl --ngram-len 0 --out {o}/b.bloom",
     "--n is now --ngram-len"),
    ("serve-max-texts", "serve --detector {u}/det --max-texts 0", "serve --detector {u}/det --max-request-texts 0",
     "--max-texts is now --max-request-texts"),
    ("serve-max-tokens", "serve --detector {u}/det --max-tokens 1", "serve --detector {u}/det --truncate-tokens 1",
     "--max-tokens is now --truncate-tokens"),
    ("train-C", "train --detector tfidf --C -1 --train {u}/good.jsonl --out {o}/d",
     "train --detector tfidf --c -1 --train {u}/good.jsonl --out {o}/d", "--C is now --c"),
    ("train-encoder", "train --detector tfidf --encoder minilm-l6 --train {u}/good.jsonl --out {o}/d",
     "train --detector tfidf --backbone minilm-l6 --train {u}/good.jsonl --out {o}/d", "--encoder is now --backbone"),
    ("train-files-after-one-flag", "train --detector tfidf --train {u}/good.jsonl {u}/nope.jsonl --out {o}/d",
     "train --detector tfidf --train {u}/good.jsonl,{u}/nope.jsonl --out {o}/d", "several files after one --train"),
]


@pytest.mark.parametrize("case, old, new, note", OLD_NAMES, ids=[c[0] for c in OLD_NAMES])
def test_old_option_names_still_work_with_a_note(user, tmp_path, capsys, case, old, new, note):
    before = snapshot(user)
    results = []
    for argv in (new, old):
        code = run_ovid([a.format(u=user, o=tmp_path) for a in argv.split()])
        results.append((code, capsys.readouterr().err.strip().splitlines()))
    (code_new, err_new), (code_old, err_old) = results
    assert code_new == code_old == 2 and len(err_new) == 1 and err_new[0].startswith("error: "), err_new
    assert err_old[1:] == err_new and err_old[0].startswith("note: ") and note in err_old[0], err_old
    assert snapshot(user) == before and not any(tmp_path.iterdir())


HEAVY = ("torch", "transformers", "sklearn")
MISSING = [  # a missing input is named before the modules that take seconds to import
    ("score", "score {u}/nope.jsonl --out {o}/s.jsonl"),
    ("score-no-out", "score {u}/nope.jsonl"),  # rows to standard output
    ("score-ray", "score {u}/nope.jsonl --engine ray --out {o}/s"),
    ("train", "train --train {u}/nope.jsonl --out {o}/d"),
    ("train-human", "train --detector classifier --human {u}/human.jsonl,{u}/nope.jsonl --out {o}/d"),
    ("generate", "generate --prompts {u}/nope.jsonl --out {o}/g.jsonl"),
    ("report", "report {u}/nope.toml --out {o}/r"),
    ("bloom", "bloom {u}/nope.jsonl --out {o}/b.bloom"),
    ("attack", "attack {u}/nope.jsonl --out {o}/a.jsonl"),
]


@pytest.mark.parametrize("case, argv", MISSING, ids=[c[0] for c in MISSING])
def test_a_missing_input_is_named_before_any_heavy_import(user, tmp_path, case, argv):
    """In a fresh interpreter (this one has torch already): what was imported by the time it exits."""
    import subprocess
    import sys

    code = ("import atexit, sys\n"
            f"atexit.register(lambda: print('imported:', [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr))\n"
            "from ovid.cli import main\nmain(sys.argv[1:])")
    r = subprocess.run([sys.executable, "-c", code, *[a.format(u=user, o=tmp_path) for a in argv.split()]],
                       capture_output=True, text=True, timeout=60, check=False)
    error, imported = r.stderr.strip().splitlines()
    assert r.returncode == 2 and error.startswith("error: ") and "nope." in error and "no such" in error, r.stderr
    assert imported == "imported: []"
    assert not any(tmp_path.iterdir())


def test_detect_train_entry_point_gives_the_same_errors(user, tmp_path, capsys):
    got = run(standalone_app(), spread_lists(["--detector", "tfidf", "--train", str(user / "good.jsonl"),
                                              "--out", str(user / "det")]), "detect-train")
    assert got == 2 and "give --overwrite" in capsys.readouterr().err


def test_what_works_still_works_and_writes_with_the_umask(user, tmp_path, capsys):
    """Another encoding when asked; --overwrite replaces a detector ovid saved, leaving no stale file."""
    before = snapshot(user)
    out = tmp_path / "s.jsonl"
    assert run_ovid(["score", str(user / "latin1.jsonl"), "--detector", str(user / "det"), "--encoding", "latin-1",
                     "--out", str(out)]) == 0
    assert json.loads(out.read_text())["id"] == "0" and out.stat().st_mode & 0o777 == 0o666 & ~0o022
    det_dir = tmp_path / "d"
    shutil.copytree(user / "det", det_dir)
    (det_dir / "stale.txt").write_text("left by hand")
    assert run_ovid(["train", "--detector", "tfidf", "--train", str(user / "good.jsonl"), "--out", str(det_dir),
                     "--overwrite"]) == 2  # a file ovid did not save is in it: refused
    (det_dir / "stale.txt").unlink()
    assert run_ovid(["train", "--detector", "tfidf", "--train", str(user / "good.jsonl"), "--out", str(det_dir),
                     "--overwrite", "--no-progress"]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in det_dir.iterdir()) == ["config.json", "metrics.json", "model.skops"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    assert load_detector(det_dir).decision_function(HUMAN).shape == (4,)
    killed = tmp_path / ".d2.training"  # left by a run killed mid-way (its process is gone)
    killed.mkdir()
    (killed / ".ovid-training").write_text("999999999")
    (killed / "train_log.jsonl").write_text("{}\n")
    assert run_ovid(["train", "--detector", "tfidf", "--train", str(user / "good.jsonl"), "--out",
                     str(tmp_path / "d2"), "--no-progress"]) == 0
    assert not killed.exists() and (tmp_path / "d2" / "model.skops").exists()
    # an existing file: ovid's own scores are replaced, a user's only with --overwrite
    scores = tmp_path / "s.jsonl"
    assert run_ovid(["score", str(user / "human.jsonl"), "--detector", str(user / "det"), "--out", str(scores)]) == 0
    mine = tmp_path / "mine.jsonl"
    mine.write_text("my own\n")
    assert run_ovid(["score", str(user / "human.jsonl"), "--detector", str(user / "det"), "--out", str(mine),
                     "--overwrite"]) == 0 and json.loads(mine.read_text().splitlines()[0])["score"] is not None
    # bloom's temporary file has a name of its own: the user's ref.bloom.tmp is theirs
    (tmp_path / "ref.bloom.tmp").write_text("mine")
    assert run_ovid(["bloom", str(user / "human.jsonl"), "--workers", "1", "--no-progress",
                     "--out", str(tmp_path / "ref.bloom")]) == 0
    assert (tmp_path / "ref.bloom.tmp").read_text() == "mine"
    assert (tmp_path / "ref.bloom").stat().st_mode & 0o777 == 0o666 & ~0o022
    assert run_ovid(["bloom", str(user / "human.jsonl"), "--workers", "1", "--no-progress",
                     "--out", str(tmp_path / "ref.bloom")]) == 0  # its own filter: rebuilt in place
    bom = tmp_path / "bom.jsonl"  # a byte-order mark is dropped by every reader, bloom's too
    bom.write_bytes(b"\xef\xbb\xbf" + (user / "human.jsonl").read_bytes())
    assert run_ovid(["bloom", str(bom), "--workers", "1", "--no-progress", "--out", str(tmp_path / "b.bloom")]) == 0
    assert snapshot(user) == before


def _fitted():
    return make_detector("tfidf").fit(HUMAN + MACHINE, [0] * 4 + [1] * 4)


API = [
    ("score-a-string", lambda: _fitted().decision_function("a single text"), InputTypeError, "got a single string; pass [text]"),
    ("score-none", lambda: _fitted().decision_function([None]), InputTypeError, "texts[0] is NoneType, not a string"),
    ("score-int", lambda: _fitted().decision_function(5), InputTypeError, "got int"),
    ("fit-length-mismatch", lambda: make_detector("tfidf").fit(HUMAN, [0]), InputValueError, "4 texts but 1 labels"),
    ("fit-labels-2", lambda: make_detector("tfidf").fit(HUMAN, [0, 1, 2, 0]), InputValueError,
     "labels must be 0 (human) or 1 (machine), got 2"),
    ("fit-labels-text", lambda: make_detector("tfidf").fit(HUMAN, ["h", "m", "h", "m"]), InputValueError,
     "labels must be 0 (human) or 1 (machine)"),
    ("calibrate-fpr", lambda: _fitted().calibrate_from_scores([0, 1], [0, 1], target_fpr=2), InputValueError,
     "target_fpr must be in (0, 1)"),
    ("calibrate-method", lambda: _fitted().calibrate_from_scores([0, 1], [0, 1], method="sigmoid"), InputValueError,
     "calibration must be one of platt, isotonic"),
    ("save-unfitted", lambda: make_detector("tfidf").save("/nonexistent/never-written"), OvidError,
     "nothing to save; fit(texts, labels) first"),
    ("max-length-0", lambda: make_detector("likelihood", max_length=0), SettingError, "max_length must be >= 3"),
    ("dtype", lambda: make_detector("fast-detectgpt", dtype="fp64"), SettingError, "dtype must be one of"),
    ("tfidf-C", lambda: make_detector("tfidf", C=0), InputValueError, "C must be > 0"),
    ("normalize", lambda: make_detector("fast-detectgpt", normalize="nfc"), InputValueError,
     "normalize must be one of none, repair, fold, got 'nfc'"),
    ("watermark-key", lambda: make_detector("watermark", key="secret"), InputValueError,
     "key must be an integer in [0, 2**63 - 1], got 'secret'"),
    ("watermark-no-key", lambda: make_detector("watermark"), InputValueError, "key is required"),
    ("watermark-synthid-keys", lambda: make_detector("watermark", scheme="synthid", synthid_keys=[]), InputValueError,
     "synthid_keys must list at least one key"),
    ("watermark-texts", lambda: make_detector("watermark", key=1).test("one text"), InputTypeError,
     "got a single string; pass [text]"),
    ("attack-name", lambda: attack_text("synonyms", "a text"), InputValueError, "did you mean synonym"),
    ("ensemble-learner", lambda: make_detector("ensemble", learner="forest"), InputValueError,
     "learner must be one of logistic, gbm"),
    ("ensemble-models", lambda: make_detector("ensemble", models=[]), InputValueError, "models must be a non-empty list"),
    ("roberta-epochs", lambda: make_detector("roberta", epochs=0), SettingError, "epochs must be >= 1"),
    ("unknown-param", lambda: make_detector("likelihood", modle="x"), OvidError, "takes no parameter modle"),
    ("generation-n", lambda: GenerationConfig(model="x", n=0), SettingError, "n must be in [1, 10000000], got 0"),
    ("decoding", lambda: Decoding("beam"), SettingError, "strategy must be one of"),
    ("positional-config", lambda: GenerationConfig("x"), TypeError, "positional"),
    ("read-latin1", lambda: list(read_corpus(USER["u"] / "latin1.jsonl")), CorpusError, "latin1.jsonl:1: not UTF-8 text (byte 13"),
    ("load-empty-files", lambda: load_detector(USER["u"] / "det-no-files"), OvidError, "not listed with a hash"),
    ("serve-config-port", lambda: ServeConfig(port=0), SettingError, "port must be a port number"),
    ("serve-config-detectors", lambda: ServeConfig(detectors=[]), SettingError, "detectors needs at least one detector"),
    ("serve-config-host", lambda: ServeConfig(host="two words"), SettingError, "host must be an address"),
    ("serve-unknown", lambda: Service(ServeConfig(detectors=["tfdif"])), OvidError, "did you mean tfidf"),
    ("ray-settings-workers", lambda: RaySettings(engine="ray", workers=0), SettingError, "workers must be >= 1"),
    ("ray-settings-local", lambda: RaySettings(gpus_per_worker=1), OvidError, "applies to --engine ray only"),
    ("score-job-shard-bytes", lambda: ScoreJob(files=["a"], out="b", shard_bytes=10), OvidError,
     "--shard-bytes applies to --engine ray only"),
]
USER: dict[str, Path] = {}


@pytest.mark.parametrize("case, call, exc, fragment", API, ids=[c[0] for c in API])
def test_api_bad_input(user, case, call, exc, fragment):
    USER["u"] = user
    before = snapshot(user)
    with pytest.raises(exc) as info:
        call()
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert snapshot(user) == before


# (case id, method, path, JSON body or raw bytes, status, field named, fragment of the error)
LONG_TEXT = "word " * 101  # 505 characters: over the service's --max-chars 500 below
HTTP = [
    ("score-no-body", "POST", "/v1/score", None, 422, "body", "Field required"),
    ("score-not-json", "POST", "/v1/score", b"{oops", 422, "body", "not valid JSON (at character 1)"),
    ("score-nan", "POST", "/v1/score", b'{"texts": NaN}', 422, "texts", "valid list"),
    ("score-a-list", "POST", "/v1/score", ["a text"], 422, "body", "valid dictionary"),
    ("score-texts-string", "POST", "/v1/score", {"texts": "one text"}, 422, "texts", "valid list"),
    ("score-texts-null", "POST", "/v1/score", {"texts": None}, 422, "texts", "valid list"),
    ("score-text-number", "POST", "/v1/score", {"texts": ["fine", 5]}, 422, "texts[1]", "valid string"),
    ("score-no-texts", "POST", "/v1/score", {"texts": []}, 422, "texts", "give at least one text"),
    ("score-too-many", "POST", "/v1/score", {"texts": ["a text"] * 5}, 413, "texts", "5 texts; at most 4 per request"),
    ("score-too-long", "POST", "/v1/score", {"texts": ["ok", LONG_TEXT]}, 413, "texts[1]",
     "505 characters; at most 500 (--max-chars)"),
    ("score-whitespace", "POST", "/v1/score", {"texts": [" \n\t "]}, 422, "texts[0]", "whitespace-only"),
    ("score-invisible", "POST", "/v1/score", {"texts": ["\u200b\u2060\u200b"]}, 422, "texts[0]",
     "nothing left to score once invisible characters are removed"),
    ("score-surrogate", "POST", "/v1/score", b'{"texts": ["ab\\ud800cd"]}', 422, "texts[0]",
     "lone surrogate at character 2"),
    ("score-extra-field", "POST", "/v1/score", {"texts": ["a text"], "detectr": "x"}, 422, "detectr",
     "Extra inputs are not permitted"),
    ("score-unknown-detector", "POST", "/v1/score", {"texts": ["a text"], "detector": "nope"}, 422, "detector",
     "'nope' is not loaded"),
    ("score-detector-number", "POST", "/v1/score", {"texts": ["a text"], "detector": 3}, 422, "detector",
     "valid string"),
    ("score-body-too-large", "POST", "/v1/score", b'{"texts": ["' + b"x" * 6000 + b'"]}', 413, "body",
     "body: over 5000 bytes (--max-body-bytes)"),
    ("score-deep-nesting", "POST", "/v1/score", b'{"texts": ' + b"[" * 2000 + b"]" * 2000 + b"}", 400, "body",
     "error parsing the body"),
    ("score-form", "POST", "/v1/score", b"texts=hello", 422, "body", "valid dictionary"),
    ("score-not-utf8", "POST", "/v1/score", b'{"texts": ["caf\xe9"]}', 400, "body",
     "could not be read as UTF-8 JSON"),
    ("score-content-length", "POST", "/v1/score", b"BAD-LENGTH", 400, "body", "Content-Length 'ten' is not a number"),
    ("tokens-no-text", "POST", "/v1/tokens", {}, 422, "text", "Field required"),
    ("tokens-empty", "POST", "/v1/tokens", {"text": ""}, 422, "text", "whitespace-only"),
    ("tokens-too-long", "POST", "/v1/tokens", {"text": LONG_TEXT}, 413, "text", "at most 500"),
    ("tokens-surrogate", "POST", "/v1/tokens", b'{"text": "x\\udc00"}', 422, "text", "lone surrogate at character 1"),
    ("tokens-body-too-large", "POST", "/v1/tokens", b'{"text": "' + b"y" * 6000 + b'"}', 413, "body", "over 5000"),
    ("tokens-no-lm", "POST", "/v1/tokens", {"text": "a text", "detector": "TFIDF"}, 422, "detector",
     "reads no language model's ranks"),
    # DNS rebinding: a page elsewhere that points its own name at 127.0.0.1 sends its own Host
    ("host-foreign", "GET", "/v1/detectors", ("Host", "evil.example"), 400, "Host", "not a name this service answers"),
    ("host-foreign-port", "POST", "/v1/score", ("Host", "evil.example:8000"), 400, "Host", "--allowed-host"),
    ("host-suffix", "GET", "/", ("Host", "127.0.0.1.evil.example"), 400, "Host", "--allowed-host"),
    ("host-empty", "GET", "/healthz", ("Host", ""), 400, "Host", "--allowed-host"),
    ("docs-off", "GET", "/docs", None, 404, None, "Not Found"),
    ("score-get", "GET", "/v1/score", None, 405, None, "Method Not Allowed"),
    ("unknown-path", "GET", "/v2/score", None, 404, None, "Not Found"),
]


@pytest.fixture(scope="module")
def service_api(served_detectors):
    from fastapi.testclient import TestClient

    from ovid.serve import create_app

    config = ServeConfig(detectors=[served_detectors["calibrated"], served_detectors["tfidf"]], warm_up=False,
                         max_texts=4, max_chars=500, max_body_bytes=5000)
    with TestClient(create_app(Service(config)), base_url="http://localhost") as client:
        yield client, served_detectors


@pytest.mark.parametrize("case, method, path, body, status, field, fragment", HTTP, ids=[c[0] for c in HTTP])
def test_http_bad_input(service_api, case, method, path, body, status, field, fragment):
    client, detectors = service_api
    if isinstance(body, dict) and body.get("detector") == "TFIDF":
        body = {**body, "detector": detectors["tfidf"]}
    if isinstance(body, tuple):  # a header of its own
        r = client.request(method, path, headers=dict([body]))
    elif body == b"BAD-LENGTH":  # a Content-Length that is not a number, sent as raw ASGI
        r = client.request(method, path, content=b"{}", headers={"content-type": "application/json",
                                                                 "content-length": "ten"})
    elif isinstance(body, bytes):
        r = client.request(method, path, content=body, headers={"content-type": "application/json"}
                           if case != "score-form" else {"content-type": "application/x-www-form-urlencoded"})
    else:
        r = client.request(method, path, json=body) if body is not None else client.request(method, path)
    assert r.status_code == status, r.text
    got = r.json()
    assert set(got) == {"error", "field"} and "\n" not in got["error"]
    assert got["field"] == field and fragment in got["error"]
    if field:
        assert got["error"].startswith(f"{field}: ")
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert client.get("/healthz").json()["status"] == "ok"  # still up


def test_a_streamed_body_is_cut_off_at_the_limit_too(service_api):
    client, _ = service_api  # no Content-Length: the limit counts the bytes as they arrive
    r = client.post("/v1/score", content=iter([b'{"texts": ["', b"x" * 3000, b"y" * 3000, b'"]}']),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json() == {"error": "body: over 5000 bytes (--max-body-bytes)", "field": "body"}


def test_a_request_past_its_time_gets_504_and_never_runs(served_detectors, monkeypatch):
    import threading
    import time

    from fastapi.testclient import TestClient

    from ovid.serve import create_app

    svc = Service(ServeConfig(detectors=[served_detectors["calibrated"]], warm_up=False, timeout_s=0.3,
                              micro_batching=False))
    real, ran = svc._run, []

    def slow(group, texts):
        ran.append(texts[0])
        if "slow" in texts[0]:
            time.sleep(1.0)
        return real(group, texts)

    monkeypatch.setattr(svc, "_run", slow)
    with TestClient(create_app(svc), base_url="http://localhost") as c:
        answers = {}

        def send(text):
            answers[text] = c.post("/v1/score", json={"texts": [text]})

        first = threading.Thread(target=send, args=("a slow text to score",))
        first.start()
        time.sleep(0.1)
        send("queued behind it")  # waits in the queue past its time
        first.join()
        for text, r in answers.items():
            assert r.status_code == 504, text
            assert r.json() == {"error": "no answer within 0.3 s (--timeout-s): the server is busy; try again or "
                                "send fewer texts", "field": None}
        time.sleep(1.0)
        assert c.post("/v1/score", json={"texts": ["a later text is answered"]}).status_code == 200
    assert ran == ["a slow text to score", "a later text is answered"]  # the timed-out one never ran


def test_serve_refuses_a_port_in_use(user, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_ovid(["serve", "--detector", str(user / "det"), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --port {port}: cannot listen on 127.0.0.1:{port} (Address already in use); " \
        "is another server running there?"


def test_the_table_is_large_enough():
    assert len(CLI) + len(API) + len(HTTP) >= 60
    commands = {argv.split()[0] for _, argv, _, _ in CLI}
    assert {"score", "generate", "report", "bloom", "download", "train", "serve"} <= commands


def test_validation_texts_that_are_also_training_texts_are_named(user, tmp_path, capsys):
    rows = [json.loads(line) for line in (user / "good.jsonl").read_text().splitlines()]
    fresh = [{**r, "id": f"f{i}", "text": f"Fresh {i}. " + r["text"][::-1]} for i, r in enumerate(rows[:5] + rows[-5:])]
    valid = tmp_path / "valid.jsonl"
    valid.write_text(jsonl(rows[:2] + fresh))  # 2 of 12 were trained on
    assert run_ovid(["train", "--detector", "tfidf", "--train", str(user / "good.jsonl"), "--valid", str(valid),
                     "--out", str(tmp_path / "d"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: 2 of 12 validation texts are also training texts (e.g. " in err and "id h0" in err
    assert json.loads((tmp_path / "d" / "metrics.json").read_text())["validation_texts_also_in_training"] == 2


def test_sidecars_nested_too_deep_are_not_ovids(user, tmp_path, capsys):
    """A .meta.json beside an input or an output, 100k levels deep: treated as not ovid's, no traceback."""
    deep = '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}"
    corpus = tmp_path / "c.jsonl"
    shutil.copy(user / "good.jsonl", corpus)
    (tmp_path / "c.meta.json").write_text(deep)
    assert run_ovid(["score", str(corpus), "--detector", str(user / "det"), "--out", str(tmp_path / "s.jsonl"),
                     "--no-progress"]) == 0
    capsys.readouterr()
    assert run_ovid(["attack", str(user / "good.jsonl"), "--out", str(corpus), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "c.meta.json exists and is not the metadata of an attacked corpus" in err


def test_a_file_name_with_a_line_break_is_still_one_line(user, tmp_path, capsys):
    odd = tmp_path / "two\nlines.jsonl"
    odd.write_text('{"text": "fine"}\n{"text": 5}\n')
    assert run_ovid(["score", str(odd), "--detector", str(user / "det"), "--out", str(tmp_path / "s.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "two\\nlines.jsonl:2: expected an object with a string 'text'" in err


def test_overwrite_through_a_link_replaces_the_detector_it_names(user, tmp_path):
    real = tmp_path / "detectors" / "current"
    real.parent.mkdir()
    shutil.copytree(user / "det", real)
    link = tmp_path / "det-link"
    link.symlink_to(real, target_is_directory=True)
    assert run_ovid(["train", "--detector", "tfidf", "--train", str(user / "good.jsonl"), "--out", str(link),
                     "--overwrite", "--no-progress"]) == 0
    assert link.is_symlink() and (real / "metrics.json").is_file()  # the new detector, where the link points
    assert sorted(p.name for p in real.parent.iterdir()) == ["current"]  # no staging folder stranded
    assert load_detector(link).decision_function(HUMAN).shape == (4,)


def test_a_download_that_gets_nothing_leaves_no_folder(tmp_path):
    import socket

    from ovid.download import download_gpt2_output
    from ovid.errors import DownloadError

    with socket.socket() as s:  # a port nothing listens on: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError):
        download_gpt2_output(["webtext"], ["test"], tmp_path / "new" / "dl", base_url=f"http://127.0.0.1:{port}",
                             progress=False)
    assert not any(tmp_path.iterdir())
    (tmp_path / "mine").mkdir()  # an empty folder of the user's stays, and stays empty
    with pytest.raises(DownloadError):
        download_gpt2_output(["webtext"], ["test"], tmp_path / "mine", base_url=f"http://127.0.0.1:{port}",
                             progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["mine"] and not any((tmp_path / "mine").iterdir())


# every command that writes, pointed at what the user owns: a file, a link to it, a folder of theirs
WRITERS = [
    ("generate", "generate -n 1 --no-progress --out {t}"),
    ("generate-out-dir", "generate -n 1 --decoding pure,top-k --no-progress --out-dir {t}"),
    ("score", "score {u}/good.jsonl --detector {u}/det --out {t}"),
    ("train", "train --detector tfidf --train {u}/good.jsonl --out {t}"),
    ("report", "report {u}/study.toml --no-progress --out {t}"),
    ("download", "download --dataset webtext --no-progress --out-dir {t}"),
    ("bloom", "bloom {u}/good.jsonl --out {t}"),
    ("attack", "attack {u}/good.jsonl --attack number --no-progress --out {t}"),
]


@pytest.mark.parametrize("target", ["file", "link", "folder"])
@pytest.mark.parametrize("command, argv", WRITERS, ids=[w[0] for w in WRITERS])
def test_no_command_replaces_what_the_user_owns(user, tmp_path, capsys, command, argv, target):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("chapter one\n")
    (mine / "data.jsonl").write_text(jsonl([{"text": "my own row"}]))
    (mine / "data.meta.json").write_text('{"my": "notes"}\n')
    (tmp_path / "link.jsonl").symlink_to(mine / "data.jsonl")
    t = {"file": mine / "data.jsonl", "link": tmp_path / "link.jsonl", "folder": mine}[target]
    before, names = snapshot(tmp_path), sorted(tmp_path.rglob("*"))
    got = run_ovid([a.format(u=user, t=t) for a in argv.split()])
    err = capsys.readouterr().err.strip()
    assert got == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert snapshot(tmp_path) == before and sorted(tmp_path.rglob("*")) == names  # nothing changed, nothing added
    assert (tmp_path / "link.jsonl").is_symlink()
