"""Moving a set of images, jointly and inside the box, until its moments match given ones.

The set X (n, d) is a probe set, not i.i.d. draws: its *sample* mean and covariance are what
the fidelity table checks, so we adjust the whole set at once. One iteration:

1. Covariance step. With R = Sigma - C(X) the covariance residual, the move dX = Xc E with E
   solving the Lyapunov equation Sigma E + E Sigma = R changes the covariance by R to first
   order (C(X + Xc E) = C + C E + E C + ...; we precondition with the target Sigma instead of
   the current C, so its eigendecomposition is computed once). In the eigenbasis U of Sigma,
   E = U [(U' R U)_ij / (l_i + l_j + reg l_max)] U'; ``reg`` keeps near-null directions (the
   constant border pixels) from taking huge steps.
2. Optional extra move (the sliced third moments of ``third``), added to dX.
3. Box projection with the mean held: x_j -> clamp(x_j + c_j, 0, 1) with per-pixel c_j from a
   few Newton steps on mean clamp(x_j + c_j) = mu_j, the same form as the paper's Algorithm 1.

This is projected, preconditioned gradient descent on ||C(X) - Sigma||_F; ``step`` over-relaxes
it (the box projection undoes part of every step). The loop runs in float32 (the moments are
checked in float64 afterwards, and the tolerances are percent-level); the final mean is made
exact by the bisection of :func:`dsb.probes.mean_shift.shift_to_mean`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from dsb.probes.mean_shift import shift_to_mean

Correction = Callable[[torch.Tensor], tuple[torch.Tensor, float]]


@dataclass
class BoxMomentsResult:
    samples: np.ndarray
    iterations: int
    cov_error: float
    mean_abs_error: float
    extra_error: float | None = None


def relative_cov_error(x: np.ndarray, cov: np.ndarray) -> float:
    centred = x - x.mean(axis=0)
    cov_hat = centred.T @ centred / (len(x) - 1)
    return float(np.linalg.norm(cov_hat - cov) / max(np.linalg.norm(cov), 1e-300))


def _held_mean_clamp(y: torch.Tensor, mean: torch.Tensor, newton_steps: int) -> torch.Tensor:
    shift = mean - y.mean(dim=0)
    for _ in range(newton_steps):
        z = y + shift
        inside = ((z > 0) & (z < 1)).to(y.dtype).mean(dim=0)
        # The clamped mean is piecewise linear in the shift with slope = fraction inside;
        # the floor stops pixels that are almost all clamped from jumping across the box.
        shift = shift + (mean - z.clamp(0, 1).mean(dim=0)) / inside.clamp(min=0.05)
    return (y + shift).clamp(0, 1)


def match_box_moments(
    x: np.ndarray,
    mean: np.ndarray,
    cov: np.ndarray,
    *,
    cov_tol: float,
    max_iter: int,
    step: float = 1.5,
    reg: float = 1e-3,
    newton_steps: int = 3,
    correction: Correction | None = None,
    extra_tol: float = 0.0,
) -> BoxMomentsResult:
    """Move x (n, d) inside [0, 1]^d until its covariance is within ``cov_tol`` (relative
    Frobenius) of ``cov`` and, with a ``correction``, its extra error within ``extra_tol``.

    ``correction(centred) -> (move, error)``: an (n, d) move added to the covariance step and
    the current relative error of what it matches.
    """
    n, d = x.shape
    if n < 2:
        raise ValueError(f"need at least 2 samples to match a covariance, got {n}")
    dtype = torch.float32
    values, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    values = np.clip(values, 0.0, None)
    scale = values[:, None] + values[None, :] + reg * max(values.max(), 1e-300)
    basis, scale = torch.tensor(vectors, dtype=dtype), torch.tensor(scale, dtype=dtype)
    target, mu = torch.tensor(cov, dtype=dtype), torch.tensor(mean, dtype=dtype)
    norm = max(float(np.linalg.norm(cov)), 1e-300)
    current = torch.tensor(x, dtype=dtype)
    iterations, extra_error = 0, None
    for iterations in range(max_iter + 1):
        centred = current - current.mean(dim=0)
        residual = target - centred.T @ centred / (n - 1)
        error = float(torch.linalg.norm(residual)) / norm
        move, extra_error = (0.0, None) if correction is None else correction(centred)
        done = error <= cov_tol and (extra_error is None or extra_error <= extra_tol)
        if done or iterations == max_iter:
            break
        lyapunov = basis @ ((basis.T @ residual @ basis) / scale) @ basis.T
        moved = centred + step * (centred @ lyapunov) + move
        current = _held_mean_clamp(moved, mu, newton_steps)
    samples = shift_to_mean(current.double().numpy(), mean)
    return BoxMomentsResult(
        samples=samples,
        iterations=iterations,
        cov_error=relative_cov_error(samples, cov),
        mean_abs_error=float(np.abs(samples.mean(axis=0) - mean).mean()),
        extra_error=extra_error,
    )
