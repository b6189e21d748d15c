"""Generation on Ray: a corpus's batches shared out among actors that each load the model once.
Batch b is seeded by (seed, b) and holds samples b*batch_size ..., wherever it runs, so the rows
equal those of a local run with the same seed and batch size.

    ds = generate_dataset(GenerationConfig(model="gpt2-xl", n=10_000, batch_size=32), workers=8,
                          gpus_per_worker=1)
    ds.write_json("samples/")
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from ovid.corpus import Record
from ovid.models import document_token_id, load_tokenizer
from ovid.ray_tasks import RaySettings, map_with_actors, ray_failure, start_ray, use_assigned_cpus

from .batches import BatchGenerator, batch_prompts, corpus_prompts, prompts_of_records
from .config import GenerationConfig


class GenerateBatches:
    """A Ray Data actor: each input row is one batch (its index and its prompts, as JSON); the
    output is that batch's sample rows."""

    def __init__(self, config: GenerationConfig):
        use_assigned_cpus()
        self.generator = BatchGenerator(config)

    def __call__(self, batch: dict[str, np.ndarray]):
        import pyarrow as pa

        rows = []
        for b, prompts in zip(batch["batch"], batch["prompts"]):
            rows += self.generator.rows(int(b), [(i, tuple(p)) for i, p in json.loads(prompts)])
        return pa.Table.from_pylist(rows)


def _samples(config: GenerationConfig, batches: list[tuple[int, list]], settings: RaySettings):
    """The lazy Dataset of the sample rows of `batches` ((index, [(sample index, prompt)]))."""
    ray = start_ray(settings)
    items = [{"batch": b, "prompts": json.dumps(batch)} for b, batch in batches]
    ds = map_with_actors(ray.data.from_items(items, override_num_blocks=max(1, len(items))), GenerateBatches,
                         {"config": config}, settings, len(items))
    return ds


@contextmanager
def in_order():
    """Ray Data keeps the dataset's row order while inside (it does not by default)."""
    from ray.data import DataContext

    options = DataContext.get_current().execution_options
    kept, options.preserve_order = options.preserve_order, True
    try:
        yield
    finally:
        options.preserve_order = kept


def rows_on_ray(config: GenerationConfig, batches: list[tuple[int, list]], settings: RaySettings) -> Iterator[list[dict]]:
    """The rows of each batch, in the batches' order (what `ovid generate --engine ray` appends)."""
    sizes = iter([len(batch) for _, batch in batches])
    with in_order():
        try:
            current, want = [], next(sizes, 0)
            for row in _samples(config, batches, settings).iter_rows():
                current.append(dict(row))
                if len(current) == want:
                    yield current
                    current, want = [], next(sizes, 0)
        except Exception as e:  # what an actor raised, as ovid says it locally
            raise ray_failure(e) from None


def generate_dataset(config: GenerationConfig, prompts=None, *, text_column: str = "text", workers: int = 1,
                     gpus_per_worker: float = 0.0, ray_address: str | None = None):
    """A Ray Dataset of the rows `ovid generate` writes for `config` (id, text, prompt, continuation,
    prompt_id, length, ended), made by `workers` actors. `prompts`: a ray.data.Dataset whose
    `text_column` texts prompt the model (their first config.prompt_tokens tokens, in the
    dataset's order; ids from an `id` column, else the row number); None: config.prompts, or
    unconditional samples. Its rows come in id order."""
    settings = RaySettings(engine="ray", workers=workers, gpus_per_worker=gpus_per_worker, ray_address=ray_address)
    tokenizer, doc_id = load_tokenizer(config.model), document_token_id(config.model)
    if prompts is None:
        ids = corpus_prompts(config, tokenizer, doc_id)
    else:
        with in_order():
            records = (Record(str(r.get("id", i)), r[text_column], source="prompts dataset")
                       for i, r in enumerate(prompts.iter_rows()))
            ids = prompts_of_records(records, "prompts dataset", config, tokenizer, doc_id)
    n = config.n if config.n is not None else len(ids)
    bs = config.batch_size
    ds = _samples(config, [(b, batch_prompts(ids, b, bs, n)) for b in range(-(-n // bs))], settings)
    ds.context.execution_options.preserve_order = True  # rows in id order, whatever the caller's context says
    return ds
