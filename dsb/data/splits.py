"""Train / eval / test splits, fixed by a seed."""

from __future__ import annotations

import numpy as np

from dsb.data.datasets import RawDataset
from dsb.io import ImageTable


def split(raw: RawDataset, eval_size: int, seed: int, test_size: int) -> dict[str, ImageTable]:
    """``eval`` holds ``eval_size`` images out of the official test split (the paper holds
    out 1024), ``test`` the rest. Without an official test split, the pool is cut into
    ``eval_size`` eval, ``test_size`` test and the remaining train images."""
    rng = np.random.default_rng(seed)
    train_x, train_y = raw.train
    k = len(raw.classes)
    for split_name, labels in [("train", train_y)] + ([("test", raw.test[1])] if raw.test else []):
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(
                f"{split_name} labels must lie in 0..{k - 1} for classes {raw.classes}"
            )
    if raw.test is None:
        order = rng.permutation(len(train_y))
        if eval_size + test_size >= len(order):
            raise ValueError(
                f"{len(order)} images cannot give {eval_size} eval and {test_size} test"
            )
        eval_idx = np.sort(order[:eval_size])
        test_idx = np.sort(order[eval_size : eval_size + test_size])
        train_idx = np.sort(order[eval_size + test_size :])
        parts = {
            "train": (train_x[train_idx], train_y[train_idx]),
            "eval": (train_x[eval_idx], train_y[eval_idx]),
            "test": (train_x[test_idx], train_y[test_idx]),
        }
    else:
        test_x, test_y = raw.test
        if eval_size >= len(test_y):
            raise ValueError(
                f"the test split has {len(test_y)} images: cannot hold out {eval_size}"
            )
        order = rng.permutation(len(test_y))
        eval_idx, test_idx = np.sort(order[:eval_size]), np.sort(order[eval_size:])
        parts = {
            "train": (train_x, train_y),
            "eval": (test_x[eval_idx], test_y[eval_idx]),
            "test": (test_x[test_idx], test_y[test_idx]),
        }
    meta = {"classes": raw.classes, "source": raw.source, "split_seed": seed}
    return {
        name: ImageTable(pixels=x, labels=y, meta={**meta, "split": name})
        for name, (x, y) in parts.items()
    }
