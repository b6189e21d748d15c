"""Every registered detector is a scikit-learn classifier over texts: `clone`, `Pipeline`,
`cross_val_score` and the estimator checks that apply to text input."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

from ovid import make_detector
from ovid.detect.registry import detector_names

NAMES = ["Anna", "Bert", "Chloe", "Dev", "Ella", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Milo", "Nia",
         "Omar", "Pia", "Quin", "Rosa", "Sami", "Tove", "Uma", "Vik", "Wen", "Xia"]
HUMAN = [f"{n} walked to the market on day {i} and the baker, who knows {n}, asked after a sister's dog."
         for i, n in enumerate(NAMES)]
MACHINE = [f"{n} the the the of of of model {i} and and and the the the of of." for i, n in enumerate(NAMES)]
TEXTS, LABELS = HUMAN + MACHINE, [0] * 24 + [1] * 24


def params_for(name: str, tiny_lm: str, tiny_encoder: str) -> dict:
    """Tiny, offline settings for each built-in detector."""
    lm = {"model": tiny_lm}
    return {"likelihood": lm, "logrank": lm, "entropy": lm, "lrr": lm, "fast-detectgpt": lm, "gltr": lm,
            "binoculars": {**lm, "reference_model": tiny_lm}, "tfidf": {},
            "classifier": {"backbone": tiny_encoder, "epochs": 1, "batch_size": 4, "max_length": 32},
            "ensemble": {"models": [tiny_lm]}, "watermark": {**lm, "key": 1}}[name]


@pytest.fixture(params=detector_names())
def detector(request, tiny_lm, tiny_encoder):
    return make_detector(request.param, **params_for(request.param, tiny_lm, tiny_encoder))


def test_every_detector_clones_with_the_same_parameters(detector):
    copy = clone(detector)
    assert type(copy) is type(detector) and copy is not detector
    assert copy.get_params(deep=False) == detector.get_params(deep=False)
    assert is_classifier(detector) and list(detector.classes_) == [0, 1]
    first = next(iter(detector.get_params(deep=False)))
    assert copy.set_params(**{first: detector.get_params()[first]}) is copy


def test_every_detector_fits_in_a_pipeline_and_cross_validates(detector):
    pipe = Pipeline([("strip", FunctionTransformer(lambda xs: [x.strip() for x in xs])), ("detect", detector)])
    pipe.fit(TEXTS, LABELS)
    assert set(pipe.predict(TEXTS)) <= {0, 1} and pipe.predict_proba(TEXTS).shape == (48, 2)
    assert pipe.decision_function(TEXTS).shape == (48,)
    p = detector.p_machine(pipe.decision_function(TEXTS))  # stated at the threshold's prior: sides with predict
    assert (p is None) == (detector.stated_prior() is None)
    if p is not None:  # even odds at a score a rounding step off the threshold can go either way
        flagged = pipe.predict(TEXTS) == 1
        assert (p[flagged] >= 0.5).all() and (p[~flagged] <= 0.5).all()
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    auc = cross_val_score(detector, TEXTS, LABELS, cv=folds, scoring="roc_auc", error_score="raise")
    acc = cross_val_score(detector, TEXTS, LABELS, cv=folds, error_score="raise")  # the estimator's own score
    assert auc.shape == acc.shape == (2,) and ((0 <= auc) & (auc <= 1)).all() and ((0 <= acc) & (acc <= 1)).all()


TEXT_CHECKS = ("check_get_params_invariance", "check_set_params", "check_no_attributes_set_in_init",
               "check_parameters_default_constructible", "check_do_not_raise_errors_in_init_or_set_params",
               "check_estimator_repr", "check_estimator_cloneable", "check_estimator_tags_renamed",
               "check_valid_tag_types", "check_estimator_sparse_tag", "check_mixin_order")


@pytest.mark.parametrize("check", TEXT_CHECKS)
def test_the_estimator_checks_that_apply_to_texts_pass(detector, check):
    fn = getattr(estimator_checks, check, None)
    if fn is None:
        pytest.skip(f"this scikit-learn has no {check}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        fn(type(detector).__name__, detector)


def test_score_with_labels_is_accuracy_and_without_is_deprecated(tiny_lm):
    det = make_detector("likelihood", model=tiny_lm).fit(TEXTS, LABELS)
    expected = float(np.mean(det.predict(TEXTS) == np.array(LABELS)))
    assert det.score(TEXTS, LABELS) == pytest.approx(expected)
    with pytest.warns(FutureWarning, match="use decision_function"):
        old = det.score(TEXTS)
    np.testing.assert_array_equal(old, det.decision_function(TEXTS))
