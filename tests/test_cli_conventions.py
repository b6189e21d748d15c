"""What every command shares: --version, shell completion, choices shown in --help, one meaning
per option name, repeatable lists that also take commas, --out a path, and old names kept hidden
for one release."""
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import typer

from ovid.cli.app import app, run_ovid
from ovid.cli.options import list_values
from ovid.cli.train import standalone_app
from ovid.overlap.bloom import BloomFilter
from ovid.version import __version__


def commands() -> dict:
    """Every command's click command: ovid's, and detect-train's."""
    group = typer.main.get_command(app)
    return {**group.commands, "detect-train": typer.main.get_command(standalone_app())}


def visible(command) -> dict:
    """Each shown option's long spelling -> its click parameter."""
    return {max(p.opts, key=len): p for p in command.params if p.opts[0].startswith("-") and not p.hidden}


def test_version(capsys):
    assert run_ovid(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"ovid {__version__}"
    r = subprocess.run([sys.executable, "-c", "from ovid.cli.train import main; main()", "--version"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and r.stdout.strip() == f"ovid {__version__}"


def test_help_lists_the_choices(capsys):
    assert run_ovid(["score", "--help"]) == 0
    shown = capsys.readouterr().out
    for choices in ("<local|ray>", "<kgw|synthid>", "<auto|float32"):
        assert choices in shown, choices


def test_the_shell_completes_commands_and_choices():
    def complete(words: str) -> list[str]:
        env = {**os.environ, "_OVID_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        r = subprocess.run([sys.executable, "-c", "from ovid.cli import main; main()"], env=env,
                           capture_output=True, text=True, timeout=60, check=False)
        return r.stdout.split()

    assert complete("ovid sc") == ["score"]
    assert complete("ovid score --engine ") == ["local", "ray"]
    assert complete("ovid generate --decoding top-") == ["top-k", "top-p"]


def test_one_meaning_per_option_name():
    where: dict[str, list[str]] = {}
    for name, command in commands().items():
        for spelled in visible(command):
            where.setdefault(spelled, []).append(name)
    assert where["--n"] == ["generate"]  # the sample count; bloom's n-gram length is --ngram-len
    assert where["--max-tokens"] == ["generate"]  # new tokens; serve truncates with --truncate-tokens
    assert sorted(where["--max-texts"]) == ["detect-train", "train"]  # a training subset; serve: --max-request-texts
    assert "--C" not in where and "--encoder" not in where
    workers = {name: visible(c)["--workers"].default for name, c in commands().items() if "--workers" in visible(c)}
    assert set(workers.values()) == {1}, workers


def test_out_is_a_path_in_every_command():
    outs = {name: visible(c)["--out"] for name, c in commands().items() if "--out" in visible(c)}
    assert set(outs) >= {"generate", "score", "train", "bloom", "attack", "report", "detect-train"}
    assert {name: p.bare_type() for name, p in outs.items()} == dict.fromkeys(outs, "Path")


def test_every_list_option_repeats_and_takes_commas(tmp_path):
    for name, command in commands().items():
        for spelled, p in visible(command).items():
            if p.multiple and spelled == "--text":  # free text: repeated only, a comma is part of the text
                assert p.callback is None and p.metavar == "<text>"
            elif p.multiple:
                assert p.callback is not None and ",..." in p.metavar, (name, spelled)
    flatten = list_values(int, "--x")
    assert flatten(["1,2", "3"]) == flatten(["1", "2", "3"]) == [1, 2, 3]
    odd = tmp_path / "a,b.jsonl"  # a file whose name holds a comma is taken whole
    odd.write_text("")
    assert list_values(str, "--train")([str(odd), "c,d"]) == [str(odd), "c", "d"]


def test_old_names_are_hidden_but_work(tmp_path, capsys):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "one two three four five six seven eight nine ten eleven twelve"}\n')
    for flag in ("--ngram-len", "--n"):
        (tmp_path / flag).mkdir()
        assert run_ovid(["bloom", str(corpus), flag, "4", "--no-progress", "--out", str(tmp_path / flag / "r.bloom")]) == 0
    new, old = (BloomFilter.load(tmp_path / flag / "r.bloom") for flag in ("--ngram-len", "--n"))
    assert new.n_added == old.n_added == 9 and (new.bits == old.bits).all()  # 4-grams of 12 words
    assert capsys.readouterr().err.strip() == "note: --n is now --ngram-len; the old name goes in the next release"
    assert run_ovid(["bloom", "--help"]) == 0
    assert "--ngram-len" in capsys.readouterr().out


@pytest.mark.parametrize("form", ["repeated", "commas"])
def test_train_takes_its_files_repeated_or_with_commas(tmp_path, form):
    from test_bad_inputs import HUMAN, MACHINE, jsonl

    from ovid import load_detector

    rows = [{"text": f"Note {i}: {t}", "label": 0} for i, t in enumerate(HUMAN * 5)] + \
           [{"text": f"Item {i}: {t}", "label": 1} for i, t in enumerate(MACHINE * 5)]
    a, b = str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")
    Path(a).write_text(jsonl(rows[::2]))
    Path(b).write_text(jsonl(rows[1::2]))
    files = ["--train", a, "--train", b] if form == "repeated" else ["--train", f"{a},{b}"]
    out = tmp_path / "d"
    assert run_ovid(["train", "--detector", "tfidf", *files, "--no-progress", "--out", str(out)]) == 0
    assert load_detector(out).provenance_["train"] == [a, b]


def test_detect_train_choices_are_the_detectors_own():
    """Written in cli/train.py (the detectors have no settings dataclass): each is a value the
    detector takes, so a choice click offers is never refused later."""
    from ovid import make_detector
    from ovid.cli.train import DETECTOR_OPTIONS

    owner = {"pooling": "classifier", "learner": "ensemble", "features": "ensemble", "normalize": "tfidf"}
    for p in DETECTOR_OPTIONS:
        if p.name in owner:
            for value in typing.get_args(typing.get_args(p.annotation)[0]):
                extra = {"pool_layers": [1]} if value == "hidden" else {}
                make_detector(owner[p.name], **{p.name: value}, **extra)
