"""Fine-tuning an encoder as a machine-text classifier, as OpenAI's GPT-2 output detector was
trained: random-length crops, AdamW with linear warm-up and decay, a validation split, early
stopping on validation AUROC, the best weights kept.

Every random choice of step s (the batch's texts, their crops, dropout) is drawn from a generator
seeded by (seed, epoch, step), never from a running RNG. So a run resumed from a checkpoint at
step s continues exactly as the uninterrupted run would have, and a checkpoint needs no RNG
state: only weights, optimizer moments and counters, all stored as safetensors and JSON.
"""
from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ovid.atomic import write_json
from ovid.metrics import auroc
from ovid.padding import pad_rows

from .params import TrainConfig

CKPT = "checkpoint"


def special_ids(tokenizer) -> tuple[list[int], list[int]]:
    """Tokens before and after a crop ([CLS] ... [SEP] for BERT, <s> ... </s> for RoBERTa)."""
    first = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    last = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    return ([first] if first is not None else []), ([last] if last is not None else [])


def random_crop(ids: Sequence[int], rng: np.random.Generator, min_len: int, max_len: int) -> list[int]:
    """A crop of random length in [min_len, max_len] (capped by the text) at a random start."""
    length = int(rng.integers(min(min_len, len(ids)), min(max_len, len(ids)) + 1))
    start = int(rng.integers(0, len(ids) - length + 1))
    return list(ids[start:start + length])


def windows(ids: Sequence[int], size: int) -> list[list[int]]:
    """Non-overlapping-stride windows (stride size // 2) covering a long text at inference."""
    if len(ids) <= size:
        return [list(ids)]
    stride = max(1, size // 2)
    starts = list(range(0, len(ids) - size + 1, stride))
    if starts[-1] + size < len(ids):
        starts.append(len(ids) - size)
    return [list(ids[s:s + size]) for s in starts]


def compute_dtype(model, dtype: str):
    """A context that runs the model's matmuls in bfloat16 (autocast on the model's device;
    weights stay float32), or nothing."""
    import contextlib

    from ovid.hardware import resolve_dtype

    if resolve_dtype(dtype) in ("bfloat16", "bf16"):
        return torch.autocast(next(model.parameters()).device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def collate(rows: Sequence[Sequence[int]], pad_id: int) -> dict[str, torch.Tensor]:
    ids, mask = pad_rows(rows, pad_id)
    return {"input_ids": ids, "attention_mask": mask}


@torch.inference_mode()
def window_log_odds(model, tokenizer, token_ids: Sequence[Sequence[int]], max_length: int,
                    batch_size: int = 32, dtype: str = "float32") -> np.ndarray:
    """Score = mean over a text's windows of logit(machine) - logit(human)."""
    head, tail = special_ids(tokenizer)
    body = max_length - len(head) - len(tail)
    rows, owner = [], []
    for i, ids in enumerate(token_ids):
        for w in windows(ids, body):
            rows.append(head + w + tail)
            owner.append(i)
    order = np.argsort([len(r) for r in rows])  # similar lengths together: less padding
    odds = np.zeros(len(rows))
    was_training = model.training
    model.eval()
    for b in range(0, len(rows), batch_size):
        idx = order[b:b + batch_size]
        batch = collate([rows[i] for i in idx], tokenizer.pad_token_id or 0)
        with compute_dtype(model, dtype):
            logits = model(**batch).logits.float()
        odds[idx] = (logits[:, 1] - logits[:, 0]).numpy()
    model.train(was_training)
    return np.bincount(owner, weights=odds, minlength=len(token_ids)) / np.bincount(owner, minlength=len(token_ids))


def transformer_blocks(model) -> torch.nn.ModuleList | None:
    """The model's stack of transformer blocks: its largest ModuleList of one module class
    (BERT's encoder.layer, Llama's model.layers, GPT-2's transformer.h)."""
    best = None
    for mod in model.modules():
        if isinstance(mod, torch.nn.ModuleList) and len(mod) > 1 and len({type(m) for m in mod}) == 1:
            if best is None or len(mod) > len(best):
                best = mod
    return best


def freeze_below(model, train_layers: int) -> None:
    """Train only the top `train_layers` blocks and what follows them (final norm, pooler, head):
    every parameter registered before them (all embeddings, the lower blocks) is frozen, so
    autograd keeps no activations for that part and skips its backward pass."""
    blocks = transformer_blocks(model)
    if not train_layers or blocks is None or train_layers >= len(blocks):
        return
    first_trained = {id(p) for p in list(blocks)[-train_layers].parameters()}
    for p in model.parameters():  # registration order: embeddings, blocks bottom-up, then the rest
        if id(p) in first_trained:
            break
        p.requires_grad_(False)


def _optimizer(model, cfg: TrainConfig, total_steps: int):
    from transformers import get_linear_schedule_with_warmup

    freeze_below(model, cfg.train_layers)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and p.requires_grad]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1 and p.requires_grad]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    sched = get_linear_schedule_with_warmup(opt, math.ceil(cfg.warmup * total_steps), total_steps)
    return opt, sched


def save_checkpoint(folder: Path, model, opt, state: dict, best: dict[str, torch.Tensor] | None) -> None:
    """Weights, AdamW moments and counters; written to a temp folder, then swapped in."""
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp / "model.safetensors")
    moments = {}
    for i, p in enumerate(p for g in opt.param_groups for p in g["params"]):
        st = opt.state.get(p, {})
        for k in ("exp_avg", "exp_avg_sq"):
            if k in st:
                moments[f"{i}.{k}"] = st[k].contiguous()
        if "step" in st:
            moments[f"{i}.step"] = torch.as_tensor(st["step"], dtype=torch.float32).reshape(1)
    save_file(moments, tmp / "optimizer.safetensors")
    if best is not None:
        save_file({k: v.contiguous() for k, v in best.items()}, tmp / "best.safetensors")
    write_json(tmp / "state.json", state)
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    if old.exists():
        import shutil
        shutil.rmtree(old)


def load_checkpoint(folder: Path, model, opt) -> tuple[dict, dict[str, torch.Tensor] | None]:
    model.load_state_dict(load_file(folder / "model.safetensors"))
    moments = load_file(folder / "optimizer.safetensors")
    for i, p in enumerate(p for g in opt.param_groups for p in g["params"]):
        if f"{i}.exp_avg" in moments:
            opt.state[p] = {"exp_avg": moments[f"{i}.exp_avg"], "exp_avg_sq": moments[f"{i}.exp_avg_sq"],
                            "step": torch.tensor(float(moments[f"{i}.step"][0]))}
    best = load_file(folder / "best.safetensors") if (folder / "best.safetensors").exists() else None
    return json.loads((folder / "state.json").read_text()), best


def train_classifier(model, tokenizer, train_texts: Sequence[str], train_labels: Sequence[int],
                     valid_texts: Sequence[str], valid_labels: Sequence[int], cfg: TrainConfig,
                     out_dir: Path | None = None, resume: bool = False, progress: bool = True,
                     on_step: Callable[[int], None] | None = None) -> dict:
    """Fine-tune `model` in place; leaves the best-validation weights in it. Returns a summary.

    With `out_dir`, writes `train_log.jsonl` and a checkpoint there, and `resume=True` continues
    from that checkpoint. `on_step(step)` is called after each optimisation step (tests use it
    to interrupt a run)."""
    from tqdm import tqdm

    head, tail = special_ids(tokenizer)
    body = cfg.max_length - len(head) - len(tail)
    train_ids = [tokenizer(t, add_special_tokens=False).input_ids for t in train_texts]
    valid_ids = [tokenizer(t, add_special_tokens=False).input_ids for t in valid_texts]
    y = np.asarray(train_labels)
    steps_per_epoch = math.ceil(len(train_ids) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    eval_every = cfg.eval_every or steps_per_epoch
    opt, sched = _optimizer(model, cfg, total)
    state = {"step": 0, "best_auroc": -1.0, "best_step": 0, "bad_evals": 0, "stopped_early": False,
             "seconds": 0.0, "config": asdict(cfg)}
    best = None
    ckpt = out_dir / CKPT if out_dir else None
    if resume and ckpt is not None and ckpt.exists():
        saved = json.loads((ckpt / "state.json").read_text()).get("config", {})
        changed = [k for k, v in asdict(cfg).items() if k in saved and saved[k] != v]
        if changed:
            from ovid.errors import OvidError
            k = changed[0]
            raise OvidError(f"--resume: the interrupted run used --{k.replace('_', '-')} {saved[k]!r}, not {getattr(cfg, k)!r}; "
                            f"resume with its settings or start over without --resume")
        state, best = load_checkpoint(ckpt, model, opt)
        with warnings.catch_warnings():  # replaying the schedule's steps, not optimising
            warnings.simplefilter("ignore")
            for _ in range(state["step"]):
                sched.step()
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    log = open(out_dir / "train_log.jsonl", "a", encoding="utf-8") if out_dir else None
    model.train()
    t0 = time.perf_counter() - state["seconds"]
    bar = tqdm(total=total, initial=state["step"], disable=not progress, unit="step", desc="training")
    while state["step"] < total and not state["stopped_early"]:
        step = state["step"]
        epoch, k = divmod(step, steps_per_epoch)
        perm = np.random.default_rng([cfg.seed, epoch]).permutation(len(train_ids))
        idx = perm[k * cfg.batch_size:(k + 1) * cfg.batch_size]
        rng = np.random.default_rng([cfg.seed, epoch, k])
        rows = [head + random_crop(train_ids[i], rng, cfg.min_length, body) + tail for i in idx]
        torch.manual_seed(cfg.seed * 1_000_003 + step)  # dropout masks of this step
        with compute_dtype(model, cfg.dtype):
            out = model(**collate(rows, tokenizer.pad_token_id or 0), labels=torch.as_tensor(y[idx]))
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        state["step"] = step = step + 1
        state["seconds"] = time.perf_counter() - t0
        entry = {"step": step, "epoch": epoch, "loss": float(out.loss.detach()), "lr": sched.get_last_lr()[0]}
        if step % eval_every == 0 or step == total:
            val = auroc(valid_labels, window_log_odds(model, tokenizer, valid_ids, cfg.max_length, dtype=cfg.dtype))
            entry["valid_auroc"] = val
            if val > state["best_auroc"]:
                state.update(best_auroc=val, best_step=step, bad_evals=0)
                best = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                state["bad_evals"] += 1
                state["stopped_early"] = state["bad_evals"] >= cfg.patience
        bar.update(1)
        bar.set_postfix(loss=f"{entry['loss']:.3f}", val_auroc=f"{state['best_auroc']:.3f}")
        if log:
            log.write(json.dumps(entry) + "\n")
            log.flush()
        if ckpt is not None and (step % cfg.checkpoint_every == 0 or "valid_auroc" in entry or step == total):
            save_checkpoint(ckpt, model, opt, state, best)
        if on_step:
            on_step(step)
    bar.close()
    if log:
        log.close()
    if best is not None:
        model.load_state_dict(best)
    model.eval()
    return state
