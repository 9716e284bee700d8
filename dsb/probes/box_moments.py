"""Moving a set of images, jointly and inside the box, until its moments match given ones.

The set X (n, d) is a probe set, not i.i.d. draws: its *sample* mean and covariance are what
the fidelity table checks, so we adjust the whole set at once. One iteration:

1. Covariance step. With R = Sigma - C(X) the covariance residual, the move dX = Xc E with E
   solving the Lyapunov equation Sigma E + E Sigma = R changes the covariance by R to first
   order (C(X + Xc E) = C + C E + E C + ...; we precondition with the target Sigma instead of
   the current C, so its eigendecomposition is computed once). In the eigenbasis U of Sigma,
   E = U [(U' R U)_ij / (l_i + l_j + reg l_max)] U', where U' R U = diag(l) - (Xc U)'(Xc U) / (n-1)
   needs no d^3 product; ``reg`` keeps near-null directions (the
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
from contextlib import contextmanager
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


@contextmanager
def one_thread():
    """Run torch single-threaded. On a shared 2-core machine under load 4, a 2-thread LAPACK
    eigh of a 784 x 784 matrix took 2-12 s (its threads wait on each other) and 1 thread 0.1 s;
    the whole truncnorm sampler took 51 s for Fashion-MNIST with 2 threads, 10 s with 1."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def symmetric_eigh(a: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, float64."""
    with one_thread():
        return torch.linalg.eigh(torch.as_tensor(a, dtype=torch.float64))


def relative_cov_error(x: np.ndarray, cov: np.ndarray) -> float:
    x = torch.as_tensor(x, dtype=torch.float64)
    centred = x - x.mean(dim=0)
    cov = torch.as_tensor(cov, dtype=torch.float64)
    residual = centred.T @ centred / (len(x) - 1) - cov
    return float(torch.linalg.norm(residual) / max(float(torch.linalg.norm(cov)), 1e-300))


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
    spectrum: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> BoxMomentsResult:
    """Move x (n, d) inside [0, 1]^d until its covariance is within ``cov_tol`` (relative
    Frobenius) of ``cov`` and, with a ``correction``, its extra error within ``extra_tol``.

    ``correction(centred) -> (move, error)``: an (n, d) move added to the covariance step and
    the current relative error of what it matches. ``spectrum``: ``symmetric_eigh(cov)`` when
    the caller has it already.
    """
    n, d = x.shape
    if n < 2:
        raise ValueError(f"need at least 2 samples to match a covariance, got {n}")
    dtype = torch.float32
    values, vectors = symmetric_eigh(cov) if spectrum is None else spectrum
    values = values.clamp(min=0)
    scale = values[:, None] + values[None, :] + reg * max(float(values.max()), 1e-300)
    basis, scale, eigenvalues = vectors.to(dtype), scale.to(dtype), values.to(dtype)
    mu = torch.tensor(mean, dtype=dtype)
    norm = max(float(torch.linalg.norm(values)), 1e-300)
    current = torch.tensor(x, dtype=dtype)
    iterations, extra_error = 0, None
    for iterations in range(max_iter + 1):
        centred = current - current.mean(dim=0)
        # Everything in the eigenbasis of Sigma, where Sigma is diagonal: U' R U costs one
        # n d^2 product instead of two d^3 ones, and has the same Frobenius norm as R.
        rotated = centred @ basis
        residual = torch.diag(eigenvalues) - rotated.T @ rotated / (n - 1)
        error = float(torch.linalg.norm(residual)) / norm
        move, extra_error = (0.0, None) if correction is None else correction(centred)
        done = error <= cov_tol and (extra_error is None or extra_error <= extra_tol)
        if done or iterations == max_iter:
            break
        moved = centred + step * ((rotated @ (residual / scale)) @ basis.T) + move
        current = _held_mean_clamp(moved, mu, newton_steps)
    samples = shift_to_mean(current.double().numpy(), mean)
    return BoxMomentsResult(
        samples=samples,
        iterations=iterations,
        cov_error=relative_cov_error(samples, cov),
        mean_abs_error=float(np.abs(samples.mean(axis=0) - mean).mean()),
        extra_error=extra_error,
    )
