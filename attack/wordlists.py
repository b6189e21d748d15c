"""Word lists the spelling attacks read from well-kept packages, never typed by hand:
- US -> UK spellings: breame (Apache-2.0), whose table is the hyperreality
  American-British-English-Translator list (MIT) that RAID fetches at run time;
- misspellings: codespell's dictionary (data CC BY-SA 3.0, grown from Wikipedia's "Lists of
  common misspellings"), inverted to word -> misspellings. The file is read as data; codespell's
  code is never imported."""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from ovid.errors import OvidError


@lru_cache(maxsize=1)
def us_to_uk() -> dict[str, str]:
    from breame.data.spelling_constants import AMERICAN_ENGLISH_SPELLINGS

    return {us: uk for us, uk in AMERICAN_ENGLISH_SPELLINGS.items() if us.isalpha() and uk.isalpha() and us != uk}


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise OvidError(f"the misspelling attack needs the {name} package's word list: pip install codespell")
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=1)
def misspellings() -> dict[str, list[str]]:
    """{correct lower-case word: [its common misspellings]}, from codespell's main dictionary
    (lines `misspelling->correction`; lines with several corrections are ambiguous and skipped)."""
    out: dict[str, list[str]] = {}
    path = _package_folder("codespell_lib") / "data" / "dictionary.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        wrong, _, right = line.partition("->")
        right = right.strip().rstrip(",")
        if wrong.isalpha() and right.isalpha() and wrong.islower() and right.islower() and "," not in right:
            out.setdefault(right, []).append(wrong)
    return out
