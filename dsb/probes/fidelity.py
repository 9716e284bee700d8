"""Fidelity of a probe set: how well each class of it matches what it claims to match.

Rows are per (probe, class), where class is the label scored against (the target of an edit).
Reference statistics are the training class's: mean abs error of the class mean, relative
Frobenius error of the class covariance, relative error of sliced third moments along
held-out random directions (when training images are given), mean per-pixel Kolmogorov-Smirnov
distance to the training quantile marginals, and the fraction of pixel values outside [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dsb.probes.quantile import level_interval

FIDELITY_DIRECTIONS_SEED = 20240207


def random_directions(d: int, count: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((d, count))
    return v / np.linalg.norm(v, axis=0)


def sliced_third_moments(x: np.ndarray, directions: np.ndarray) -> np.ndarray:
    p = (x - x.mean(axis=0)) @ directions
    return (p**3).mean(axis=0)


def marginal_ks(x: np.ndarray, levels: np.ndarray, quantiles: np.ndarray) -> float:
    """Mean over pixels of sup |ECDF(x_j) - F_j| with F_j from the quantile table."""
    n, d = x.shape
    xs = np.sort(x, axis=0)
    below, at = level_interval(levels, quantiles, xs)
    # Ties: the ECDF jumps once per distinct value, by the size of its group.
    ecdf_at, ecdf_below = np.empty((n, d)), np.empty((n, d))
    for j in range(d):
        ecdf_at[:, j] = np.searchsorted(xs[:, j], xs[:, j], side="right") / n
        ecdf_below[:, j] = np.searchsorted(xs[:, j], xs[:, j], side="left") / n
    gap = np.maximum(np.abs(ecdf_at - at), np.abs(ecdf_below - below))
    return float(gap.max(axis=0).mean())


def fidelity_rows(
    probe: str,
    pixels: np.ndarray,
    labels: np.ndarray,
    stats,
    train: tuple[np.ndarray, np.ndarray] | None = None,
    n_directions: int = 64,
) -> pd.DataFrame:
    rows = []
    directions = random_directions(stats.dim, n_directions, FIDELITY_DIRECTIONS_SEED)
    for c in np.unique(labels):
        x = pixels[labels == c].astype(np.float64)
        row = {
            "probe": probe,
            "class": int(c),
            "class_name": stats.classes[c],
            "n": len(x),
            "mean_abs_error": float(np.abs(x.mean(axis=0) - stats.means[c]).mean()),
            "cov_rel_error": np.nan,
            "third_rel_error": np.nan,
            "marginal_ks": marginal_ks(x, stats.levels, stats.quantiles[c]),
            "frac_outside_box": float(((x < 0) | (x > 1)).mean()),
        }
        if len(x) > 1:
            cov = np.cov(x, rowvar=False)
            ref = stats.covs[c]
            row["cov_rel_error"] = float(np.linalg.norm(cov - ref) / np.linalg.norm(ref))
        if train is not None:
            ref3 = sliced_third_moments(train[0][train[1] == c], directions)
            got3 = sliced_third_moments(x, directions)
            row["third_rel_error"] = float(np.linalg.norm(got3 - ref3) / np.linalg.norm(ref3))
        rows.append(row)
    return pd.DataFrame(rows)
