"""A corpus's prompts and batches: the prompts as token ids, and `BatchGenerator`, a loaded model
that turns batch b into its rows. Batch b is seeded by (seed, b) alone, so the local engine and
Ray's actors write the same rows."""
from __future__ import annotations

from typing import Iterable

from ovid.corpus import Record, read_corpus
from ovid.errors import CorpusError, OvidError
from ovid.models import document_token_id, load_causal_lm

from .config import GenerationConfig
from .sampling import sample_batch


def stop_token_ids(model, tokenizer, doc_id: int) -> set[int]:
    """Every token that ends a document for this model (EOS ids and the document separator)."""
    ids = {doc_id}
    eos = model.generation_config.eos_token_id
    ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def prompt_token_ids(records: Iterable[Record], where: str, tokenizer, n_tokens: int,
                     doc_id: int | None) -> list[tuple[str, list[int]]]:
    """(record id, [doc token] + first n_tokens of the text) for every record (no document token
    when doc_id is None); `where` names the prompts in errors."""
    prompts = []
    for rec in records:
        ids = tokenizer(rec.text, add_special_tokens=False).input_ids[:n_tokens]
        if not ids:
            raise CorpusError(f"{rec.source}: text {rec.id!r} is empty; it cannot prompt a model")
        prompts.append((rec.id, ([doc_id] if doc_id is not None else []) + ids))
    if not prompts:
        raise CorpusError(f"{where}: no texts to take prompts from")
    return prompts


def chat_prompt_ids(records: Iterable[Record], where: str, tokenizer,
                    config: GenerationConfig) -> list[tuple[str, list[int], str]]:
    """(record id, chat-templated token ids, instruction) for every record: the instruction
    wraps the text's first prompt_tokens tokens, as one user turn of the model's chat template,
    ending where the assistant's reply begins."""
    if not getattr(tokenizer, "chat_template", None):
        raise OvidError(f"{config.model} has no chat template; --chat needs an instruct model (smollm2-135m)")
    prompts = []
    for rid, ids in prompt_token_ids(records, where, tokenizer, config.prompt_tokens, doc_id=None):
        instruction = config.chat_instruction(tokenizer.decode(ids).strip())
        chat = tokenizer.apply_chat_template([{"role": "user", "content": instruction}],
                                             add_generation_prompt=True, tokenize=False)
        prompts.append((rid, tokenizer(chat, add_special_tokens=False).input_ids, instruction))
    return prompts


def prompts_of_records(records: Iterable[Record], where: str, config: GenerationConfig, tokenizer,
                       doc_id: int) -> list[tuple[str | None, list[int], str | None]]:
    """(prompt id, token ids, chat instruction) of every record, as config says (chat or not)."""
    if config.chat:
        return chat_prompt_ids(records, where, tokenizer, config)
    return [(pid, ids, None) for pid, ids in prompt_token_ids(records, where, tokenizer, config.prompt_tokens, doc_id)]


def corpus_prompts(config: GenerationConfig, tokenizer, doc_id: int) -> list[tuple[str | None, list[int], str | None]]:
    """The prompts of config.prompts; one unconditional prompt (the document token) without."""
    if config.prompts is None:
        return [(None, [doc_id], None)]
    return prompts_of_records(read_corpus(config.prompts), config.prompts, config, tokenizer, doc_id)


def _record(i: int, sample, tokenizer, prompt_id: str | None, instruction: str | None = None) -> dict:
    row = {"id": i}
    if instruction is not None:  # a chat reply: the text is the reply alone
        row["text"] = tokenizer.decode(sample.new_ids, skip_special_tokens=True).strip()
        row["prompt"] = instruction
        row["prompt_id"] = prompt_id
    elif prompt_id is None:
        row["text"] = tokenizer.decode(sample.new_ids)
    else:
        body = sample.prompt_ids[1:]  # drop the document token
        prompt = tokenizer.decode(body)
        text = tokenizer.decode(body + sample.new_ids)
        row["text"] = text
        row["prompt"] = prompt
        row["continuation"] = text[len(prompt):] if text.startswith(prompt) else tokenizer.decode(sample.new_ids)
        row["prompt_id"] = prompt_id
    row["length"] = len(sample.new_ids)
    row["ended"] = sample.ended
    return row


def batch_prompts(prompts: list, b: int, batch_size: int, n: int) -> list[tuple[int, tuple]]:
    """(sample index, prompt) of batch b: sample i takes prompt i mod len(prompts)."""
    return [(i, prompts[i % len(prompts)]) for i in range(b * batch_size, min((b + 1) * batch_size, n))]


class BatchGenerator:
    """A loaded model that writes the rows of one batch at a time; batch b is seeded by
    (seed, b) alone, so it gives the same rows wherever and whenever it runs."""

    def __init__(self, config: GenerationConfig):
        self.config = config
        self.model, self.tokenizer = load_causal_lm(config.model, config.dtype)
        self.stops = stop_token_ids(self.model, self.tokenizer, document_token_id(config.model))

    def rows(self, b: int, batch: list[tuple[int, tuple]]) -> list[dict]:
        c = self.config
        samples = sample_batch(self.model, [p for _, (_, p, _) in batch], c.decoding, c.max_tokens, self.stops,
                               seed=c.seed * 1_000_003 + b, watermark=c.watermark)
        return [_record(i, s, self.tokenizer, pid, instr) for (i, (pid, _, instr)), s in zip(batch, samples)]
