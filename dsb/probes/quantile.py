"""Per-pixel marginals from quantile tables: `ics` samples them, `cqn` transports along them.

A class's marginal of pixel j is represented by its quantile function q_j, known at ``levels``
(0 = min, 1 = max) and linear in between. Sampling (`ics`) draws u ~ U(0, 1) per pixel and
returns q_j(u). Transport (`cqn`) is the 1-D optimal transport x -> q_t(F_s(x)).

Ties: image pixels take few values (uint8, many exact zeros), so q_s is flat over long runs of
levels and F_s jumps. A value x in such a run is taken by a whole interval [F_s(x-), F_s(x)] of
levels; x is sent to a level drawn uniformly in that interval (the randomised probability
integral transform). Then the levels are exactly uniform, so the outputs carry the target
marginal without bias, and the map stays monotone: x < x' always gives level(x) <= level(x').
"""

from __future__ import annotations

import numpy as np


def quantile_function(levels: np.ndarray, quantiles: np.ndarray, u: np.ndarray) -> np.ndarray:
    """q_j(u_ij) for u (n, d) in [0, 1], by linear interpolation of the (Q, d) table."""
    u = np.clip(u, levels[0], levels[-1])
    upper = np.clip(np.searchsorted(levels, u, side="right"), 1, len(levels) - 1)
    lower = upper - 1
    width = levels[upper] - levels[lower]
    frac = (u - levels[lower]) / width
    cols = np.arange(quantiles.shape[1])
    q_lo, q_hi = quantiles[lower, cols], quantiles[upper, cols]
    return q_lo + frac * (q_hi - q_lo)


def level_interval(
    levels: np.ndarray, quantiles: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """F_j(x-) and F_j(x) for x (n, d): the interval of levels whose quantile equals x.

    Below the table's minimum both are 0, above its maximum both are 1.
    """
    n, d = x.shape
    left, right = np.empty((n, d)), np.empty((n, d))
    for j in range(d):
        left[:, j] = _cdf(levels, quantiles[:, j], x[:, j], side="left")
        right[:, j] = _cdf(levels, quantiles[:, j], x[:, j], side="right")
    return left, right


def _cdf(levels: np.ndarray, q: np.ndarray, x: np.ndarray, side: str) -> np.ndarray:
    # side="left": smallest level with q >= x; side="right": largest level with q <= x.
    i = np.searchsorted(q, x, side=side)
    lo, hi = np.clip(i - 1, 0, len(q) - 1), np.clip(i, 0, len(q) - 1)
    gap = q[hi] - q[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(gap > 0, (x - q[lo]) / gap, 1.0 if side == "left" else 0.0)
    inner = levels[lo] + np.clip(frac, 0.0, 1.0) * (levels[hi] - levels[lo])
    return np.where(i == 0, levels[0], np.where(i == len(q), levels[-1], inner))


def sample_marginals(
    levels: np.ndarray, quantiles: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """n images whose pixels are independent draws from the per-pixel marginals."""
    return quantile_function(levels, quantiles, rng.random((n, quantiles.shape[1])))


def transport_levels(
    levels: np.ndarray, source_quantiles: np.ndarray, x: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Randomised F_s(x): uniform in [F_s(x-), F_s(x)], exactly uniform on [0, 1] for x ~ F_s."""
    left, right = level_interval(levels, source_quantiles, x)
    return left + rng.random(x.shape) * (right - left)
