"""First-order box max-ent (`conrad`): per pixel, the maximum-entropy density on [0, 1] with a
given mean.

The density is p(x) = b exp(-b x) / (1 - exp(-b)) on [0, 1], whose mean is
mu(b) = 1/b - 1/(e^b - 1) (b = 0 is the uniform density, mean 1/2). mu is strictly decreasing
from 1 (b -> -inf) to 0 (b -> +inf), so mu(b) = target has one root, found here by bisection in
float64 on a bracket that always contains it. Upstream solved it in float32 with Newton and an
epsilon in a denominator; targets in about [0.31, 0.50) fell onto a false root near b = 0 and
came out uniform. Targets of exactly 0 or 1 (a pixel constant in the class) are point masses.
"""

from __future__ import annotations

import numpy as np

# Below this |b| the closed form loses digits to cancellation; the series is exact to 1e-20.
_SERIES_BELOW = 1e-2


def box_mean(b: np.ndarray) -> np.ndarray:
    """mu(b) = 1/b - 1/(e^b - 1), the mean of the density proportional to exp(-b x) on [0, 1]."""
    b = np.asarray(b, dtype=np.float64)
    a = np.abs(b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tail = 1.0 / a - 1.0 / np.expm1(a)
    series = 0.5 - a / 12.0 + a**3 / 720.0 - a**5 / 30240.0
    mean_for_positive = np.where(a < _SERIES_BELOW, series, tail)
    # exp(-b x) with b < 0 is the mirror image x -> 1 - x of exp(-|b| x).
    return np.where(b >= 0, mean_for_positive, 1.0 - mean_for_positive)


def solve_rate(target: np.ndarray, iterations: int = 200) -> np.ndarray:
    """The b with mu(b) = target, for targets strictly inside (0, 1).

    Bisection on |b| in [0, 1/t] for t = min(target, 1 - target) <= 1/2: mu(0) = 1/2 >= t and
    mu(1/t) < t because mu(b) < 1/b. It stops when the bracket cannot shrink in float64.
    """
    target = np.asarray(target, dtype=np.float64)
    if np.any(~np.isfinite(target)) or np.any((target <= 0) | (target >= 1)):
        raise ValueError("conrad: targets must be finite and strictly inside (0, 1)")
    t = np.minimum(target, 1.0 - target)
    lo, hi = np.zeros_like(t), 1.0 / t
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if np.all((mid == lo) | (mid == hi)):
            break
        above = box_mean(mid) > t
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    rate = 0.5 * (lo + hi)
    return np.where(target <= 0.5, rate, -rate)


def sample_box_maxent(
    means: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """n samples of independent pixels with the given means; also returns the rates b (d,).

    Inverse CDF of exp(-b x) on [0, 1]: x = -log(1 - u (1 - e^{-b})) / b, written with
    log1p/expm1 so that rates of +-1e6 (means of 1e-6) stay exact. Point masses where the
    mean is exactly 0 or 1; a uniform where b is 0.
    """
    means = np.asarray(means, dtype=np.float64)
    inside = (means > 0) & (means < 1)
    rate = np.zeros_like(means)
    rate[inside] = solve_rate(means[inside])
    u = rng.random((n, means.size))
    a = np.abs(rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = -np.log1p(u * np.expm1(-a)) / a
    x = np.where(a == 0, u, x)
    x = np.where(rate < 0, 1.0 - x, x)
    x = np.where(inside, x, np.where(means >= 1, 1.0, 0.0))
    return np.clip(x, 0.0, 1.0), rate
