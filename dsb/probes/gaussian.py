"""Second-order unbounded max-ent (`gaussian`): x ~ N(mu_y, Sigma_y), not clipped to the box.

Sampling uses the symmetric square root from an eigendecomposition, so singular class
covariances (constant pixels) are fine. Optional linear shrinkage Sigma -> (1 - a) Sigma +
a (tr Sigma / d) I, as upstream did: a given intensity, or the Ledoit-Wolf intensity estimated
from the class's training images.
"""

from __future__ import annotations

import numpy as np


def shrink(cov: np.ndarray, intensity: float) -> np.ndarray:
    if not 0.0 <= intensity <= 1.0:
        raise ValueError(f"gaussian: shrinkage intensity must lie in [0, 1], got {intensity}")
    d = len(cov)
    return (1.0 - intensity) * cov + intensity * (np.trace(cov) / d) * np.eye(d)


def ledoit_wolf_intensity(x: np.ndarray) -> float:
    """Ledoit-Wolf (2004) intensity towards the scaled identity for the rows of x."""
    from sklearn.covariance import ledoit_wolf_shrinkage

    return float(ledoit_wolf_shrinkage(x))


def cov_sqrt(cov: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def sample_gaussian(
    mean: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    return mean + rng.standard_normal((n, len(mean))) @ cov_sqrt(cov)
