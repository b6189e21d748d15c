"""The attacks that need a language model: the LM behind misspelling's ranking, synonym
substitution and paraphrase. Offline, one packaged causal LM does all three (SmolLM2-135M-
Instruct); with the Hub, RAID's own kinds of model fit the same calls: a masked LM
(bert-base-cased) proposes synonyms from both sides of the word, and a sequence-to-sequence
paraphraser is prompted in DIPPER's format (kalpeshk2011/dipper-paraphraser-xxl)."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .character import sample_count
from .edits import Attacked, apply_replacements
from .units import sentence_spans, word_spans
from .words import same_case

PROPOSALS = 20  # candidates per word, as RAID's fill-mask top_k
MIN_PROBABILITY = 0.0025  # RAID's floor on the proposer's probability
PARAPHRASE_PROMPT = "Paraphrase the following sentence. Reply with the new sentence only.\n\n{sentence}"
PREAMBLE = re.compile(r"^(?:(?:here is|here's)[^:]*:|(?:rephrased|paraphrased|paraphrase|new sentence)[^:]*:)\s*", re.I)
MIN_SIMILARITY = 0.5  # RAID's floor on fastText cosine between a word and its replacement; here MiniLM's
EMBEDDER = "minilm-l6"
PARAPHRASE_BATCH = 32
DIPPER_LEXICAL, DIPPER_ORDER = 40, 100  # RAID's codes: lex_diversity 60, order_diversity 0


@lru_cache(maxsize=1)
def _embedder():
    from ovid.models import load_backbone

    body, tok = load_backbone(EMBEDDER)
    return body.eval(), tok


@lru_cache(maxsize=20000)
def _word_vector(word: str):
    """MiniLM's mean-pooled, normalised embedding of a lone word (the stand-in for RAID's fastText)."""
    import torch

    body, tok = _embedder()
    enc = tok([word], return_tensors="pt")
    with torch.inference_mode():
        h = body(**enc).last_hidden_state[0].mean(0)
    return torch.nn.functional.normalize(h, dim=0)


def similarity(a: str, b: str) -> float:
    return float(_word_vector(a.lower()) @ _word_vector(b.lower()))


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS


@dataclass
class AttackLM:
    """A model loaded once for the LM attacks: `name` is an ovid registry name, Hub id or folder."""
    name: str = "smollm2-135m"
    dtype: str = "auto"
    max_tokens: int = 1024

    def __post_init__(self):
        self._model = self._tok = None

    def _load(self):
        if self._model is None:
            from ovid.models import architecture_kind, load_causal_lm, load_pretrained, load_tokenizer

            self.kind = architecture_kind(self.name)
            if self.kind == "causal":
                self._model, self._tok = load_causal_lm(self.name, self.dtype)
            else:
                import transformers

                loader = transformers.AutoModelForMaskedLM if self.kind == "masked" \
                    else transformers.AutoModelForSeq2SeqLM
                self._model, self._tok = load_pretrained(loader, self.name), load_tokenizer(self.name)
        return self._model, self._tok

    # -- one forward pass: log-probabilities at every position --------------------------------------
    def _logprobs(self, text: str):
        import torch

        model, tok = self._load()
        cfg = model.config
        window = min(self.max_tokens, getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", 1024))
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, truncation=True, max_length=window - 1)
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        ids = torch.tensor([[bos] + enc.input_ids], device=model.device)
        with torch.inference_mode():
            logits = model(ids).logits[0, :-1].float()
        return torch.log_softmax(logits, -1), enc.input_ids, enc.offset_mapping

    def word_scores(self, text: str, spans: list[tuple[int, int]]) -> list[float]:
        """Log-probability of each word span: the sum over the tokens that overlap it."""
        logp, ids, offsets = self._logprobs(text)
        tok_lp = logp[np.arange(len(ids)), ids].cpu().numpy()
        return [float(sum(lp for lp, (s, e) in zip(tok_lp, offsets) if s < b and e > a)) for a, b in spans]

    def propose(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[str, float] | None]:
        """For each word, the most probable other whole word in its place, or None. A causal LM
        reads the words before it (one pass for the text); a masked LM both sides (a pass per word)."""
        model, tok = self._load()
        if self.kind == "masked":
            return [self._propose_masked(text, a, b) for a, b in spans]
        logp, ids, offsets = self._logprobs(text)
        out = []
        for a, b in spans:
            first = next((i for i, (s, e) in enumerate(offsets) if e > a), None)
            if first is None or offsets[first][0] > a or offsets[first][1] < b:
                out.append(None)  # not one whole token: a causal LM proposes one token
                continue
            top = logp[first].topk(PROPOSALS)
            cands = [(tok.decode([t]), float(np.exp(lp))) for lp, t in zip(top.values.tolist(), top.indices.tolist())]
            out.append(self._first_synonym(text[a:b], [(piece.strip(), p) for piece, p in cands
                                                       if piece[:1].isspace() == text[max(a - 1, 0)].isspace()]))
        return out

    def _propose_masked(self, text: str, a: int, b: int):
        import torch

        model, tok = self._load()
        masked = text[:a] + tok.mask_token + text[b:]
        enc = tok(masked, return_tensors="pt", truncation=True, max_length=self.max_tokens)
        where = (enc.input_ids[0] == tok.mask_token_id).nonzero()
        if not len(where):
            return None
        with torch.inference_mode():
            probs = model(**enc).logits[0, where[0, 0]].float().softmax(-1)
        top = probs.topk(PROPOSALS)
        return self._first_synonym(text[a:b], [(tok.decode([t]).strip(), p)
                                               for p, t in zip(top.values.tolist(), top.indices.tolist())])

    @staticmethod
    def _first_synonym(word: str, proposals: list[tuple[str, float]]) -> tuple[str, float] | None:
        """The most probable proposal that is another content word close to `word` in meaning
        (RAID: BERT score >= 0.0025, fastText cosine >= 0.5; its POS check is left out)."""
        stop = _stop_words()
        for cand, p in proposals:
            if (p >= MIN_PROBABILITY and cand.isalpha() and len(cand) > 2 and cand.lower() != word.lower()
                    and cand.lower() not in stop and similarity(word, cand) >= MIN_SIMILARITY):
                return same_case(word, cand), p
        return None

    # -- paraphrase ---------------------------------------------------------------------------------
    def paraphrase_sentences(self, sentences: list[str], seed: int) -> list[str]:
        """Each sentence rewritten (greedy; a reply that is empty or over three times as long
        keeps the sentence)."""
        import torch

        model, tok = self._load()
        if self.kind == "seq2seq":
            return self._dipper(sentences, seed)
        from ovid.models import with_pad_token

        tok = with_pad_token(tok)
        prompts = [tok.apply_chat_template([{"role": "user", "content": PARAPHRASE_PROMPT.format(sentence=s)}],
                                           add_generation_prompt=True, tokenize=False) for s in sentences]
        order = sorted(range(len(sentences)), key=lambda i: len(prompts[i]))  # similar lengths batch together
        out: list[str] = [""] * len(sentences)
        for start in range(0, len(order), PARAPHRASE_BATCH):
            idx = order[start:start + PARAPHRASE_BATCH]
            tok.padding_side = "left"
            enc = tok([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            longest = max(len(tok(sentences[i], add_special_tokens=False).input_ids) for i in idx)
            torch.manual_seed(seed + start)
            with torch.inference_mode():
                gen = model.generate(**enc, do_sample=False, max_new_tokens=2 * longest + 8,
                                     pad_token_id=tok.pad_token_id, repetition_penalty=1.1)
            for i, row in zip(idx, gen[:, enc.input_ids.shape[1]:]):
                reply = PREAMBLE.sub("", tok.decode(row, skip_special_tokens=True).strip().split("\n")[0].strip())
                reply = reply.strip().strip('"')
                s = sentences[i]
                out[i] = reply if reply and len(reply) <= 3 * len(s) + 20 else s
        return out

    def _dipper(self, sentences: list[str], seed: int, window: int = 3) -> list[str]:
        import torch

        model, tok = self._load()
        out, context = [], ""
        for i in range(0, len(sentences), window):
            chunk = " ".join(sentences[i:i + window])
            prompt = f"lexical = {DIPPER_LEXICAL}, order = {DIPPER_ORDER} {context} <sent> {chunk} </sent>"
            enc = tok([prompt], return_tensors="pt", truncation=True, max_length=self.max_tokens)
            torch.manual_seed(seed + i)
            with torch.inference_mode():
                gen = model.generate(**enc, do_sample=True, top_p=0.75, top_k=None, max_length=512)
            text = tok.decode(gen[0], skip_special_tokens=True).strip() or chunk
            out.append(text)
            context = (context + " " + text).strip()
        return out


def synonym(text: str, rate: float, rng: random.Random, lm: AttackLM) -> Attacked:
    """min(rate x words, words with a proposal) content words replaced by the LM's proposal,
    the most probable proposals first (RAID: BERT fill-mask, rate 0.5)."""
    stop = _stop_words()
    words = word_spans(text)
    cands = [(a, b) for a, b in words if text[a:b].isalpha() and text[a:b].lower() not in stop]
    proposals = [(p, span) for p, span in zip(lm.propose(text, cands), cands) if p is not None]
    k = sample_count(len(words), rate)
    best = sorted(proposals, key=lambda x: -x[0][1])[:k]
    return apply_replacements(text, [(a, b, p[0]) for p, (a, b) in best])


def paraphrase(text: str, rate: float, rng: random.Random, lm: AttackLM) -> Attacked:
    """The text rewritten sentence by sentence (rate unused, as in RAID); one edit spanning it."""
    return paraphrase_many([text], [rng], lm)[0]


def paraphrase_many(texts: list[str], rngs: list[random.Random], lm: AttackLM) -> list[Attacked]:
    """`paraphrase` for many texts, their sentences generated in shared batches."""
    sents = [[text[a:b] for a, b in sentence_spans(text)] for text in texts]
    flat = [s for ss in sents for s in ss]
    seed = rngs[0].randrange(2**31) if rngs else 0
    new = lm.paraphrase_sentences(flat, seed=seed) if flat else []
    out, pos = [], 0
    for text, ss in zip(texts, sents):
        if not ss:
            out.append(Attacked(text))
            continue
        rewritten = " ".join(new[pos:pos + len(ss)])
        pos += len(ss)
        out.append(Attacked(rewritten, [(0, len(rewritten))]))
    return out
