"""Conformance: every registered detector follows the protocol (a shared check, as in
scikit-learn's check_estimator), with a tiny model built in the test."""
import json

import numpy as np
import pytest

from ovid import load_detector, make_detector
from ovid.detect import NotFittedError, detector_names
from ovid.detect.registry import detector_class
from ovid.errors import OvidError

HUMAN = ["I walked to the market on Sunday and bought apples, bread and a newspaper for my aunt.",
         "Our team lost the final after extra time; the coach blamed the wet pitch and tired legs.",
         "She wrote letters every winter, long ones, about the river, the mill and the neighbours.",
         "The council voted to close the library early on Fridays, which angered many residents.",
         "He fixed the old radio with a paperclip and it played jazz until the battery died.",
         "Rain again. The cat sleeps on the printer, and the kettle has started to whistle oddly."] * 2
MACHINE = ["The detector scores every token of a text with a language model. " * 2,
           "Machine text tends to have higher likelihood than human text. " * 2,
           "The quick brown fox jumps over the lazy dog. " * 3,
           "People found the samples convincing, and detectors caught most of them. " * 2,
           "The GPT-2 release happened in stages: small, medium, large and extra large. " * 2,
           "A detector scores every token of a text with a language model. " * 2] * 2
HUMAN = [f"Note {i}. {t}" for i, t in enumerate(HUMAN)]  # one source document each
MACHINE = [f"Item {i}. {t}" for i, t in enumerate(MACHINE)]
TEXTS = HUMAN + MACHINE
LABELS = [0] * len(HUMAN) + [1] * len(MACHINE)


def params_for(name, tiny_lm, tiny_encoder=None):
    if name == "tfidf":
        return {}
    if name == "classifier":
        return {"backbone": tiny_encoder, "max_length": 24, "epochs": 2, "batch_size": 8, "lr": 1e-3}
    if name == "ensemble":
        return {"models": [tiny_lm]}
    if name == "watermark":
        return {"model": tiny_lm, "key": 12345}
    return {"model": tiny_lm}


@pytest.fixture(scope="module", params=detector_names())
def fitted(request, tiny_lm, tiny_encoder):
    det = make_detector(request.param, **params_for(request.param, tiny_lm, tiny_encoder))
    assert det.fit(TEXTS, LABELS) is det
    return det


def test_init_only_stores_parameters(tiny_lm, tiny_encoder):
    for name in detector_names():
        params = params_for(name, tiny_lm, tiny_encoder)
        det = make_detector(name, **params)
        assert det.name == name
        assert {k: det.get_params()[k] for k in params} == params
        assert not [k for k in vars(det) if k.endswith("_")], "no learned state before fit"


def test_protocol_outputs(fitted):
    s = fitted.decision_function(TEXTS[:5])
    assert isinstance(s, np.ndarray) and s.shape == (5,) and s.dtype == np.float64 and np.isfinite(s).all()
    p = fitted.predict_proba(TEXTS[:5])
    assert p.shape == (5, 2) and np.allclose(p.sum(1), 1) and ((p >= 0) & (p <= 1)).all()
    assert set(fitted.predict(TEXTS).tolist()) <= {0, 1}
    if not fitted.trained:  # calibrated on these very texts: at most 1% of human ones pass
        assert np.mean(fitted.decision_function(HUMAN) >= fitted.threshold_) <= 0.01 + 1e-9


def test_save_load_round_trip_identical_scores(fitted, tmp_path):
    folder = fitted.save(tmp_path / fitted.name)
    config = json.loads((folder / "config.json").read_text())
    assert config["detector"] == fitted.name and config["params"] == fitted.get_params()
    again = load_detector(folder)
    assert type(again) is type(fitted) and again.get_params() == fitted.get_params()
    np.testing.assert_array_equal(again.decision_function(TEXTS), fitted.decision_function(TEXTS))
    assert again.threshold_ == fitted.threshold_
    np.testing.assert_array_equal(again.predict_proba(TEXTS), fitted.predict_proba(TEXTS))


@pytest.mark.parametrize("name", ["tfidf", "gltr", "ensemble"])
def test_trained_detectors_learn_the_sign(name, tiny_lm):
    det = make_detector(name, **params_for(name, tiny_lm)).fit(TEXTS, LABELS)
    s = det.decision_function(TEXTS)
    assert s[len(HUMAN):].mean() > s[:len(HUMAN)].mean()


def test_tampered_state_file_is_refused(tmp_path):
    det = make_detector("tfidf").fit(TEXTS, LABELS)
    folder = det.save(tmp_path / "d")
    data = bytearray((folder / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.skops").write_bytes(bytes(data))
    with pytest.raises(OvidError, match=r"model.skops: contents do not match the hash in config.json"):
        load_detector(folder)


def test_untrusted_skops_type_is_refused_even_with_a_matching_hash(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from ovid.detect.persistence import sha256_file

    det = make_detector("tfidf").fit(TEXTS, LABELS)
    folder = det.save(tmp_path / "d")
    sio.dump(FunctionTransformer(func=np.exp), folder / "model.skops")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["files"]["model.skops"] = sha256_file(folder / "model.skops")
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(OvidError, match=r"refusing to load a FunctionNode \(numpy.exp\)"):
        load_detector(folder)


def _rewrite_schema(folder, edit, edit_text=lambda text: text):
    """Edit model.skops's schema.json and re-hash it in config.json: a hostile file that passes
    the hash check."""
    import zipfile

    from ovid.detect.persistence import sha256_file

    path = folder / "model.skops"
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["schema.json"] = edit_text(json.dumps(edit(json.loads(files["schema.json"])))).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["files"]["model.skops"] = sha256_file(path)
    (folder / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize("loader", ["MethodNode", "FunctionNode", "OperatorFuncNode", "PartialNode",
                                    "ConstructorFromReduceNode", "ReduceNode"])
def test_a_skops_node_that_runs_code_is_refused_even_when_it_names_a_trusted_type(tmp_path, loader):
    """ndarray.tofile as TfidfVectorizer's analyzer, dressed as numpy.ndarray (a trusted type)."""
    det = make_detector("tfidf").fit(TEXTS, LABELS)
    folder = det.save(tmp_path / "d")

    def plant(schema):
        stack = [schema]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("__class__") == "TfidfVectorizer":
                    node["content"]["content"]["analyzer"] = {
                        "__class__": "ndarray", "__module__": "numpy", "__loader__": loader,
                        "content": {"func": "tofile", "obj": {"__class__": "ndarray", "__module__": "numpy",
                                                              "__loader__": "NdArrayNode", "type": "json",
                                                              "content": "[1]"}}}
                    return schema
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        raise AssertionError("no TfidfVectorizer in the schema")

    _rewrite_schema(folder, plant)
    with pytest.raises(OvidError, match=rf"model.skops: refusing to load a {loader} \(numpy.ndarray\): not a kind"):
        load_detector(folder)


def test_a_skops_schema_nested_deep_is_one_refusal(tmp_path):
    det = make_detector("tfidf").fit(TEXTS, LABELS)
    folder = det.save(tmp_path / "d")
    deep = "[" * 100_000 + "]" * 100_000
    _rewrite_schema(folder, lambda schema: schema, lambda text: text[:-1] + f', "deep": {deep}}}')
    with pytest.raises(OvidError, match=r"model.skops: not a skops file \(RecursionError"):
        load_detector(folder)


def test_foreign_or_broken_folders_fail_clearly(tmp_path):
    with pytest.raises(OvidError, match="not a saved detector"):
        load_detector(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(OvidError, match="config.json: not valid JSON"):
        load_detector(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(OvidError, match="not an ovid detector config"):
        load_detector(tmp_path)


def test_registry_errors_suggest_names():
    with pytest.raises(OvidError, match="unknown detector 'fast-detect'; did you mean fast-detectgpt"):
        make_detector("fast-detect")
    with pytest.raises(OvidError, match="detector 'tfidf' takes no parameter model"):
        make_detector("tfidf", model="x")
    assert detector_class("lrr").name == "lrr"


def test_unfitted_use_is_a_clear_error(tiny_lm):
    with pytest.raises(NotFittedError, match="tfidf must be trained first"):
        make_detector("tfidf").decision_function(["x"])
    with pytest.raises(NotFittedError, match="call fit"):
        make_detector("likelihood", model=tiny_lm).predict(["some text"])


def test_import_has_no_side_effects():
    """Importing the packages (the CLI included) loads no model or data stack and leaves torch's
    global state alone."""
    import subprocess
    import sys
    code = ("import sys, ovid, ovid.detect, ovid.generate, ovid.overlap, ovid.reports, ovid.serve, ovid.cli; "
            "heavy = sorted(m for m in ('torch', 'transformers', 'datasets', 'sklearn', 'scipy', 'pandas', "
            "'matplotlib') if m in sys.modules); "
            "import torch; print(heavy, torch.is_grad_enabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["[]", "True"], out.stderr


def test_ensemble_on_pooled_hidden_states_and_token_distributions(tiny_lm, tmp_path):
    from ovid.detect.engine import get_engine
    from ovid.detect.features import DISTRIBUTION_NAMES, FEATURE_NAMES

    det = make_detector("ensemble", models=[tiny_lm], features="hidden", pool_layers=[1, -1]).fit(TEXTS, LABELS)
    width = get_engine(det.engine_config()).model.config.hidden_size
    X = det._features(det.prepare(TEXTS[:3]))
    assert X.shape == (3, len(FEATURE_NAMES) + len(DISTRIBUTION_NAMES) + 2 * width)
    pooled = get_engine(det.engine_config()).token_stats(det.prepare(TEXTS[:1]))[0].pooled
    np.testing.assert_allclose(X[0, -2 * width:], pooled.ravel(), rtol=1e-6)  # the engine's, as it pooled them
    s = det.decision_function(TEXTS)
    assert s[len(HUMAN):].mean() > s[:len(HUMAN)].mean()
    again = load_detector(det.save(tmp_path / "d"))
    assert again.features == "hidden" and again.pool_layers == [1, -1]
    np.testing.assert_array_equal(again.decision_function(TEXTS), s)
    dist = make_detector("ensemble", models=[tiny_lm], features="distributions").fit(TEXTS, LABELS)
    assert dist._features(dist.prepare(TEXTS[:2])).shape == (2, len(FEATURE_NAMES) + len(DISTRIBUTION_NAMES))


@pytest.mark.parametrize("params, message", [
    ({"features": "everything"}, "features must be one of stats, distributions, hidden"),
    ({"features": "hidden"}, "features='hidden' needs pool_layers"),
    ({"pool_layers": [3]}, "features='hidden' needs pool_layers .* and pool_layers needs features='hidden'"),
    ({"features": "hidden", "pool_layers": "3"}, "pool_layers must be a list of layer indices"),
])
def test_ensemble_feature_settings_are_checked(params, message):
    with pytest.raises(OvidError, match=message):
        make_detector("ensemble", **params)
