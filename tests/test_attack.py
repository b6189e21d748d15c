"""The evasion attacks (RAID's definitions and rates) and the normalisation that defends against
the character-level ones."""
import json
import unicodedata
import random

import numpy as np
import pytest

from ovid.attack import ATTACKS, CHARACTER, AttackConfig, attack_corpus, attack_text
from ovid.attack.character import HOMOGLYPHS, ZERO_WIDTH_SPACE
from ovid.attack.edits import apply_replacements
from ovid.attack.lm import paraphrase, synonym
from ovid.attack.words import alternative_spelling, misspelling
from ovid.corpus import read_corpus
from ovid.errors import InputValueError, OvidError
from ovid.normalize import normalize

TEXT = ("The council met on Tuesday to analyze the color of 12 new buses. A spokesman said the plan "
        "would cost 3.5 million pounds, and the vote is expected in 2024. Residents were not happy. "
        "One of them called it an odd choice for a town of this size.")


def run(name, text=TEXT, rate=None, seed=0):
    return attack_text(name, text, rate, seed, key="t")


def test_every_attack_is_deterministic_for_a_seed_and_records_its_edits():
    for name in CHARACTER + ("article_deletion", "alternative_spelling"):
        a, b, c = run(name), run(name), run(name, seed=1)
        assert a == b
        assert a.num_edits == len(a.edits) > 0, name
        for s, e in a.edits:
            assert 0 <= s <= e <= len(a.text)
        if name in ("whitespace", "upper_lower", "insert_paragraphs"):  # many ways to choose
            assert a != c, name


def test_character_attacks_follow_raid():
    h = run("homoglyph")
    assert h.num_edits == sum(c in HOMOGLYPHS for c in TEXT) and len(h.text) == len(TEXT)
    z = run("zero_width_space")
    assert len(z.text) == 2 * len(TEXT) and z.text.replace(ZERO_WIDTH_SPACE, "") == TEXT
    w = run("whitespace")
    assert w.num_edits == int(len(TEXT.split(" ")) * 0.2) and " ".join(w.text.split(" ")).split() == TEXT.split()
    assert len(w.text) == len(TEXT) + w.num_edits
    u = run("upper_lower", rate=0.2)
    assert u.num_edits == int(0.2 * 45) and u.text.lower() == TEXT.lower() and u.text != TEXT
    n = run("number", rate=1.0)
    assert n.num_edits == 3 and [len(x) for x in n.text.split()] == [len(x) for x in TEXT.split()]
    p = run("insert_paragraphs", rate=1.0)
    assert p.text.count("\n\n") == 3 and p.text.replace(" \n\n", " ") == TEXT
    d = run("article_deletion", rate=1.0)
    assert " the " not in d.text and " a " not in d.text and d.text.startswith("The council")


def test_alternative_spelling_keeps_case_and_whole_words():
    out = alternative_spelling("Color the center; relax, Analyze the tax.", 1.0, random.Random(0)).text
    assert out == "Colour the centre; relax, Analyse the tax."


def test_misspelling_takes_the_least_likely_candidates_when_it_must_choose():
    text = "because the receive because the"
    seen = {}

    def scores(t, spans):
        seen["spans"] = spans
        return [-float(i) for i in range(len(spans))]  # later words less likely
    out = misspelling(text, 0.4, random.Random(0), scores)
    assert out.num_edits == 2 and out.text.split()[:3] == ["because", "the", "receive"]
    assert out.text.split()[3] != "because" and out.text.split()[4] != "the"


class FakeLM:
    def propose(self, text, spans):
        return [(text[a:b].upper(), (b - a) / 10) for a, b in spans]

    def paraphrase_sentences(self, sentences, seed):
        return [s[::-1] for s in sentences]


def test_synonym_replaces_the_best_proposals_and_paraphrase_rewrites_every_sentence():
    out = synonym("the council voted against buses", 0.4, random.Random(0), FakeLM())
    assert out.text == "the COUNCIL VOTED against buses"  # 2 of 5 words: the highest scores, never a stop word
    par = paraphrase("One two. Three four.", 1.0, random.Random(0), FakeLM())
    assert par.text == ".owt enO .ruof eerhT" and par.edits == [(0, len(par.text))]


def test_apply_replacements_reports_spans_in_the_new_text():
    out = apply_replacements("abc def", [(4, 7, "XY"), (0, 0, "__")])
    assert out.text == "__abc XY" and out.edits == [(0, 2), (6, 8)]


@pytest.mark.parametrize("name", ["homoglyph", "zero_width_space", "whitespace"])
def test_repairs_undo_the_invisible_attacks_exactly(name):
    assert normalize(run(name).text, "repair").text == normalize(TEXT, "repair").text


@pytest.mark.parametrize("name", ["upper_lower", "number", "insert_paragraphs"])
def test_folding_undoes_case_flips_and_redrawn_digits(name):
    attacked = run(name, rate=1.0).text
    assert normalize(attacked, "repair").text != normalize(TEXT, "repair").text
    assert normalize(attacked, "fold").text == normalize(TEXT, "fold").text


def test_normalisation_counts_what_it_repaired_and_leaves_other_scripts_alone():
    assert normalize(TEXT).change_ratio == 0
    assert normalize(run("zero_width_space").text).change_ratio == pytest.approx(0.5)
    assert normalize(run("homoglyph").text).change_ratio > 0.15
    for foreign in ("Привет, как дела? Всё хорошо.", "Καλημέρα, τι κάνεις;"):
        assert normalize(foreign, "repair").text == foreign
    assert normalize("ﬁne　text\u00a0here", "repair").text == "fine text here"  # NFKC: ligature, ideographic and no-break spaces
    for text in (TEXT, run("homoglyph").text, "Mixed  Up \n\n\n Text ２０２４"):
        once = normalize(text).text
        assert normalize(once).text == once  # idempotent: scoring a normalised text again changes nothing


def test_marks_stacked_on_one_letter_are_capped_and_counted_and_real_scripts_keep_theirs():
    from ovid.normalize import MAX_MARKS

    zalgo = "The word a" + "\u0301\u0300" * 2500 + " stands."  # 10 KB: one letter, 5,000 accents
    n = normalize(zalgo, "repair")
    assert n.text == unicodedata.normalize("NFKC", "The word a" + ("\u0301\u0300" * 2)[:MAX_MARKS] + " stands.")
    assert n.changed == 5000 - MAX_MARKS and n.change_ratio > 0.9  # the tamper signal sees it
    for real in ("Tiếng Việt có dấu đầy đủ", "हिन्दी में लिखा गया पाठ", "naïve café, Ångström"):
        assert normalize(real, "repair").text == unicodedata.normalize("NFKC", real)


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_attack_corpus_keeps_ids_and_labels_resumes_and_refuses_other_settings(tmp_path):
    src = write(tmp_path / "news.jsonl", [{"id": f"x{i}", "text": TEXT + f" Number {i}.", "label": i % 2}
                                          for i in range(5)] + [{"id": "u", "text": TEXT}])
    cfg = AttackConfig(attacks=("homoglyph", "number"), seed=3)
    out, meta = attack_corpus(cfg, str(src), tmp_path / "att.jsonl", progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert meta["n_written"] == 12 and meta["status"] == "complete" and meta["rates"] == {"homoglyph": 1.0, "number": 0.5}
    assert [r["id"] for r in rows[:6]] == ["x0", "x1", "x2", "x3", "x4", "u"] and rows[6]["attack"] == "number"
    assert rows[0]["label"] == 0 and "label" not in rows[5] and rows[0]["domain"] == "news"
    assert rows[7]["text"] == attack_text("number", TEXT + " Number 1.", None, 3, key="1|x1").text != rows[1]["text"]
    recs = list(read_corpus(out))  # the sidecar does not make unlabelled texts machine text
    assert [r.label for r in recs[:6]] == [0, 1, 0, 1, 0, None]
    whole = out.read_bytes()
    out.write_bytes(whole[:whole.index(b"\n", 3000) + 40])  # killed mid-line
    attack_corpus(cfg, str(src), out, progress=False)
    assert out.read_bytes() == whole
    with pytest.raises(OvidError, match=r"other settings \(seed: 3 != 4\)"):
        attack_corpus(AttackConfig(attacks=("homoglyph", "number"), seed=4), str(src), out, progress=False)


def test_attack_config_names_unknown_attacks_and_bad_rates():
    assert AttackConfig(attacks=("zero-width", "perplexity_misspelling")).attacks == ("zero_width_space", "misspelling")
    with pytest.raises(InputValueError, match="did you mean homoglyph"):
        AttackConfig(attacks=("homoglif",))
    with pytest.raises(Exception, match=r"rate must be in \(0, 1\]"):
        AttackConfig(attacks=("number",), rate=0)
    assert set(ATTACKS) >= {"synonym", "paraphrase", "misspelling", "alternative_spelling"}


def test_lm_attacks_run_with_a_causal_lm(tiny_lm):
    from ovid.attack.lm import AttackLM

    lm = AttackLM(tiny_lm)
    spans = [(0, 3), (4, 11)]
    scores = lm.word_scores(TEXT, spans)
    assert len(scores) == 2 and all(s < 0 for s in scores) and np.isfinite(scores).all()
    props = lm.propose(TEXT, [(4, 11), (12, 15)])
    assert len(props) == 2
    for p in props:
        assert p is None or (p[0].isalpha() and 0 < p[1] <= 1)


def test_score_rows_say_how_much_normalisation_repaired(tmp_path, tiny_lm):
    from test_models import run_ovid

    clean = "I walked to the market on Sunday and bought apples for my aunt."
    src = write(tmp_path / "t.jsonl", [{"id": "clean", "text": clean},
                                        {"id": "zw", "text": run("zero_width_space", clean).text}])
    out = tmp_path / "s.jsonl"
    r = run_ovid("score", "--detector", "likelihood", "--model", tiny_lm, str(src), "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    rows = {x["id"]: x for x in map(json.loads, out.read_text().splitlines())}
    assert rows["clean"]["tampering"] == 0 and rows["zw"]["tampering"] == pytest.approx(0.5)
    assert rows["zw"]["score"] == pytest.approx(rows["clean"]["score"], rel=1e-5)  # the defence: the same text scored
    assert "1 with signs of tampering" in r.stdout


def test_normalisation_is_a_saved_parameter_and_old_folders_keep_scoring_raw_text(tmp_path, tiny_lm):
    from ovid import load_detector, make_detector

    texts = ["The Council MET today.", "a cat sat on 12 mats", "Rain, again.", "The vote is in 2024."]
    det = make_detector("tfidf").fit(texts, [0, 1, 0, 1])
    det.save(tmp_path / "d")
    cfg = json.loads((tmp_path / "d" / "config.json").read_text())
    assert cfg["params"]["normalize"] == "fold"
    assert load_detector(tmp_path / "d").prepare(["The Council  MET\u200b in 2024."]) == ["the council met in 0000."]
    del cfg["params"]["normalize"]  # a folder saved before normalisation existed
    (tmp_path / "d" / "config.json").write_text(json.dumps(cfg))
    assert load_detector(tmp_path / "d").normalize == "none"
    raw = make_detector("likelihood", model=tiny_lm, normalize="none")
    folded = make_detector("likelihood", model=tiny_lm)
    attacked = [run("upper_lower", TEXT, rate=1.0).text, run("homoglyph").text]
    assert folded.decision_function(attacked) == pytest.approx(folded.decision_function([TEXT, TEXT]), rel=1e-5)
    assert not np.allclose(raw.decision_function(attacked), raw.decision_function([TEXT, TEXT]))


def test_ensemble_can_use_the_tampering_share_as_a_feature(tiny_lm):
    from ovid import make_detector

    det = make_detector("ensemble", models=[tiny_lm], tamper_feature=True)
    texts = [TEXT, run("zero_width_space").text, "A quiet day in the village.", run("homoglyph", "A quiet day.").text]
    feats = det._features(det.prepare(texts))
    plain = make_detector("ensemble", models=[tiny_lm])._features(det.prepare(texts))
    assert feats.shape[1] == plain.shape[1] + 1
    np.testing.assert_allclose(feats[:, -1], np.log1p(100 * np.array([0, 0.5, 0, normalize(texts[3]).change_ratio])))
