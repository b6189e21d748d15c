"""P(machine) is stated with its prior and never contradicts the verdict beside it, over a grid of
scores and calibrations (rising Platt curves, isotonic steps that reach 0 and 1, the shipped
default's), and the score's place among the human calibration texts (detect/verdicts.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ovid.detect.calibration import apply_calibration, at_threshold_prior, calibrate_scores, p_machine_at
from ovid.detect.params import CheckSettings
from ovid.detect.verdicts import MACHINE, NOT_FLAGGED, Prepared, human_percentile, verdict
from ovid.errors import InputValueError

SHIPPED = Path(__file__).resolve().parents[1] / "detect" / "shipped" / "default" / "config.json"
GRID = np.linspace(-12, 15, 541)


def synthetic_scores(humans: int = 200, machines: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Known scores: human N(-1.5, 0.8), machine N(0.5, 0.8), so a 1%-FPR threshold falls among the
    tiny LM's scores of ordinary sentences (about -3 to 1.5)."""
    rng = np.random.default_rng(seed)
    return (np.r_[rng.normal(-1.5, 0.8, humans), rng.normal(0.5, 0.8, machines)],
            np.r_[np.zeros(humans), np.ones(machines)])


def synthetic_calibration(method: str = "platt", humans: int = 200, machines: int = 100, seed: int = 0) -> dict:
    return calibrate_scores(*synthetic_scores(humans, machines, seed), 0.01, method)


def calibrated_rising(tiny_lm: str, folder: Path) -> str:
    """A Fast-DetectGPT on the tiny LM saved with synthetic_calibration(): its P(machine) rises with
    the score (the random LM's own calibration can fall), and ordinary texts land either side."""
    from ovid import make_detector

    det = make_detector("fast-detectgpt", model=tiny_lm, dtype="float32")
    det.calibration_ = synthetic_calibration()
    return str(det.save(folder))


def carrying(cal: dict | None):
    """A bare detector that carries `cal` (it is never asked to score)."""
    from ovid import make_detector

    det = make_detector("tfidf")
    det.calibration_ = cal
    return det


def judged(cal: dict | None, score: float):
    """verdict() on a bare detector that carries `cal`: the code path of ovid.check and the service."""
    return verdict(carrying(cal), float(score), Prepared("x", 0.0, None, False, None), "x", None,
                   CheckSettings(short_tokens=0, language=""))


def bayes(p_cal: np.ndarray, cal: dict, prior: float) -> np.ndarray:
    """P(machine) moved by hand from the calibration set's share of machine texts to `prior`."""
    dist = cal["distributions"]
    mix = sum(dist["machine"]) / (sum(dist["machine"]) + sum(dist["human"]))
    odds = p_cal / (1 - p_cal) * (1 - mix) / mix * prior / (1 - prior)
    return odds / (1 + odds)


CALIBRATIONS = {
    "platt": synthetic_calibration("platt"),
    "platt, few machine texts": synthetic_calibration("platt", humans=500, machines=20, seed=1),
    "platt, many machine texts": synthetic_calibration("platt", humans=50, machines=900, seed=2),
    "isotonic": synthetic_calibration("isotonic"),
    "shipped default": json.loads(SHIPPED.read_text())["calibration"],
}


@pytest.mark.parametrize("name", list(CALIBRATIONS))
def test_p_machine_never_contradicts_the_verdict_at_its_stated_prior(name):
    cal = CALIBRATIONS[name]
    t = cal["threshold"]
    answers = [judged(cal, s) for s in GRID]
    priors = {a.prior for a in answers}
    assert len(priors) == 1 and 0 < priors.pop() < 1  # one prior per detector: the threshold's
    for s, a in zip(GRID, answers):
        assert a.verdict == (MACHINE if s >= t else NOT_FLAGGED) and a.target_fpr == 0.01
        assert 0 <= a.p_machine <= 1
        if a.verdict == MACHINE:
            assert a.p_machine >= 0.5, (s, a.p_machine)
        else:
            assert a.p_machine <= 0.5, (s, a.p_machine)
    if cal["calibration"]["method"] == "platt":  # a rising curve: strictly either side, even odds at the threshold
        assert all((a.p_machine > 0.5) == (s > t) for s, a in zip(GRID, answers) if abs(s - t) > 1e-3)
        assert judged(cal, t).p_machine == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("name", [n for n in CALIBRATIONS if CALIBRATIONS[n]["calibration"]["method"] == "platt"])
def test_the_stated_p_machine_is_bayes_at_the_threshold_s_prior(name):
    cal = CALIBRATIONS[name]
    scores = np.linspace(cal["threshold"] - 6, cal["threshold"] + 6, 49)
    p_cal = apply_calibration(cal["calibration"], scores)
    (p_t,) = apply_calibration(cal["calibration"], [cal["threshold"]])
    dist = cal["distributions"]
    p, prior = at_threshold_prior(p_cal, p_t, sum(dist["human"]), sum(dist["machine"]))
    assert bayes(np.array([p_t]), cal, prior)[0] == pytest.approx(0.5)  # the threshold is even odds there
    np.testing.assert_allclose(p, bayes(p_cal, cal, prior), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([judged(cal, s).p_machine for s in scores], p, atol=1e-6)


@pytest.mark.parametrize("name", list(CALIBRATIONS))
def test_the_python_api_states_the_same_p_machine_and_moves_it_to_any_prior(name):
    cal = CALIBRATIONS[name]
    det, scores = carrying(cal), np.linspace(cal["threshold"] - 4, cal["threshold"] + 4, 33)
    p, prior = det.p_machine(scores), det.stated_prior()
    assert [(a.p_machine, a.prior) for a in map(judged, [cal] * len(scores), scores)] == \
        [(round(float(x), 6), float(f"{prior:.6g}")) for x in p]
    np.testing.assert_allclose(det.p_machine(scores, prior=prior), p, atol=1e-9)
    if cal["calibration"]["method"] == "platt":  # Bayes from the calibration set's mix, by hand
        for q in (0.001, 0.2, 0.9):
            np.testing.assert_allclose(det.p_machine(scores, prior=q),
                                       bayes(apply_calibration(cal["calibration"], scores), cal, q), rtol=1e-9)
        dist = cal["distributions"]
        mix = sum(dist["machine"]) / (sum(dist["machine"]) + sum(dist["human"]))  # the calibration set's own
        p_cal, at = p_machine_at(cal, scores, prior=mix)
        assert at == mix and np.allclose(p_cal, apply_calibration(cal["calibration"], scores), rtol=1e-9)
    for bad in (0, 1, -0.5, float("nan"), "0.1"):
        with pytest.raises(InputValueError, match="prior must be a share"):
            det.p_machine(scores, prior=bad)


def test_predict_proba_keeps_scikit_learn_s_meaning_the_calibration_set_s_mix(monkeypatch):
    cal = CALIBRATIONS["platt"]
    det, scores = carrying(cal), np.array([-3.0, cal["threshold"], 2.0])
    monkeypatch.setattr(type(det), "decision_function", lambda self, texts: scores)
    proba = det.predict_proba(["a", "b", "c"])
    np.testing.assert_allclose(proba[:, 1], apply_calibration(cal["calibration"], scores))
    np.testing.assert_allclose(proba.sum(axis=1), 1)


def test_the_shipped_default_states_its_prior():
    a = judged(CALIBRATIONS["shipped default"], 3.6)  # where the old P(machine) read 98%, not flagged
    assert a.verdict == NOT_FLAGGED and a.p_machine < 0.5 and 1 / a.prior == pytest.approx(309, abs=1)
    assert a.human_percentile > 99  # higher than nearly every human text, yet under the 1%-FPR threshold


def test_without_a_rising_map_or_its_mix_no_p_machine_is_stated():
    falling = json.loads(json.dumps(CALIBRATIONS["platt"]))
    falling["calibration"]["coef"] *= -1  # what a random LM's calibration can come to
    for s in (-3.0, falling["threshold"], 3.0):
        a = judged(falling, s)
        assert a.verdict is not None and a.p_machine is None and a.prior is None
    no_mix = {k: v for k, v in CALIBRATIONS["platt"].items() if k != "distributions"}
    a = judged(no_mix, 3.0)
    assert a.verdict == MACHINE and a.p_machine is None and a.prior is None and a.human_percentile is None
    plain = judged(None, 3.0)
    assert plain.verdict is None and plain.p_machine is None and plain.prior is None
    for cal in (falling, no_mix, None):  # the Python API says the same, at any prior
        det = carrying(cal)
        assert det.stated_prior() is None and det.p_machine([3.0]) is None and det.p_machine([3.0], prior=0.5) is None


def test_the_human_percentile_is_read_off_the_saved_histogram():
    dist = {"edges": [0.0, 1.0, 2.0, 3.0], "human": [2, 0, 6], "machine": [0, 1, 1]}
    # past the edges: half a text inside (6.25 of 8 texts), since the end bins hold the clipped scores
    assert human_percentile(dist, -5) == 6.25 and human_percentile(dist, 9) == 93.75
    assert human_percentile(dist, 1.0) == 25 and human_percentile(dist, 1.7) == 25  # an empty bin: flat
    assert human_percentile(dist, 2.5) == 62.5  # halfway through a bin of six
    assert human_percentile(None, 1.0) is None and human_percentile({**dist, "human": [0, 0, 0]}, 1.0) is None
    cal = CALIBRATIONS["platt"]
    values = [judged(cal, s).human_percentile for s in GRID]
    counts = cal["distributions"]["human"]
    low, high = round(50 / sum(counts), 3), round(100 - 50 / sum(counts), 3)
    assert values == sorted(values)
    assert values[0] == (low if counts[0] else 0) and values[-1] == (high if counts[-1] else 100)
    scores, labels = synthetic_scores()
    human, edges = scores[labels == 0], np.array(cal["distributions"]["edges"])
    for s in np.linspace(edges[1], edges[-2], 57):  # inside the histogram: off by at most the score's bin
        k = np.searchsorted(edges, s, side="right") - 1
        got = judged(cal, s).human_percentile
        assert 100 * np.mean(human < edges[k]) - 1e-9 <= got <= 100 * np.mean(human < edges[k + 1]) + 1e-9
