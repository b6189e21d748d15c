import numpy as np
import pytest

from ovid.detect.calibration import apply_calibration, calibrate_scores, fit_calibration
from ovid.metrics import clopper_pearson, summary, threshold_at_fpr, tpr_at_fpr


def test_threshold_lets_through_at_most_target_fpr():
    human = np.arange(100, dtype=float)  # 0..99
    t = threshold_at_fpr(human, 0.01)
    assert np.mean(human >= t) == 0.01 and 98 < t <= 99
    assert threshold_at_fpr(human, 0.0) > 99
    assert threshold_at_fpr(human, 1.0) == float("-inf")


def test_tpr_at_fpr_and_summary():
    labels = np.array([0] * 100 + [1] * 4)
    scores = np.concatenate([np.arange(100.0), [99.5, 200, 50, 98.5]])
    assert tpr_at_fpr(labels, scores, 0.01) == 0.75  # threshold just above 98
    m = summary(labels, scores)
    assert m["n"] == 104 and m["n_machine"] == 4 and m["tpr_at_0.01_fpr"] == 0.75
    assert m["auroc"] == pytest.approx((1 + 1 + 0.505 + 0.99) / 4)  # P(machine > human), ties half
    assert "auroc" not in summary(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_is_monotone_json_and_sensible(method):
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(0, 1, 300), rng.normal(2, 1, 300)])
    labels = np.array([0] * 300 + [1] * 300)
    cal = fit_calibration(scores, labels, method)
    import json
    assert json.loads(json.dumps(cal)) == cal
    p = apply_calibration(cal, np.array([-3.0, 1.0, 5.0]))
    assert p[0] < 0.1 and 0.3 < p[1] < 0.7 and p[2] > 0.9
    full = calibrate_scores(scores, labels, 0.05, method)
    assert np.mean(scores[:300] >= full["threshold"]) <= 0.05


def test_auroc_is_mann_whitney_and_agrees_with_sklearn_under_ties():
    from sklearn.metrics import roc_auc_score

    from ovid.metrics import auroc, auroc_of
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 6, 400).astype(float)  # many ties
    labels = rng.integers(0, 2, 400)
    assert auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert auroc_of(np.array([0.0, 1.0]), np.array([1.0, 2.0])) == 0.875  # 3 wins + 1 tie of 4
    with pytest.raises(ValueError, match="both human"):
        auroc(np.ones(3), np.arange(3.0))


def test_clopper_pearson_never_claims_certainty():
    lo, hi = clopper_pearson(0, 50)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 50)) and hi == pytest.approx(0.0711, abs=1e-4)
    assert clopper_pearson(50, 50) == pytest.approx((1 - hi, 1.0))  # the mirror image
    lo, hi = clopper_pearson(7, 20)
    assert lo < 7 / 20 < hi
    assert all(np.isnan(clopper_pearson(0, 0)))
