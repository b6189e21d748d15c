"""The data the default detector is chosen and measured on (benchmarks/modern_data.py,
cue_features.py): the cues modern/PROVENANCE.md lists are stripped from both sides, and a
rewrite is split with the text it rewrites."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from cue_features import CUE_NAMES, cue_vector  # noqa: E402
from modern_data import MODERN, decue, file_texts, modern_files  # noqa: E402

needs_modern = pytest.mark.skipif(not MODERN.exists(), reason="../shared/data/modern not present")


@pytest.mark.parametrize("raw, clean", [
    ("**Flash Floods Strike the Mendips**Residents of the Mendips are cleaning up.", "Residents of the Mendips are cleaning up."),
    ("**Here's the requested news article**:The Arts Council of Wales is facing criticism.",
     "The Arts Council of Wales is facing criticism."),
    ("Title: The Hunter Becomes the Hunted\n\nEach tap on the keyboard echoed.", "Each tap on the keyboard echoed."),
    ("Here is a 300 word story for the prompt:\n\nThe door opened.", "The door opened."),
    ("Sure, here's a news article about the strike:\nBus drivers walked out.", "Bus drivers walked out."),
    ("Title: UK Government Commits £100m to Educate GirlsIn a bold move, ministers acted.",
     "In a bold move, ministers acted."),
    ("He was fined Â£50.It will be paid.\nMedia playback is not supported on this deviceHe left.",
     "He was fined £50. It will be paid. He left."),
    ("[ WP ] The moon fell.\nEveryone\n\nran.", "The moon fell. Everyone ran."),
    # ordinary openings are left alone
    ("Ewan McGregor, Ewen Bremner and Robert Carlyle are set to return.", "Ewan McGregor, Ewen Bremner and Robert Carlyle are set to return."),
    ("The Bectu union said industrial action was the only option left.", "The Bectu union said industrial action was the only option left."),
])
def test_decue_strips_the_listed_cues_and_nothing_else(raw, clean):
    assert decue(raw) == clean


def test_cue_vector_counts_surface_features():
    v = dict(zip(CUE_NAMES, cue_vector("**Title**\n\nHello, world! Is it? Yes.")))
    assert v["starts_with_preface"] == 1 and v["blank_lines_per_100w"] > 0 and v["exclaims_per_100w"] > 0
    assert dict(zip(CUE_NAMES, cue_vector("plain words here")))["starts_with_preface"] == 0
    assert len(CUE_NAMES) == len(cue_vector("x"))


@needs_modern
def test_paired_rewrites_land_on_the_side_of_the_text_they_rewrite():
    assert len(modern_files()) == 12
    texts = file_texts("mixed-rewrite_gpt-4o")
    human, machine = [t for t in texts if t.label == 0], [t for t in texts if t.label == 1]
    assert len(human) == len(machine) == 177
    assert all(h.key == m.key and h.test == m.test for h, m in zip(human, machine))
    assert 0.35 < np.mean([t.test for t in human]) < 0.65
    unpaired = file_texts("xsum_palm-2")
    assert {t.generator for t in unpaired} == {"palm-2"} and not any(t.shippable for t in unpaired)
    assert not any(t.text.startswith(("**", "Title:", "Here")) for t in unpaired)
