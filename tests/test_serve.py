"""`ovid serve` through its HTTP API (FastAPI's TestClient) on tiny detectors: the answers' values,
the token view, the micro-batcher, the bounded cache, per-text failures and the time limit. The bad
requests are in tests/test_bad_inputs.py; the page in a real browser in tests/test_serve_page.py."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ovid import load_detector
from ovid.detect.calibration import apply_calibration, rises
from ovid.detect.features import gltr_buckets
from ovid.detect.text_checks import cut_to_tokens, token_segments
from ovid.normalize import normalize
from ovid.serve import ServeConfig, Service, create_app
from ovid.serve.batcher import MicroBatcher

from conftest import SERVE_HUMAN, TRAIN_TEXT
from test_page_verdicts import bayes, calibrated_rising

LONG = " ".join(SERVE_HUMAN * 3)  # 746 tiny-LM tokens: past the short-text warning (short_tokens=100)


def assert_stated_at_its_prior(result: dict, cal: dict) -> None:
    """P(machine) is Bayes at the prior where the threshold is even odds, so it sides with the
    verdict; none at all where the calibration falls as the score rises (the random tiny LM's can)."""
    if not rises(cal["calibration"]):
        assert result["p_machine"] is None and result["prior"] is None
        return
    p_cal, p_cal_threshold = apply_calibration(cal["calibration"], [result["score"], cal["threshold"]])
    assert bayes(np.array([p_cal_threshold]), cal, result["prior"])[0] == pytest.approx(0.5, abs=1e-6)
    assert result["p_machine"] == pytest.approx(bayes(np.array([p_cal]), cal, result["prior"])[0], abs=1e-5)
    assert (result["p_machine"] >= 0.5) == (result["verdict"] == "machine")


def client(detectors, **config) -> TestClient:
    return TestClient(create_app(Service(ServeConfig(detectors=detectors, warm_up=False, **config))),
                      base_url="http://localhost")


@pytest.fixture(scope="module")
def api(served_detectors):
    d = served_detectors
    with client([d["calibrated"], d["plain"], d["tfidf"]], short_tokens=100, max_tokens=1000) as c:
        yield c


def test_a_score_carries_the_verdict_its_fpr_and_what_was_scored(api, served_detectors):
    det = load_detector(served_detectors["calibrated"])
    r = api.post("/v1/score", json={"texts": [LONG, SERVE_HUMAN[0]]})
    assert r.status_code == 200
    body = r.json()
    assert body["detector"] == served_detectors["calibrated"]
    first, second = body["results"]
    expected = det.decision_function([LONG, SERVE_HUMAN[0]])
    assert first["score"] == pytest.approx(expected[0], abs=1e-4)
    assert second["score"] == pytest.approx(expected[1], abs=1e-4)
    cal = det.calibration_
    assert first["threshold"] == cal["threshold"] and first["target_fpr"] == 0.01
    assert first["verdict"] == ("machine" if first["score"] >= cal["threshold"] else "not-flagged")
    assert_stated_at_its_prior(first, cal)
    human, edges = det.decision_function(SERVE_HUMAN), cal["distributions"]["edges"]  # its human texts (twice over)
    k = int(np.clip(np.searchsorted(edges, first["score"], side="right") - 1, 0, len(edges) - 2))
    # read off the histogram: between the shares below the edges of the score's bin
    lowest, highest = 100 * np.mean(human < edges[k]), 100 * np.mean(human <= edges[k + 1])
    assert lowest - 1e-6 <= first["human_percentile"] <= highest + 1e-6
    tok = det.engine().tokenizer
    assert first["tokens_scored"] == len(tok(normalize(LONG).text, add_special_tokens=False).input_ids)
    assert first["truncated"] is False and first["language"] == "en" and first["tampering"] == 0
    assert [w["code"] for w in first["warnings"]] == []
    assert [w["code"] for w in second["warnings"]] == ["too-short"]  # under short_tokens=100
    assert first["watermark"] is None and first["error"] is None


def test_p_machine_comes_with_its_prior_and_sides_with_the_verdict(tiny_lm, tmp_path):
    folder = calibrated_rising(tiny_lm, tmp_path / "rising")
    cal = load_detector(folder).calibration_
    texts = TRAIN_TEXT[:5] + SERVE_HUMAN
    with client([folder], short_tokens=0) as c:
        results = c.post("/v1/score", json={"texts": texts}).json()["results"]
    assert {r["verdict"] for r in results} == {"machine", "not-flagged"}  # both sides of the threshold
    assert len({r["prior"] for r in results}) == 1 and 0 < results[0]["prior"] < 0.5
    for r in results:
        assert_stated_at_its_prior(r, cal)
        assert 0 <= r["human_percentile"] <= 100


def test_warnings_name_truncation_tampering_and_another_language(api):
    german = ("Der Gemeinderat stritt wieder über den Brotpreis und die kaputte Kirchenglocke, während draußen "
              "der Regen auf die Dächer fiel und die Kinder nach Hause liefen.")
    tampered = "\u200b".join(LONG[:200])  # zero-width spaces between the letters
    results = api.post("/v1/score", json={"texts": [LONG * 4, german, tampered]}).json()["results"]
    long, de, zw = results
    assert long["truncated"] is True and long["tokens_scored"] == 1000
    assert "truncated" in [w["code"] for w in long["warnings"]]
    assert de["language"] == "de" and "language" in [w["code"] for w in de["warnings"]]
    assert zw["tampering"] == pytest.approx(0.5, abs=0.01) and "tampering" in [w["code"] for w in zw["warnings"]]
    clean = api.post("/v1/score", json={"texts": [LONG[:200]]}).json()["results"][0]
    assert zw["score"] == pytest.approx(clean["score"], abs=1e-4)  # the defence: same text once repaired


def test_a_detector_without_threshold_says_so(api, served_detectors):
    r = api.post("/v1/score", json={"texts": [LONG], "detector": served_detectors["plain"]}).json()["results"][0]
    assert r["verdict"] is None and r["p_machine"] is None and r["target_fpr"] is None and r["prior"] is None
    assert "uncalibrated" in [w["code"] for w in r["warnings"]]
    t = api.post("/v1/score", json={"texts": [LONG], "detector": served_detectors["tfidf"]}).json()["results"][0]
    assert t["verdict"] in ("machine", "not-flagged") and t["tokens_scored"] is None


def test_the_token_view_is_the_engine_s_ranks_over_the_text_it_read(api, served_detectors):
    r = api.post("/v1/tokens", json={"text": LONG})
    assert r.status_code == 200
    view = r.json()
    det = load_detector(served_detectors["calibrated"])
    stats = det.engine().token_stats([normalize(LONG).text])[0]
    assert view["text"] == normalize(LONG).text and view["truncated"] is False
    assert "".join(t["text"] for t in view["tokens"]) == view["text"]
    assert "".join(t["original"] for t in view["tokens"]) == view["original"] == LONG  # the text as sent
    assert [t["rank"] for t in view["tokens"]] == stats.rank.astype(int).tolist()
    assert [t["bucket"] for t in view["tokens"]] == gltr_buckets(stats).tolist()
    np.testing.assert_allclose([t["prob"] for t in view["tokens"]], np.exp(stats.log_prob), rtol=1e-3, atol=1e-6)
    refused = api.post("/v1/tokens", json={"text": LONG, "detector": served_detectors["tfidf"]})
    assert refused.status_code == 422 and refused.json()["field"] == "detector"


def test_detectors_list_thresholds_distributions_and_limits(api, served_detectors):
    body = api.get("/v1/detectors").json()
    first = body["detectors"][0]
    assert [d["name"] for d in body["detectors"]] == [served_detectors[k] for k in ("calibrated", "plain", "tfidf")]
    assert first["default"] and first["detector"] == "fast-detectgpt" and first["token_view"]
    dist = first["distributions"]
    assert sum(dist["human"]) == 8 and sum(dist["machine"]) == 10 and len(dist["edges"]) == 31
    assert body["limits"]["max_tokens"] == 1000 and body["watermark"] is None
    assert body["detectors"][2]["token_view"] is False


def test_health_shows_the_bounded_cache_and_the_batches(served_detectors):
    with client([served_detectors["calibrated"]], cache_mb=0.004) as c:  # ~4 KB: room for a few texts
        for i in range(12):
            assert c.post("/v1/score", json={"texts": [f"Text number {i}: {TRAIN_TEXT[i]}"]}).status_code == 200
        h = c.get("/healthz").json()
    cache = next(iter(h["statistics_cache"].values()))
    assert h["status"] == "ok" and h["rss_bytes"] > 0
    assert cache["max_bytes"] == int(0.004 * 2**20) and 0 < cache["bytes"] <= cache["max_bytes"]
    assert cache["evictions"] > 0 and cache["entries"] < 12
    assert h["batching"]["requests"] == 12


def test_concurrent_requests_share_batches_and_get_the_same_answers(served_detectors):
    texts = [f"{i}: {t}" for i, t in enumerate(TRAIN_TEXT[:16])]
    with client([served_detectors["calibrated"]], batch_wait_ms=200) as c:
        out = [None] * len(texts)

        def send(i):
            out[i] = c.post("/v1/score", json={"texts": [texts[i]]}).json()["results"][0]["score"]

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(texts))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = c.get("/healthz").json()["batching"]
    alone = load_detector(served_detectors["calibrated"]).decision_function(texts)
    np.testing.assert_allclose(out, alone, atol=1e-4)
    assert stats["largest_batch"] > 1 and stats["batches"] < len(texts)


def test_one_text_that_breaks_the_model_fails_alone(served_detectors, monkeypatch):
    svc = Service(ServeConfig(detectors=[served_detectors["calibrated"]], warm_up=False))
    det = svc.detectors[served_detectors["calibrated"]]
    real = det._score

    def fragile(texts, ids, progress):
        if any("explode" in t for t in texts):
            raise RuntimeError("the model exploded")
        return real(texts, ids, progress)

    monkeypatch.setattr(det, "_score", fragile)
    with TestClient(create_app(svc), base_url="http://localhost") as c:
        r = c.post("/v1/score", json={"texts": [LONG, "please explode now, model", SERVE_HUMAN[1]]})
        assert r.status_code == 200
        a, b, d = r.json()["results"]
        assert b["error"] == "RuntimeError: the model exploded" and b["score"] is None
        assert a["error"] is None and d["error"] is None and a["score"] is not None
        assert c.get("/healthz").status_code == 200


def test_the_watermark_test_rides_along(served_detectors, tiny_lm):
    with client([served_detectors["calibrated"]], watermark_model=tiny_lm,
                watermark={"scheme": "kgw", "key": 42, "min_tokens": 4, "alpha": 0.05}) as c:
        r = c.post("/v1/score", json={"texts": [LONG]}).json()["results"][0]
        assert c.get("/v1/detectors").json()["watermark"]["scheme"] == "kgw"
    mark = r["watermark"]
    assert mark["watermark"] == "tested" and 0 < mark["p_value"] <= 1 and mark["tokens_scored"] >= 4
    assert mark["alpha"] == 0.05 and mark["detected"] == (mark["p_value"] < 0.05)
    assert r["verdict"] in ("machine", "not-flagged")  # the detector's own verdict, beside the test


def test_a_watermark_detector_served_alone_decides_at_its_alpha(tiny_lm, tmp_path):
    from ovid import make_detector
    from ovid.errors import OvidError

    folder = tmp_path / "wm"
    make_detector("watermark", model=tiny_lm, key=42, alpha=0.5, min_tokens=40).save(folder)
    with client([str(folder)]) as c:
        long, short = c.post("/v1/score", json={"texts": [LONG, "a few words only"]}).json()["results"]
    p = long["watermark"]["p_value"]
    assert long["target_fpr"] == 0.5 and long["verdict"] == ("machine" if p < 0.5 else "not-flagged")
    assert long["watermark"]["detected"] == (p < 0.5) and long["warnings"] == []
    assert short["verdict"] is None and short["watermark"]["watermark"] == "too-short"
    assert [w["code"] for w in short["warnings"]] == ["too-short"]
    with pytest.raises(OvidError, match="is one already"):
        Service(ServeConfig(detectors=[str(folder)], watermark_model=tiny_lm, watermark={"key": 1}))


def test_a_truncated_text_has_a_token_view_of_what_was_scored(served_detectors):
    with client([served_detectors["calibrated"]], max_tokens=37) as c:
        view = c.post("/v1/tokens", json={"text": LONG}).json()
        scored = c.post("/v1/score", json={"texts": [LONG]}).json()["results"][0]
    assert view["truncated"] is True and len(view["tokens"]) == scored["tokens_scored"] <= 37
    assert "".join(t["text"] for t in view["tokens"]) == view["text"]
    assert LONG.startswith(view["original"]) and normalize(view["original"]).text == view["text"].strip()


def test_a_failure_after_scoring_stays_with_its_text_across_requests(served_detectors, monkeypatch):
    import ovid.detect.verdicts as check_module

    real = check_module.verdict

    def fragile(det, score, item, text, mark, config):
        if "boom" in text:
            raise ValueError("verdict broke")
        return real(det, score, item, text, mark, config)

    monkeypatch.setattr(check_module, "verdict", fragile)
    with client([served_detectors["calibrated"]], batch_wait_ms=300) as c:
        out = {}

        def send(key, texts):
            out[key] = c.post("/v1/score", json={"texts": texts})

        threads = [threading.Thread(target=send, args=("bad", ["boom goes this one", LONG])),
                   threading.Thread(target=send, args=("good", [SERVE_HUMAN[2]]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert c.get("/healthz").json()["batching"]["largest_batch"] == 2  # the two requests shared a batch
    assert out["good"].status_code == 200 and out["good"].json()["results"][0]["error"] is None
    bad = out["bad"].json()["results"]
    assert bad[0]["error"] == "ValueError: verdict broke" and bad[1]["error"] is None


def test_a_detector_that_cannot_score_does_not_start(served_detectors, monkeypatch):
    from ovid.errors import OvidError

    svc = Service(ServeConfig(detectors=[served_detectors["calibrated"]]))
    det = svc.detectors[served_detectors["calibrated"]]
    monkeypatch.setattr(det, "_score", lambda texts, ids, progress: 1 / 0)
    with pytest.raises(OvidError, match="could not score a test text: ZeroDivisionError"):
        svc.start()


def test_the_page_is_self_contained(api):
    page = api.get("/").text
    assert "<textarea" in page and 'for="text"' in page and "/v1/score" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page  # no CDN


def test_pure_helpers():
    assert cut_to_tokens("ab cd ef", [(0, 2), (2, 5), (5, 8)], 2) == ("ab cd", 2, True)
    assert cut_to_tokens("ab", [(0, 2)], 5) == ("ab", 1, False)
    assert token_segments("ab  cd", [(0, 2), (4, 6)]) == ["ab  ", "cd"]
    assert token_segments(" x", [(1, 2)]) == [" x"]


def test_the_batcher_groups_what_arrives_together_and_can_be_switched_off():
    calls = []

    def run(group, items):
        calls.append((group, list(items)))
        time.sleep(0.05)
        return [f"{group}:{x}" for x in items]

    b = MicroBatcher(run, wait_s=0.1, max_tokens=1000)
    futures = [b.submit("g", [i], 1) for i in range(5)] + [b.submit("h", ["x"], 1)]
    assert [f.result(5) for f in futures] == [["g:0"], ["g:1"], ["g:2"], ["g:3"], ["g:4"], ["h:x"]]
    assert calls[0] == ("g", [0, 1, 2, 3, 4]) and calls[1] == ("h", ["x"])
    b.close()
    calls.clear()
    off = MicroBatcher(run, enabled=False)
    futures = [off.submit("g", [i, i], 2) for i in range(3)]
    assert [f.result(5) for f in futures] == [[f"g:{i}", f"g:{i}"] for i in range(3)]
    assert [len(items) for _, items in calls] == [2, 2, 2]
    off.close()
    full = MicroBatcher(run, wait_s=5.0, max_tokens=3)  # the token budget closes the batch, not the wait
    t = time.perf_counter()
    assert [f.result(5) for f in [full.submit("g", [i], 2) for i in range(2)]] == [["g:0"], ["g:1"]]
    assert time.perf_counter() - t < 4
    full.close()


def test_the_batcher_fails_what_is_left_when_it_closes_and_survives_a_bad_run():
    from ovid.serve.batcher import BatcherClosed

    started = threading.Event()

    def run(group, items):
        started.set()
        time.sleep(0.3)
        return [] if group == "short" else items

    b = MicroBatcher(run, enabled=False)
    bad = b.submit("short", [1], 1)
    with pytest.raises(RuntimeError, match="1 items gave 0 results"):
        bad.result(5)
    started.clear()
    first = b.submit("g", [1], 1)
    assert started.wait(5)
    waiting = b.submit("g", [2], 1)  # queued behind the running batch when close() comes
    b.close()
    assert first.result(5) == [1]
    with pytest.raises(BatcherClosed):
        waiting.result(5)
    assert b.stats.failed == 1 and not b.alive()


def test_a_foreign_host_is_refused_and_every_answer_carries_the_security_headers(api, served_detectors):
    """DNS rebinding: a page elsewhere that points its own name at 127.0.0.1 sends its own Host."""
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""):
        r = api.get("/v1/detectors", headers={"Host": host})
        assert r.status_code == 400, host
        assert r.json()["field"] == "Host" and "--allowed-host" in r.json()["error"]
        assert r.headers["x-frame-options"] == "DENY"
    for host in ("localhost:8000", "127.0.0.1", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"):
        assert api.get("/healthz", headers={"Host": host}).status_code == 200, host
    page = api.get("/")
    assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
    csp = dict(p.strip().split(" ", 1) for p in page.headers["content-security-policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'none'" and csp["connect-src"] == "'self'"
    # the page's one script runs (named by its hash), nothing else: no CDN, no inline handler
    import base64
    import hashlib
    import re
    (script,) = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert csp["script-src"] == f"'sha256-{digest}'"
    assert "http" not in page.headers["content-security-policy"]
    assert api.get("/docs").status_code == 404 and api.get("/openapi.json").status_code == 200


def test_allowed_hosts_and_the_docs_are_the_users_to_open(served_detectors):
    with client([served_detectors["tfidf"]], allowed_hosts=["detector.lan"], docs=True) as c:
        assert c.get("/healthz", headers={"Host": "detector.lan:8000"}).status_code == 200
        assert c.get("/healthz", headers={"Host": "other.lan"}).status_code == 400
        docs = c.get("/docs")
        assert docs.status_code == 200 and "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    with client([served_detectors["tfidf"]], allowed_hosts=["*"]) as c:
        assert c.get("/healthz", headers={"Host": "anything.example"}).status_code == 200


def test_a_stalled_body_gets_408_after_the_read_timeout(served_detectors):
    import asyncio

    app = create_app(Service(ServeConfig(detectors=[served_detectors["tfidf"]], warm_up=False, read_timeout_s=0.2)))
    sent = []

    async def receive():
        if not sent and not getattr(receive, "first", False):
            receive.first = True  # the first 10 of a promised 100 bytes, then nothing
            return {"type": "http.request", "body": b'{"texts": ', "more_body": True}
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/score", "raw_path": b"/v1/score", "query_string": b"",
             "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"), (b"content-length", b"100")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5),
             "root_path": "", "app": app}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))  # never answered: TimeoutError, a failure
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 408 and b"no data for 0.2 s (--read-timeout-s)" in body


def test_segments_come_with_the_score_when_asked(served_detectors, monkeypatch):
    from ovid.detect import segments as sg

    width = len(sg.SENTENCE_FEATURES)
    one = sg.Logistic([0.0] * width, [1.0] * width, [1.0] + [0.0] * (width - 1), 0.0)
    seg = sg.SegmentModel(model="tiny", recipe="fold", sentence=one, span=one, switch=0.05, p_start=0.5,
                          threshold=1e9, target_fpr=0.01, min_sentences=2, min_tokens=4)
    text = "My own first line is here. A second line of mine follows. Then a third one ends it."
    with client([served_detectors["calibrated"], served_detectors["tfidf"]]) as c:
        plain = c.post("/v1/score", json={"texts": [text]}).json()["results"][0]
        assert plain["segments"] is None
        r = c.post("/v1/score", json={"texts": [text], "segments": True})
        assert r.status_code == 422 and r.json()["field"] == "segments" and "no segment model" in r.json()["error"]
        r = c.post("/v1/score", json={"texts": [text], "segments": True, "detector": served_detectors["tfidf"]})
        assert r.status_code == 422 and "reads no language model's tokens" in r.json()["error"]
        monkeypatch.setattr(sg, "shipped_model", lambda name: seg)
        got = c.post("/v1/score", json={"texts": [text], "segments": True}).json()["results"][0]
        assert got["score"] == plain["score"]  # the spans add to the answer, they change nothing in it
        spans = got["segments"]["spans"]
        assert spans[0]["start"] == 0 and spans[-1]["end"] == len(text)
        assert sum(s["sentences"] for s in spans) == 3 and all(s["verdict"] != "machine" for s in spans)
        assert got["segments"]["target_fpr"] == 0.01 and "no verdict of its own" in got["segments"]["note"]
        r = c.post("/v1/score", json={"texts": [text], "segments": "yes"})
        assert r.status_code == 422 and r.json()["field"] == "segments"


def test_ovid_check_answers_each_text_as_the_service_does(served_detectors):
    import ovid
    from ovid.detect.verdicts import Check

    tampered = SERVE_HUMAN[1].replace("e", "\u0435")  # Cyrillic look-alikes
    texts = [LONG, "Too short.", tampered]
    found = ovid.check(texts, detector=served_detectors["calibrated"], short_tokens=100, max_tokens=400)
    assert all(isinstance(c, Check) for c in found) and len(found) == 3
    det = load_detector(served_detectors["calibrated"])
    long = found[0]
    assert long.threshold == det.threshold_ and long.target_fpr == det.calibration_["target_fpr"]
    assert long.verdict == ("machine" if long.score >= det.threshold_ else "not-flagged")
    assert_stated_at_its_prior(long.to_dict(), det.calibration_)
    assert long.truncated and long.tokens_scored <= 400 and [w.code for w in long.warnings] == ["truncated"]
    assert "too-short" in [w.code for w in found[1].warnings]
    assert "tampering" in [w.code for w in found[2].warnings] and found[2].tampering > 0
    with client([served_detectors["calibrated"]], short_tokens=100, max_tokens=400) as c:
        served = c.post("/v1/score", json={"texts": texts}).json()["results"]
    assert [f.to_dict() for f in found] == served  # one computation behind both


def test_ovid_check_without_a_threshold_says_so(served_detectors):
    import ovid

    (plain,) = ovid.check([LONG], detector=served_detectors["plain"])
    assert plain.verdict is None and plain.p_machine is None and plain.score is not None
    assert "uncalibrated" in [w.code for w in plain.warnings]
    assert plain.to_dict()["warnings"][-1]["code"] == "uncalibrated"
    with pytest.raises(ValueError, match="max_tokens must be"):
        ovid.check([LONG], detector=served_detectors["plain"], max_tokens=1)
