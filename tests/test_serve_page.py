"""The page of `ovid serve` in a real headless browser (Playwright driving the system Chromium):
load it, type a text, press the button, read the verdict, its FPR in words, P(machine) with its
prior, the chart and the coloured tokens over the text as typed from the DOM. `make test` installs
Chromium where it is missing; under CI a missing browser fails."""
from __future__ import annotations

import math
import os
import re
import shutil
import socket
import threading
import time

import pytest

from ovid.normalize import normalize
from ovid.serve import ServeConfig, Service, create_app

from conftest import SERVE_HUMAN, TRAIN_TEXT
from test_page_verdicts import calibrated_rising

CHROMIUM = os.environ.get("OVID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def browser_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("the page test needs Playwright and Chromium (make test installs Chromium)")
        pytest.skip("Playwright or Chromium not installed")
    return sync_playwright


def by_length_model():
    """A segment model that reads sentence length only (so the test does not depend on the tiny
    random LM's numbers): sentences over 12 tokens read as machine, spans over 30 tokens are flagged."""
    from ovid.detect import segments as sg

    def longer_than(tokens: int) -> sg.Logistic:
        return sg.Logistic([0.0] * 5, [1.0] * 5, [0.0, 0.0, 0.0, 0.0, 4.0], -4.0 * math.log(tokens))

    return sg.SegmentModel(model="tiny", recipe="fold", sentence=longer_than(12), span=longer_than(30), switch=0.05,
                           p_start=0.5, threshold=0.0, target_fpr=0.01, min_sentences=2, min_tokens=4)


@pytest.fixture(scope="module")
def server(served_detectors, tiny_lm, tmp_path_factory):
    import uvicorn

    from ovid.detect import segments as sg

    patch = pytest.MonkeyPatch()
    patch.setattr(sg, "shipped_model", lambda name: by_length_model())

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # calibrated so that P(machine) rises with the score and ordinary texts land either side of the threshold
    detectors = {"calibrated": calibrated_rising(tiny_lm, tmp_path_factory.mktemp("page") / "rising"),
                 "tfidf": served_detectors["tfidf"]}
    service = Service(ServeConfig(detectors=list(detectors.values()), warm_up=False, short_tokens=100))
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        assert time.time() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", detectors
    server.should_exit = True
    thread.join(10)
    patch.undo()


@pytest.fixture(scope="module")
def page(server):
    sync_playwright = browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_page()
        pg.goto(server[0] + "/")
        yield pg, server[1]
        browser.close()


def check(pg, text: str, keyboard: bool = False):
    pg.fill("#text", text)
    if keyboard:
        pg.focus("#text")
        pg.keyboard.press("Control+Enter")
    else:
        pg.click("#check")
    # a locator, not wait_for_function: the page's Content-Security-Policy refuses evaluated strings
    from playwright.sync_api import expect
    expect(pg.locator("#status")).to_have_text(re.compile(r"^Done"), timeout=60_000)


def test_typing_a_text_shows_the_verdict_its_fpr_the_chart_and_the_tokens(page):
    pg, detectors = page
    pg.wait_for_selector("#detector option", state="attached")
    assert pg.eval_on_selector("#detector", "s => s.value") == detectors["calibrated"]
    text = " ".join(TRAIN_TEXT[:5])
    check(pg, text)
    verdict = pg.text_content("#verdict")
    assert verdict in ("Flagged: likely machine-written", "Not flagged")
    assert pg.text_content("#fpr").startswith("At this threshold about 1 in 100 human texts is wrongly flagged")
    assert "P(machine) is" in pg.text_content("#odds")
    facts = pg.text_content("#facts")
    assert "Tokens scored" in facts and "Tamper signal" in facts
    spans = pg.eval_on_selector_all("#tokens span", "els => els.map(e => [e.className, e.textContent, e.dataset.rank])")
    assert spans and all(c in ("b0", "b1", "b2", "b3") for c, _, _ in spans)
    assert "".join(t for _, t, _ in spans) == text  # as typed
    assert all(int(r) >= 1 for _, _, r in spans)
    bars = pg.eval_on_selector_all("#chart rect", "els => els.map(e => e.dataset.kind)")
    assert bars.count("human") == 30 and bars.count("machine") == 30
    assert pg.query_selector("#chart #marker") is not None
    assert "calibrated on" in pg.text_content("#chart-caption")


def test_a_short_tampered_text_warns_and_the_keyboard_works(page):
    pg, _ = page
    check(pg, "\u200b".join(SERVE_HUMAN[0][:40]), keyboard=True)
    codes = pg.eval_on_selector_all("#warnings li", "els => els.map(e => e.dataset.code)")
    assert "too-short" in codes and "tampering" in codes
    assert "were repaired" in pg.text_content("#facts")
    assert pg.evaluate("document.activeElement.id") == "result"  # focus moves to the answer


def test_a_detector_without_an_lm_and_an_empty_text(page):
    pg, detectors = page
    pg.select_option("#detector", detectors["tfidf"])
    check(pg, " ".join(TRAIN_TEXT[:3]))
    assert "reads no language model's ranks" in pg.text_content("#tokens-note")
    assert pg.query_selector_all("#tokens span") == []
    pg.fill("#text", "   ")
    pg.click("#check")
    assert pg.text_content("#status") == "Paste or type a text first."


def test_every_control_has_a_label(page):
    pg, _ = page
    unlabelled = pg.evaluate("""[...document.querySelectorAll('textarea, select, input')]
                                .filter(e => e.labels.length === 0).map(e => e.id)""")
    assert unlabelled == []
    assert pg.evaluate("document.documentElement.lang") == "en"
    assert pg.get_attribute("#status", "aria-live") == "polite"


def test_markup_in_a_text_stays_text(page):
    pg, detectors = page
    pg.select_option("#detector", detectors["calibrated"])
    check(pg, '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script> ' + " ".join(TRAIN_TEXT[:2]))
    assert pg.evaluate("window.__xss === undefined")
    assert pg.query_selector("#tokens img") is None and "<img src=x" in pg.text_content("#tokens")
    rows = pg.eval_on_selector_all("#rank-rows tr", "els => els.length")
    assert rows == len(pg.query_selector_all("#tokens span"))  # the ranks as a table too


def test_a_mixed_text_is_shown_in_coloured_runs_as_typed(page):
    pg, detectors = page
    pg.select_option("#detector", detectors["calibrated"])
    short = "I ran. You sat. We ate café. "
    long = ("The committee considered an extensive series of procedural amendments throughout Tuesday. " * 3)
    text = short + long.strip() + " \U0001F642"
    check(pg, text)
    runs = pg.eval_on_selector_all("#spans span",
                                   "els => els.map(e => [e.className, e.dataset.verdict, e.textContent])")
    assert [c for c, _, _ in runs] == ["seg-human", "seg-machine", "seg-short"]
    assert runs[0][2] == short.strip() and runs[1][2].startswith("The committee")
    assert runs[2][1:] == ["too short", "\U0001F642"]  # one short sentence: no verdict of its own
    assert pg.text_content("#spans") == text  # the text as typed: case, digits and the emoji kept
    items = pg.eval_on_selector_all("#span-list li", "els => els.map(e => e.textContent)")
    assert items[0].startswith("Sentences 1–3: not flagged") and items[1].startswith("Sentences 4–")
    assert "flagged: likely machine-written" in items[1]  # in words, not only in colour
    assert "about 1% of texts that people wrote" in pg.text_content("#segments-note")
    pg.select_option("#detector", detectors["tfidf"])
    check(pg, text)
    assert pg.is_hidden("#segments")  # no language model, no spans


def read_answer(pg) -> dict:
    """The verdict, and the numbers the page states in words beside it."""
    odds = re.fullmatch(r"If (?:1 in ([\d,]+) of|(half)|(\d+)% of) the texts you check were machine-written, "
                        r"P\(machine\) is (under |over )?(\d+)%\. That is the share at which this threshold is "
                        r"even odds;.*", pg.text_content("#odds"))
    assert odds, pg.text_content("#odds")
    one_in, half, share, bound, shown = odds.groups()
    prior = 1 / int(one_in.replace(",", "")) if one_in else 0.5 if half else int(share) / 100
    low, high = {"under ": (0, 1), "over ": (99, 100), None: (int(shown), int(shown))}[bound]
    fpr = re.match(r"At this threshold about 1 in ([\d,]+) human texts is wrongly flagged", pg.text_content("#fpr"))
    place = re.fullmatch(r"Its score is (?:higher than ([\d.]+)% of the|higher than all|no higher than any of the) "
                         r"([\d,]+) human texts it was calibrated on\.", pg.text_content("#percentile"))
    assert fpr and place, (pg.text_content("#fpr"), pg.text_content("#percentile"))
    return {"verdict": pg.text_content("#verdict"), "prior": prior, "p_low": low, "p_high": high,
            "fpr": 1 / int(fpr.group(1).replace(",", "")), "percentile": place.group(1), "humans": int(place.group(2))}


def test_p_machine_is_stated_at_a_prior_and_never_contradicts_the_verdict(page):
    import json
    import urllib.request

    pg, detectors = page
    pg.select_option("#detector", detectors["calibrated"])
    seen = set()
    for text in TRAIN_TEXT[:5] + SERVE_HUMAN:
        check(pg, text)
        shown = read_answer(pg)
        seen.add(shown["verdict"])
        if shown["verdict"] == "Not flagged":
            assert shown["p_high"] <= 50  # "P(machine) is 50%" at the most, never more
        else:
            assert shown["verdict"] == "Flagged: likely machine-written" and shown["p_low"] >= 50
        assert shown["fpr"] == 0.01 and shown["humans"] == 200
        request = urllib.request.Request(pg.url + "v1/score", data=json.dumps({"texts": [text]}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            served = json.load(answer)["results"][0]
        assert shown["prior"] == pytest.approx(served["prior"], rel=0.05)  # "1 in 310": two figures
        assert shown["p_low"] <= 100 * served["p_machine"] + 0.5 and 100 * served["p_machine"] - 0.5 <= shown["p_high"]
        if shown["percentile"] is not None:  # floored, so never more than the service says
            assert float(shown["percentile"]) <= served["human_percentile"] < float(shown["percentile"]) + 1
    assert seen == {"Not flagged", "Flagged: likely machine-written"}  # both sides were read


def test_the_page_words_numbers_on_the_side_they_fall(page):
    pg, _ = page
    grid = [i / 4000 for i in range(4001)]
    for p, words in zip(grid, pg.evaluate("ps => ps.map(probabilityWords)", grid)):
        bound, value = re.fullmatch(r"(under |over )?(\d+)%", words).groups()
        low, high = {"under ": (0, 1), "over ": (99, 100), None: (int(value), int(value))}[bound]
        assert (high <= 50 if p < 0.5 else low >= 50), (p, words)
        assert low - 0.5 <= 100 * p <= high + 0.5
    assert pg.evaluate("qs => qs.map(shareWords)", [0.01, 0.003235, 0.5, 0.3, 0.75]) == [
        "1 in 100 of", "1 in 310 of", "half", "30% of", "75% of"]
    assert pg.evaluate("fprWords(0.05, false)") == "about 1 in 20 human texts is wrongly flagged"
    assert pg.evaluate("percentileWords(99.532, 1179)") == ("Its score is higher than 99.5% of the 1,179 human "
                                                           "texts it was calibrated on.")
    assert pg.evaluate("percentileWords(100, 1179)").startswith("Its score is higher than all 1,179")


def test_the_token_view_shows_the_text_as_typed_and_the_normalised_on_request(page):
    pg, detectors = page
    pg.select_option("#detector", detectors["calibrated"])
    text = "Regina Hungerford, 2019: the c\u043empany\u200b sold 37 HOMES. " + TRAIN_TEXT[1]
    check(pg, text)
    assert pg.text_content("#tokens") == text and "Regina Hungerford, 2019" in pg.text_content("#tokens")
    assert pg.text_content("#tokens-note").startswith("Your text as you typed it")
    pg.check("#normalised")
    assert pg.text_content("#tokens") == normalize(text).text
    assert "regina hungerford, 0000" in pg.text_content("#tokens")
    assert pg.text_content("#tokens-note").startswith("The text as the detector read it (normalised")
    assert pg.eval_on_selector_all("#rank-rows tr td:first-child", "els => els.map(e => e.textContent).join('')") == (
        normalize(text).text)  # the table follows the toggle
    pg.uncheck("#normalised")
    assert pg.text_content("#tokens") == text
