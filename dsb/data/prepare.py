"""From a dataset's config entry to its train / eval / test tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsb.data.custom import load_custom
from dsb.data.datasets import load_builtin
from dsb.data.sources import Checksum
from dsb.data.splits import split
from dsb.io import ImageTable


def stratified_subset(table: ImageTable, n: int, seed: int) -> ImageTable:
    """``n`` images with the class proportions of ``table``, chosen by ``seed``."""
    if n >= len(table.labels):
        return table
    rng = np.random.default_rng(seed)
    keep = []
    classes, counts = np.unique(table.labels, return_counts=True)
    quota = np.maximum(1, np.round(counts / counts.sum() * n)).astype(int)
    for c, q in zip(classes, quota):
        idx = np.flatnonzero(table.labels == c)
        keep.append(rng.choice(idx, size=min(q, len(idx)), replace=False))
    keep = np.sort(np.concatenate(keep))
    meta = {**table.meta, "limit_train": n}
    return ImageTable(pixels=table.pixels[keep], labels=table.labels[keep], meta=meta)


def prepare(spec: dict) -> dict[str, ImageTable]:
    """``spec`` is a dataset's entry as built by the workflow (see ``dataset_spec``)."""
    if spec.get("custom"):
        raw = load_custom(spec["custom"])
    else:
        checksums = {name: Checksum(sha256=sha) for name, sha in spec.get("checksums", {}).items()}
        raw = load_builtin(spec["name"], spec.get("mirrors"), Path(spec["raw_dir"]), checksums)
    tables = split(raw, spec["eval_size"], spec["split_seed"], spec["test_size"])
    if spec.get("limit_train"):
        tables["train"] = stratified_subset(
            tables["train"], spec["limit_train"], spec["split_seed"]
        )
    for table in tables.values():
        table.meta["dataset"] = spec["name"]
    return tables
