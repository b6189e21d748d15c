"""The language check reads py3langid's model from an uncompressed copy in ovid's cache, with
the same answers as the packaged model, and falls back to the packaged one when the copy fails."""
from __future__ import annotations

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from ovid.detect import text_checks

TEXTS = ["This is an English sentence about the weather today, and it is long enough to tell.",
         "Ceci est une phrase en français sur le temps qu'il fait aujourd'hui, assez longue pour juger.",
         "Das ist ein deutscher Satz über das Wetter heute, und er ist lang genug, um es zu erkennen."]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OVID_CACHE_DIR", str(tmp_path))
    text_checks._identifier.cache_clear()
    yield tmp_path
    text_checks._identifier.cache_clear()


def test_cached_model_answers_as_the_packaged_one(fresh_cache):
    packaged = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    assert [text_checks.guess_language(t)[0] for t in TEXTS] == ["en", "fr", "de"]
    copies = list((fresh_cache / "langid").glob("model-*.npz"))
    assert len(copies) == 1 and copies[0].stat().st_size > 10_000_000
    assert not list((fresh_cache / "langid").glob("*.tmp"))
    text_checks._identifier.cache_clear()  # now read from the copy
    for t in TEXTS:
        assert text_checks._identifier().classify(t) == packaged.classify(t)


def test_a_damaged_copy_falls_back_to_the_packaged_model(fresh_cache):
    text_checks.guess_language(TEXTS[0])
    copy = next((fresh_cache / "langid").glob("model-*.npz"))
    copy.write_bytes(b"not a numpy archive")
    text_checks._identifier.cache_clear()
    assert text_checks.guess_language(TEXTS[1])[0] == "fr"
