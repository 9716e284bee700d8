"""Per-class statistics of an image dataset: the targets that every probe matches.

Everything is computed in float64 from pixels scaled to [0, 1]. Covariances are accumulated in
batches around the exact class mean (two passes), so that a million images do not need a
million-by-d float64 copy and cancellation does not eat the small variances of border pixels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm


@dataclass
class ClassStats:
    """Moments and marginals of every class; arrays are indexed by class first.

    means: (K, d); covs: (K, d, d) with the unbiased 1/(n-1) normalisation; quantiles:
    (K, Q, d), the per-pixel quantile function sampled at ``levels`` (Q points from 0 to 1).
    """

    classes: list[str]
    shape: tuple[int, int, int]
    counts: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    levels: np.ndarray
    quantiles: np.ndarray

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def dim(self) -> int:
        return int(np.prod(self.shape))

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.npz")
        try:
            np.savez(
                tmp,
                classes=np.array(self.classes),
                shape=np.array(self.shape),
                counts=self.counts,
                means=self.means,
                covs=self.covs,
                levels=self.levels,
                quantiles=self.quantiles,
            )
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ClassStats:
        try:
            with np.load(path) as f:
                return cls(
                    classes=[str(c) for c in f["classes"]],
                    shape=tuple(int(s) for s in f["shape"]),
                    counts=f["counts"],
                    means=f["means"],
                    covs=f["covs"],
                    levels=f["levels"],
                    quantiles=f["quantiles"],
                )
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f"{path}: not a readable class-statistics file ({err})") from err


def class_stats(
    images: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    n_quantiles: int = 256,
    batch_size: int = 4096,
) -> ClassStats:
    """Class means, covariances and per-pixel quantile tables of uint8 or [0, 1] images."""
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {images.shape}")
    n, shape = len(images), tuple(images.shape[1:])
    flat = images.reshape(n, -1)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    labels = np.asarray(labels)
    k, d = len(classes), flat.shape[1]
    if flat.dtype != np.uint8 and not np.isfinite(flat).all():
        bad = np.unique(labels[~np.isfinite(flat).all(axis=1)])
        raise ValueError(f"images of classes {bad.tolist()} contain NaN or infinite pixels")
    counts = np.bincount(labels, minlength=k)
    if len(counts) > k:
        raise ValueError(f"labels go up to {labels.max()} but only {k} classes are named")
    missing = [classes[c] for c in range(k) if counts[c] < 2]
    if missing:
        raise ValueError(f"classes {missing} have fewer than 2 images: no covariance")
    levels = np.linspace(0.0, 1.0, n_quantiles)
    means = np.zeros((k, d))
    covs = np.zeros((k, d, d))
    quantiles = np.zeros((k, n_quantiles, d))
    for c in tqdm(range(k), desc="class statistics", leave=False):
        idx = np.flatnonzero(labels == c)
        xc = flat[idx]
        mu = xc.sum(axis=0, dtype=np.float64) / (scale * len(idx))
        acc = np.zeros((d, d))
        for start in range(0, len(idx), batch_size):
            centred = xc[start : start + batch_size].astype(np.float64) / scale - mu
            acc += centred.T @ centred
        means[c], covs[c] = mu, acc / (len(idx) - 1)
        quantiles[c] = np.quantile(xc, levels, axis=0) / scale
    return ClassStats(list(classes), shape, counts, means, covs, levels, quantiles)
