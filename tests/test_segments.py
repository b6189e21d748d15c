"""Mixed authorship: sentences placed in both the typed and the normalised text, the two-state
model against brute force, spans from token statistics, the segment model's file, and
`segments()` on a detector."""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from ovid import make_detector
from ovid.detect import segments as sg
from ovid.detect.features import TokenStats
from ovid.errors import OvidError
from ovid.normalize import normalize

MIXED = ("I wrote this opening myself, on a train.  It rained   all day!\n\nThen a MODEL wrote 3 more "
         "sentences. They are smooth. They say little.")


def test_sentences_keep_the_typed_text_and_the_text_the_model_reads():
    s = sg.split_sentences(MIXED)
    assert [MIXED[a:b] for a, b in s.original] == [
        "I wrote this opening myself, on a train.", "It rained   all day!", "Then a MODEL wrote 3 more sentences.",
        "They are smooth.", "They say little."]
    assert s.normalized_text == normalize(MIXED).text  # the one pass reads what score() reads
    assert [s.normalized_text[a:b] for a, b in s.normalized][2] == "then a model wrote 0 more sentences."
    assert sg.split_sentences("no full stop here").original == [(0, 17)]
    assert sg.split_sentences("  \u200b ").original == []  # nothing left once normalised


def test_each_token_goes_to_the_sentence_holding_its_last_character():
    bounds = [(0, 10), (11, 20)]
    # "0123456789", " sentence" (starts at the space before sentence 1), "tail"
    assert sg.token_sentences([(0, 4), (4, 10), (10, 15), (15, 20)], bounds).tolist() == [0, 0, 1, 1]


def brute_force(log_odds, switch, p_start):
    n = len(log_odds)

    def joint(states):
        p = math.log(p_start if states[0] else 1 - p_start)
        p += sum(log_odds[i] / 2 if states[i] else -log_odds[i] / 2 for i in range(n))
        return p + sum(math.log(switch if states[i] != states[i - 1] else 1 - switch) for i in range(1, n))

    all_states = list(itertools.product([0, 1], repeat=n))
    z = np.logaddexp.reduce([joint(s) for s in all_states])
    post = [math.exp(np.logaddexp.reduce([joint(s) for s in all_states if s[i]]) - z) for i in range(n)]
    return np.array(post), np.array(max(all_states, key=joint))


@pytest.mark.parametrize("log_odds, switch, p_start", [([-2, -1.5, 2, 2.5, 1.8], 0.1, 0.5),
                                                       ([3, -0.2, 0.1, -4, 1, 1], 0.3, 0.2),
                                                       ([0.5], 0.05, 0.7)])
def test_forward_backward_and_viterbi_match_brute_force(log_odds, switch, p_start):
    post, states = brute_force(log_odds, switch, p_start)
    np.testing.assert_allclose(sg.posteriors(np.array(log_odds), switch, p_start), post, rtol=1e-9)
    assert sg.viterbi(np.array(log_odds), switch, p_start).tolist() == states.tolist()


def test_runs():
    assert sg.runs(np.array([0, 0, 1, 1, 1, 0])) == [(0, 2), (2, 5), (5, 6)]
    assert sg.runs(np.array([1])) == [(0, 1)]


def model(**kw) -> sg.SegmentModel:
    """Log-odds = 2 x (mean log-probability + 3): a sentence whose tokens average above -3 reads as machine."""
    width = len(sg.SENTENCE_FEATURES)
    one = sg.Logistic([0.0] * width, [1.0] * width, [2.0] + [0.0] * (width - 1), 6.0)
    base = dict(model="m", recipe="fold", sentence=one, span=one, switch=0.05, p_start=0.5, threshold=0.0,
                target_fpr=0.01, min_sentences=2, min_tokens=6)
    return sg.SegmentModel(**{**base, **kw})


def stats_for(log_probs: list[float]) -> TokenStats:
    n = len(log_probs)
    lp = np.array(log_probs)
    return TokenStats(token_ids=np.arange(n), log_prob=lp, rank=np.ones(n), entropy=np.ones(n),
                      ref_mean=lp - 0.1, ref_var=np.ones(n))


def test_a_machine_middle_becomes_its_own_span_with_offsets_in_the_typed_text():
    text = "Human one here. Human two here. Machine one. Machine two. Machine three. Human again here."
    s = sg.split_sentences(text)
    index = np.repeat(np.arange(6), 3)  # three tokens a sentence
    lp = [-6.0] * 6 + [-1.0] * 9 + [-6.0] * 3
    seg = sg.segment(stats_for(lp), s, index, model())
    assert [(text[sp.start:sp.end], sp.sentences, sp.tokens) for sp in seg.spans] == [
        ("Human one here. Human two here.", 2, 6),
        ("Machine one. Machine two. Machine three.", 3, 9),
        ("Human again here.", 1, 3)]
    assert [sp.verdict for sp in seg.spans] == ["human", "machine", sg.TOO_SHORT]
    machine = seg.spans[1]
    assert machine.score == pytest.approx(2 * (-1.0 + 3)) and machine.p_machine == pytest.approx(1 / (1 + math.exp(-4)))
    assert machine.prior == 0.5  # a threshold of 0 log-odds is even odds at the span model's balanced classes
    assert seg.spans[0].p_machine < 0.5 and seg.spans[2].p_machine is None and seg.spans[2].prior is None
    assert seg.spans[2].as_row()["p_machine"] is None
    assert np.argmax(seg.sentence_p_machine) in (2, 3, 4) and seg.sentence_p_machine[0] < 0.5


@pytest.mark.parametrize("threshold", [-2.0, 1.5, 7.0])
def test_a_span_s_p_machine_is_stated_at_the_prior_where_its_threshold_is_even_odds(threshold):
    text = "Human one here. Human two here. Machine one. Machine two. Machine three. Human again here."
    s, index = sg.split_sentences(text), np.repeat(np.arange(6), 3)
    for machine_lp in np.linspace(-5.0, 1.0, 25):
        seg = sg.segment(stats_for([-6.0] * 6 + [machine_lp] * 9 + [-6.0] * 3), s, index,
                         model(threshold=threshold, min_sentences=1, min_tokens=1))
        for sp in seg.spans:
            logit_prior = math.log(sp.prior / (1 - sp.prior))
            assert logit_prior == pytest.approx(-threshold)  # Bayes from balanced classes to the prior
            assert math.log(sp.p_machine / (1 - sp.p_machine)) == pytest.approx(sp.score + logit_prior)
            assert (sp.p_machine >= 0.5) == (sp.verdict == "machine")
            row = sp.as_row()
            assert row["p_machine"] == round(sp.p_machine, 6) and row["prior"] == pytest.approx(sp.prior, rel=1e-5)


def test_an_all_human_text_is_one_span():
    text = "One sentence. Two sentence. Three sentence."
    seg = sg.segment(stats_for([-6.0] * 9), sg.split_sentences(text), np.repeat(np.arange(3), 3), model())
    assert len(seg.spans) == 1 and (seg.spans[0].start, seg.spans[0].end) == (0, len(text))
    assert seg.spans[0].verdict == "human"


def test_the_segment_model_file_round_trips_and_refuses_edits(tmp_path):
    m = model()
    assert sg.SegmentModel.from_json(m.to_json(), "x.json") == m
    bad = json.loads(m.to_json())
    bad["sentence"]["coef"] = [1.0]
    with pytest.raises(OvidError, match="x.json: sentence must hold 5 finite features"):
        sg.SegmentModel.from_json(json.dumps(bad), "x.json")
    bad = {**json.loads(m.to_json()), "switch": 1.5}
    with pytest.raises(OvidError, match="switch, p_start and target_fpr must be in"):
        sg.SegmentModel.from_json(json.dumps(bad), "x.json")
    with pytest.raises(OvidError, match="not an ovid segment model"):
        sg.SegmentModel.from_json('{"format": "other"}', "x.json")
    with pytest.raises(OvidError, match="no segment model for gpt2-xl"):
        sg.shipped_model("gpt2-xl")
    with pytest.raises(OvidError, match="no segment model for /etc/x"):  # a name, never a path
        sg.shipped_model("/etc/x")


def test_segments_from_a_detector_read_its_language_model(tiny_lm, monkeypatch):
    det = make_detector("likelihood", model=tiny_lm)
    monkeypatch.setattr(sg, "shipped_model", lambda name: model(threshold=1e9))
    texts = [MIXED, "Just one sentence with no end"]
    spans = det.segments(texts)
    assert len(spans) == 2
    for text, found in zip(texts, spans):
        assert found[0].start == 0 and found[-1].end == len(text.rstrip())
        assert all(a.end <= b.start for a, b in zip(found, found[1:]))
        assert sum(sp.sentences for sp in found) == len(sg.split_sentences(text).original)
        assert all(sp.verdict in ("human", sg.TOO_SHORT) for sp in found)  # threshold out of reach
    full = det.segmentations(texts)
    assert [f.spans for f in full] == spans
    assert full[0].sentences == sg.split_sentences(MIXED).original and len(full[0].sentence_p_machine) == 5
    assert all(0 <= p <= 1 for p in full[0].sentence_p_machine)
    with pytest.raises(OvidError, match="tfidf reads no language model's tokens"):
        make_detector("tfidf").segments(["a text"])


def test_score_files_write_each_texts_spans(tiny_lm, monkeypatch, tmp_path):
    from ovid.detect.score_job import ScoreJob, score_files

    monkeypatch.setattr(sg, "shipped_model", lambda name: model(threshold=-1e9, min_tokens=1, min_sentences=1))
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": MIXED}) + "\n" + json.dumps({"id": "b", "text": "Short one."}) + "\n")
    for name in ("s.jsonl", "s.csv"):
        score_files(ScoreJob(files=[str(src)], out=str(tmp_path / name), detector="likelihood",
                             params={"model": tiny_lm}, segments=True, progress=False))
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    expected = make_detector("likelihood", model=tiny_lm).segments([MIXED, "Short one."])
    for row, spans in zip(rows, expected):
        assert [(s["start"], s["end"], s["verdict"]) for s in row["segments"]] == \
            [(sp.start, sp.end, "machine") for sp in spans]  # every span clears a threshold of -1e9
        assert all(s["p_machine"] >= 0.5 and s["prior"] is not None for s in row["segments"])
    import pandas as pd

    csv = pd.read_csv(tmp_path / "s.csv")
    assert json.loads(csv["segments"][0]) == rows[0]["segments"]


def test_a_mixture_knows_each_sentences_author_and_how_far_a_boundary_is():
    from ovid.detect import mixtures as mx

    m = mx.join([("A person wrote this.", 0), ("And this.", 0), ("A model wrote this.", 1)], "human-machine", "d")
    assert m.text == "A person wrote this. And this. A model wrote this." and m.pieces[2] == (31, 50)
    labels = mx.sentence_labels(m, sg.split_sentences(m.text, "none").original)
    assert labels.tolist() == [0, 0, 1] and mx.true_boundary(labels) == 2
    assert mx.boundary_error(labels, np.array([0, 0, 1])) == 0
    assert mx.boundary_error(labels, np.array([0, 1, 1])) == 1
    assert mx.boundary_error(labels, np.array([0, 0, 0])) == 1  # never leaves the first author: boundary at 3
    assert mx.boundary_error(labels, np.array([1, 1, 1])) == 2  # never starts with them: boundary at 0


def fake_segmentation(labels_found, states, flagged):
    ranges = [(10 * i, 10 * i + 9) for i in range(len(states))]
    span = sg.Span(0, 9, 2, 50, 1.0, 0.7 if flagged else 0.3, 0.5, "machine" if flagged else "human")
    return sg.Segmentation([span], [float(p) for p in labels_found], ranges, [bool(s) for s in states])


def test_the_mixed_texts_table_counts_boundaries_flags_and_human_false_alarms():
    from ovid.detect.mixtures import Mixture
    from ovid.reports.study.mixed import mixed_rows

    def mixture(labels, kind):
        return Mixture("x" * 10 * len(labels), tuple(labels), tuple((10 * i, 10 * i + 9) for i in range(len(labels))),
                       kind, "news")

    mixes = [mixture([0, 0, 1, 1], "human-machine"), mixture([0, 0, 1, 1], "human-machine"),
             mixture([0, 0, 0, 1, 1], "human-machine"), mixture([1, 1, 0, 0], "machine-human")]
    segs = [fake_segmentation([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], True),   # exact
            fake_segmentation([0.1, 0.6, 0.7, 0.9], [0, 1, 1, 1], True),   # one sentence early
            fake_segmentation([0.1, 0.2, 0.3, 0.4, 0.45], [0, 0, 0, 0, 0], False),  # never leaves: 2 late
            fake_segmentation([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0], True)]
    humans = [fake_segmentation([0.1], [0], False), fake_segmentation([0.9], [1], True),
              fake_segmentation([0.1], [0], False)]
    rows = {(r["domain"], r["kind"]): r for r in mixed_rows("det", model(), mixes, segs, ["news", "news", "web"],
                                                             humans)}
    hm = rows["news", "human-machine"]
    assert hm["n_texts"] == 3 and hm["within_1"] == pytest.approx(2 / 3) and hm["median_error"] == 1.0
    assert hm["flagged"] == pytest.approx(2 / 3) and hm["within_1_lo"] < 2 / 3 < hm["within_1_hi"]
    # 7 human and 6 machine sentences: the human 0.6 is above the machine 0.4 and 0.45
    assert hm["sentence_auroc"] == pytest.approx(1 - 2 / 42)
    assert rows["news", "machine-human"]["within_1"] == 1.0 and rows["news", "machine-human"]["within_1_hi"] == 1.0
    assert rows["news", "human only"]["flagged"] == 0.5 and rows["web", "human only"]["flagged"] == 0.0
    assert rows["web", "human only"]["flagged_hi"] == pytest.approx(0.975)  # one text: exact, never [0, 0]
    assert {r["span_fpr"] for r in rows.values()} == {0.01}


def test_a_study_builds_mixed_texts_from_its_held_out_texts(tiny_lm, monkeypatch):
    from types import SimpleNamespace

    from ovid.corpus import Record
    from ovid.reports.study.corpora import Corpus, Split
    from ovid.reports.study.mixed import build_mixtures, mixed_table

    monkeypatch.setattr(sg, "shipped_model", lambda name: model())
    human = [Record(f"h{i}", f"Person {i} wrote the first line. Then a second one here. And a third line came. "
                    "A fourth ended it.", 0, "news.jsonl", {"domain": "news" if i < 3 else "fiction"})
             for i in range(5)]
    machine = [Record(f"m{i}", f"The model went on for text {i}. It wrote more. It finished here.", 1, "gen.jsonl",
                      {"prompt_id": f"h{4 - i}"}) for i in range(5)]
    split = Split([], human, {"gen": []}, {"gen": machine})
    corpora = [Corpus("gen", "tiny", 1, "pure", machine, "gen.jsonl")]
    mixes = build_mixtures(split, corpora, 2, 0)
    assert [(m.domain, m.kind) for m in mixes] == [("news", "human-machine"), ("news", "machine-human")] * 2 + \
        [("fiction", "human-machine"), ("fiction", "machine-human")] * 2
    first = mixes[0]  # h0's opening, then the model's continuation of h0 (prompt_id h0: m4)
    assert first.text.startswith("Person 0 wrote") and "text 4" in first.text and first.labels[0] == 0
    assert build_mixtures(split, corpora, 2, 0) == mixes  # seeded
    dets = {"lik": make_detector("likelihood", model=tiny_lm), "tfidf": make_detector("tfidf")}
    table = mixed_table(dets, corpora, split, SimpleNamespace(study=SimpleNamespace(mixed=2, seed=0)))
    assert set(table.detector) == {"lik"}  # tfidf reads no tokens: no row
    assert sorted(zip(table.domain, table.kind, table.n_texts)) == [
        ("fiction", "human only", 2), ("fiction", "human-machine", 2), ("fiction", "machine-human", 2),
        ("news", "human only", 3), ("news", "human-machine", 2), ("news", "machine-human", 2)]
    assert table.within_1.dropna().between(0, 1).all() and (table.flagged_lo <= table.flagged).all()
