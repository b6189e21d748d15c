"""Which normalisation steps the defence needs, and what each costs on clean text: Fast-DetectGPT
with SmolLM2-135M on the held-out half of xsum_gpt2-xl (first 200 pairs, split by article),
clean and under each character attack, with each recipe.

    python benchmarks/bench_normalization.py

Recipes: none; repair (format characters, NFKC, confusables, whitespace); repair + lower case;
repair + digits as 0; repair + line breaks as spaces; fold (all three, ovid's default).
Machine texts attacked (RAID's rates, seeded per text), human texts clean (RAID's protocol).
Also counts line breaks per text in each domain's human and machine texts."""
from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_data import STATS_CACHE, file_texts, split  # noqa: E402

from ovid.attack import CHARACTER, attack_spec  # noqa: E402
from ovid.detect import features  # noqa: E402
from ovid.detect.engine import EngineConfig, get_engine  # noqa: E402
from ovid.metrics import auroc_of  # noqa: E402
from ovid.normalize import normalize  # noqa: E402

from _machine import describe  # noqa: E402


def repair(t: str) -> str:
    return normalize(t, "repair").text


RECIPES = {
    "none": lambda t: t,
    "repair": repair,
    "repair + lower case": lambda t: repair(t).lower(),
    "repair + digits as 0": lambda t: re.sub(r"\d", "0", repair(t)),
    "repair + line breaks as spaces": lambda t: re.sub(r"\n+", " ", repair(t)),
    "fold (default)": lambda t: normalize(t, "fold").text,
}


def main() -> None:
    print(describe())
    for d in ("xsum", "writing", "squad"):
        ts = file_texts(d, "gpt2-xl")
        for lab, name in ((0, "human"), (1, "machine")):
            n = [t.text.count("\n") for t in ts if t.label == lab]
            print(f"{d} {name}: {np.mean(n):.2f} line breaks per text, {np.mean([x > 0 for x in n]):.0%} have any")
    _, test = split(file_texts("xsum", "gpt2-xl"))
    human = [t.text for t in test if t.label == 0]
    machine = [t.text for t in test if t.label == 1]
    attacked = {a: [attack_spec(a).fn(t, attack_spec(a).rate, random.Random(f"0:{a}:{i}")).text
                    for i, t in enumerate(machine)] for a in CHARACTER}
    eng = get_engine(EngineConfig(model="smollm2-135m", dtype="bfloat16", cache_dir=str(STATS_CACHE)))

    def fdg(texts):
        return np.array([features.fast_detectgpt(s) for s in eng.token_stats(texts)])

    print(f"{len(human)} human, {len(machine)} machine held-out texts; AUROC, machine side attacked")
    print("recipe | clean | " + " | ".join(CHARACTER))
    for name, f in RECIPES.items():
        h = fdg([f(t) for t in human])
        row = [auroc_of(h, fdg([f(t) for t in machine]))] + [auroc_of(h, fdg([f(t) for t in attacked[a]]))
                                                              for a in CHARACTER]
        print(f"{name} | " + " | ".join(f"{v:.3f}" for v in row), flush=True)


if __name__ == "__main__":
    main()
