"""First-order edit (`shift`): the least-squares move of a class onto another class's mean.

The paper's Algorithm 1 solves

    min_T  sum_i ||T(x_i) - x_i||^2   s.t.  mean_i T(x_i) = mu_t,  T(x_i) in [0, 1]^d.

The problem separates by pixel, and its KKT conditions give T(x)_j = clamp(x_j + c_j, 0, 1),
with one multiplier c_j per pixel chosen so that the clamped mean hits mu_t,j. That mean is
continuous and non-decreasing in c_j, from 0 at c_j = -1 to 1 at c_j = +1, so bisection finds
c_j to float64 resolution. Upstream instead iterated X <- clamp(X - (mean - mu_t)) until close.
"""

from __future__ import annotations

import numpy as np


def clamped_mean(x: np.ndarray, shift: np.ndarray) -> np.ndarray:
    return np.clip(x + shift, 0.0, 1.0).mean(axis=0)


def solve_shift(x: np.ndarray, target_mean: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Per-pixel c (d,) with mean_i clamp(x_ij + c_j, 0, 1) = target_mean_j.

    Targets must lie in [0, 1]; x (n, d) in [0, 1].
    """
    target_mean = np.asarray(target_mean, dtype=np.float64)
    if np.any(~np.isfinite(target_mean)) or np.any((target_mean < 0) | (target_mean > 1)):
        raise ValueError("shift: target means must be finite and inside [0, 1]")
    lo, hi = np.full(x.shape[1], -1.0), np.full(x.shape[1], 1.0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if np.all((mid == lo) | (mid == hi)):
            break
        below = clamped_mean(x, mid) < target_mean
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    # Bisection keeps hi at a c that reaches the target; where the target is 0 every
    # c <= -max x does, and -max x is the one that moves the images least.
    return np.where(target_mean == 0, -x.max(axis=0), hi)


def shift_to_mean(x: np.ndarray, target_mean: np.ndarray) -> np.ndarray:
    """The images x (n, d) moved by the optimal constrained mean shift onto target_mean."""
    return np.clip(x + solve_shift(x, target_mean), 0.0, 1.0)
