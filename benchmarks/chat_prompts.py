"""Prompt files for chat-era training text: the training-half human articles of each domain
(benchmarks/default_data.py), one JSONL per domain, for `ovid generate --chat`. Held-out
articles never prompt a model. The instructions per domain are in INSTRUCTIONS."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_data import DOMAINS, GENERATORS, file_texts, split  # noqa: E402

INSTRUCTIONS = {"xsum": "Write a news article that begins: {prompt}",
                "writing": "Write a short story that begins: {prompt}",
                "squad": "Write an encyclopedia paragraph that begins: {prompt}"}
PER_DOMAIN = 60


def write_prompts(folder: Path, per_domain: int = PER_DOMAIN) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for d in DOMAINS:
        train, _ = split(file_texts(d, GENERATORS[0]))
        humans = [t for t in train if t.label == 0][:per_domain]
        out[d] = folder / f"prompts_{d}.jsonl"
        out[d].write_text("".join(json.dumps({"id": f"{d}/{i}", "text": t.text}) + "\n"
                                  for i, t in enumerate(humans)), encoding="utf-8")
    return out


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / ".cache" / "chat"
    for d, p in write_prompts(folder).items():
        print(f"ovid generate --model smollm2-135m --chat --instruction '{INSTRUCTIONS[d]}' --prompts {p} "
              f"--decoding top-p --top-p 0.9 --temperature 0.7 --max-tokens 200 --batch-size 20 "
              f"--out {folder / f'smollm2_chat_{d}.jsonl'}")
