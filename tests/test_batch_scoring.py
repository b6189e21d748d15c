"""A detector as a batch function in Hugging Face `datasets`' map (the Ray path is in test_ray.py)."""
from __future__ import annotations

import numpy as np

from conftest import SERVE_HUMAN, TRAIN_TEXT, needs_shared, xsum_openings
from test_page_verdicts import calibrated_rising


@needs_shared
def test_the_same_batch_function_drops_into_datasets_map(tiny_lm, tmp_path):
    import datasets

    from ovid import make_detector
    from ovid.detect.batch_scoring import ScoreBatch

    texts = xsum_openings(12)
    det = make_detector("fast-detectgpt", model=tiny_lm, dtype="float32").fit(texts, [0] * 6 + [1] * 6)
    det.save(tmp_path / "det")
    ds = datasets.Dataset.from_dict({"text": texts, "label": [0] * 6 + [1] * 6})
    scored = ds.map(ScoreBatch(str(tmp_path / "det")), batched=True, batch_size=4, load_from_cache_file=False)
    np.testing.assert_allclose(scored["score"], det.decision_function(texts), atol=1e-5, rtol=0)
    assert scored["machine"] == [int(s >= det.threshold_) for s in scored["score"]]
    assert scored["label"] == [0] * 6 + [1] * 6
    prior = det.stated_prior()
    if prior is None:  # the random tiny LM's calibration can fall: no P(machine) is stated, as in ovid score
        assert np.isnan(scored["p_machine"]).all() and np.isnan(scored["prior"]).all()
    else:  # as ovid score and ovid.check state it: at the threshold's prior, on the verdict's side
        np.testing.assert_allclose(scored["p_machine"], det.p_machine(scored["score"]), atol=1e-6)
        assert set(scored["prior"]) == {float(f"{prior:.6g}")}
        assert all(p >= 0.5 if m else p <= 0.5 for p, m in zip(scored["p_machine"], scored["machine"]))


def test_the_batch_function_states_p_machine_as_ovid_score_does(tiny_lm, tmp_path):
    import datasets

    from ovid import load_detector
    from ovid.detect.batch_scoring import ScoreBatch

    folder = calibrated_rising(tiny_lm, tmp_path / "rising")  # a rising calibration: P(machine) is stated
    det, texts = load_detector(folder), TRAIN_TEXT[:5] + SERVE_HUMAN
    ds = datasets.Dataset.from_dict({"text": texts})
    scored = ds.map(ScoreBatch(folder), batched=True, batch_size=4, load_from_cache_file=False)
    assert set(scored["machine"]) == {0, 1} and set(scored["prior"]) == {float(f"{det.stated_prior():.6g}")}
    np.testing.assert_allclose(scored["p_machine"], det.p_machine(scored["score"]), atol=1e-6)
    assert all(p >= 0.5 if m else p <= 0.5 for p, m in zip(scored["p_machine"], scored["machine"]))
