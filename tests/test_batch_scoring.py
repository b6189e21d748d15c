"""A detector as a batch function in Hugging Face `datasets`' map (the Ray path is in test_ray.py)."""
from __future__ import annotations

import numpy as np

from conftest import needs_shared, xsum_openings


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
    assert all(0 <= p <= 1 for p in scored["p_machine"]) and scored["label"] == [0] * 6 + [1] * 6
