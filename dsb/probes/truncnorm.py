"""Second-order surrogate inside the box (`truncnorm`): images in [0, 1]^d whose class mean and
covariance match the training class.

What this is, honestly: not an exact sample of the box max-ent density exp(l.x + x'Lx)
(fitting l and L needs MCMC in d dimensions). It is a Gaussian sample, moved as little as a
cheap alternating scheme allows onto the set of box-feasible image sets with the target
moments:

1. Start from n Gaussian draws whose *sample* mean and covariance are exactly mu and Sigma
   (white noise whitened to zero mean and identity covariance, then coloured), so that sampling
   noise does not count against the fidelity of the set.
2. Box step: per pixel, y = clamp(a (z - mean z) + b, 0, 1) with the (a, b) that make the
   pixel's mean and variance exact (2x2 Newton; bisection where Newton stalls). This keeps the
   marginal shape of the Gaussian inside the box and each pixel's first two moments exact.
3. Covariance step: recolour the centred set by L_hat^{-T} L^T (Cholesky factors of the current
   and target covariances; the identity when they agree), which makes the covariance exact
   but may leave the box. Back to 2 until the relative Frobenius error of the box set's
   covariance is below ``cov_tol``.

The returned set is always the output of a box step: inside [0, 1], pixel means and variances
exact, off-diagonal covariances within ``cov_tol`` when it converged (recorded in the result).
Pixels pile up at 0 and 1, like the real Fashion-MNIST background, unlike the smooth max-ent
density. Upstream optimised sigmoid-parametrised samples with L-BFGS and a nearest-neighbour
entropy term; see ``benchmarks/bench_truncnorm.py`` for the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsb.probes.gaussian import cov_sqrt


@dataclass
class TruncnormResult:
    samples: np.ndarray
    iterations: int
    cov_error: float


def whitened_noise(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """(n, d) noise with sample mean exactly 0 and sample covariance exactly I (n > d)."""
    g = rng.standard_normal((n, d))
    g -= g.mean(axis=0)
    if n <= d:
        return g
    lower = np.linalg.cholesky(g.T @ g / (n - 1))
    return np.linalg.solve(lower, g.T).T


def _moment_residuals(y: np.ndarray, mean: np.ndarray, raw2: np.ndarray):
    return y.mean(axis=0) - mean, (y * y).mean(axis=0) - raw2


def box_marginals(
    z: np.ndarray, mean: np.ndarray, var: np.ndarray, newton_steps: int = 30, tol: float = 1e-10
) -> np.ndarray:
    """Per pixel clamp(a (z - zbar) + b, 0, 1) with sample mean `mean` and variance `var`.

    Needs 0 <= var < mean (1 - mean), which every distribution on [0, 1] satisfies.
    """
    n = len(z)
    raw2 = mean**2 + var * (n - 1) / n
    centred = z - z.mean(axis=0)
    spread = centred.std(axis=0, ddof=1)
    u = np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)
    a, b = np.sqrt(var), mean.copy()
    for _ in range(newton_steps):
        lin = a * u + b
        inside = (lin > 0) & (lin < 1)
        y = np.clip(lin, 0.0, 1.0)
        f1, f2 = _moment_residuals(y, mean, raw2)
        j11, j12 = (u * inside).mean(axis=0), inside.mean(axis=0)
        j21, j22 = 2 * (y * u * inside).mean(axis=0), 2 * (y * inside).mean(axis=0)
        det = j11 * j22 - j12 * j21
        ok = np.abs(det) > 1e-12
        safe = np.where(ok, det, 1.0)
        da = np.where(ok, (j22 * f1 - j12 * f2) / safe, 0.0)
        db = np.where(ok, (j11 * f2 - j21 * f1) / safe, f1)
        # Damped: a clamp makes the moments piecewise smooth, full steps can jump a kink.
        a = np.clip(a - da, 0.5 * a, 2.0 * a)
        b = b - np.clip(db, -0.25, 0.25)
    y = np.clip(a * u + b, 0.0, 1.0)
    f1, f2 = _moment_residuals(y, mean, raw2)
    stalled = np.flatnonzero((np.abs(f1) > tol) | (np.abs(f2) > tol))
    if len(stalled):
        y[:, stalled] = _bisect_marginals(u[:, stalled], mean[stalled], raw2[stalled])
    return y


def _clamped_shift(u: np.ndarray, a: np.ndarray, mean: np.ndarray, steps: int = 60) -> np.ndarray:
    """b with mean clamp(a u + b) = mean, by bisection (the mean is monotone in b)."""
    lin = a * u
    lo, hi = -lin.max(axis=0), 1.0 - lin.min(axis=0)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        below = np.clip(lin + mid, 0.0, 1.0).mean(axis=0) < mean
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _bisect_marginals(u: np.ndarray, mean: np.ndarray, raw2: np.ndarray, steps: int = 60):
    # With the mean held exact, the second moment grows with the scale a: bisect on log a.
    lo, hi = np.full(len(mean), -12.0), np.full(len(mean), 6.0)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        a = np.exp(mid)
        y = np.clip(a * u + _clamped_shift(u, a, mean), 0.0, 1.0)
        below = (y * y).mean(axis=0) < raw2
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    a = np.exp(0.5 * (lo + hi))
    return np.clip(a * u + _clamped_shift(u, a, mean), 0.0, 1.0)


def relative_cov_error(cov_hat: np.ndarray, cov: np.ndarray) -> float:
    return float(np.linalg.norm(cov_hat - cov) / max(np.linalg.norm(cov), 1e-300))


def sample_truncnorm(
    mean: np.ndarray,
    cov: np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    cov_tol: float = 0.02,
    max_iter: int = 60,
) -> TruncnormResult:
    d = len(mean)
    var = np.clip(np.diag(cov), 0.0, mean * (1.0 - mean))
    # A jitter far below any pixel variance that matters keeps the Cholesky factors defined
    # when pixels are constant within the class.
    jitter = 1e-9 * max(np.trace(cov) / d, 1e-12) * np.eye(d)
    target_factor = np.linalg.cholesky(cov + jitter)
    z = mean + whitened_noise(n, d, rng) @ cov_sqrt(cov)
    for iteration in range(1, max_iter + 1):
        x = box_marginals(z, mean, var)
        centred = x - x.mean(axis=0)
        cov_hat = centred.T @ centred / (n - 1)
        error = relative_cov_error(cov_hat, cov)
        if error <= cov_tol or iteration == max_iter:
            return TruncnormResult(x, iteration, error)
        current_factor = np.linalg.cholesky(cov_hat + jitter)
        z = mean + centred @ np.linalg.solve(current_factor.T, target_factor.T)
    raise AssertionError("unreachable")
