"""Second-order edit (`got`): Gaussian optimal transport between class covariances.

The Brenier map from N(mu_s, S) to N(mu_t, T) is x -> mu_t + A (x - mu_s) with

    A = S^{-1/2} (S^{1/2} T S^{1/2})^{1/2} S^{-1/2},

symmetric positive semi-definite with A S A = T. Singular covariances (pixels constant within
a class) use pseudo-inverse square roots, with the tolerance of ``numpy.linalg.pinv``
(d * eps * largest eigenvalue); then A S A = P T P, P the projector onto the range of S.

Memory: upstream held all K^2 maps at once (3.8 GB for CIFAR-10). :func:`transport_pairs`
keeps a handful of d x d float64 matrices: the eigenbasis of one source covariance and one
pair's matrices, and applies each map to the images as soon as it exists.

Time: each ordered pair costs one d x d eigendecomposition. When the target covariance T is
invertible, the map back from t to s is the inverse of A (the symmetric PSD solution of
B T B = S is unique then), and S^{1/2} M^{+1/2} S^{1/2} with M = S^{1/2} T S^{1/2} gives it from
the same decomposition: invertible pairs cost one eigendecomposition for both directions.
The pairs run in torch float64, single-threaded on the CPU (``one_thread``): with numpy's
2-thread LAPACK the 90 Fashion-MNIST pairs took 74 s on the shared machine (load 2.7), 11 s so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

import numpy as np
import torch

from dsb.probes.box_moments import one_thread


def _pinv_cutoff(values: np.ndarray, rcond: float | None = None) -> float:
    rcond = len(values) * np.finfo(np.float64).eps if rcond is None else rcond
    return rcond * max(float(values.max()), 0.0)


def _roots(values: np.ndarray, rcond: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Square roots and pseudo-inverse square roots of PSD eigenvalues."""
    keep = values > _pinv_cutoff(values, rcond)
    root = np.sqrt(np.where(keep, values, 0.0))
    with np.errstate(divide="ignore"):
        inverse_root = np.where(keep, 1.0 / root, 0.0)
    return root, inverse_root


def psd_sqrt(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The PSD square root of a symmetric PSD matrix and its pseudo-inverse."""
    values, vectors = np.linalg.eigh(a)
    root, inverse_root = _roots(values)
    return (vectors * root) @ vectors.T, (vectors * inverse_root) @ vectors.T


def ot_map(source_cov: np.ndarray, target_cov: np.ndarray) -> np.ndarray:
    """A = S^{-1/2} (S^{1/2} T S^{1/2})^{1/2} S^{-1/2} (pseudo-inverse roots), float64."""
    root, inverse_root = psd_sqrt(np.asarray(source_cov, dtype=np.float64))
    middle, _ = psd_sqrt(root @ np.asarray(target_cov, dtype=np.float64) @ root)
    a = inverse_root @ middle @ inverse_root
    return 0.5 * (a + a.T)


def is_invertible(cov: np.ndarray, rcond: float | None = None) -> bool:
    with one_thread():
        values = torch.linalg.eigvalsh(torch.as_tensor(cov, dtype=torch.float64)).numpy()
    return bool(values.min() > _pinv_cutoff(values, rcond))


def transport_pairs(
    means: np.ndarray,
    covs: np.ndarray,
    images: dict[int, np.ndarray],
    *,
    device: str = "cpu",
    rcond: float | None = None,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (s, t, images[s] moved onto class t) for every ordered pair s != t, float64.

    ``images`` maps a source class to its (n_s, d) rows; classes without images are only
    targets. ``rcond``: eigenvalues of a source covariance below rcond * largest count as zero
    (default: the pinv tolerance); held-out images have components along directions of
    almost no training variance, which S^{-1/2} would blow up. Pairs come in no fixed
    order; each appears exactly once.
    """
    k = len(means)
    invertible = [is_invertible(covs[c], rcond) for c in range(k)]
    with one_thread() if device == "cpu" else nullcontext():
        yield from _pairs(means, covs, images, invertible, device, rcond)


def _pairs(means, covs, images, invertible, device, rcond):
    def tensor(a):
        return torch.as_tensor(a, dtype=torch.float64, device=device)

    def array(a):
        return a.cpu().numpy()

    done: set[tuple[int, int]] = set()
    for s in range(len(means)):
        wanted = [
            t
            for t in range(len(means))
            if t != s
            and (s, t) not in done
            and (s in images or (t in images and invertible[t] and (t, s) not in done))
        ]
        if not wanted:
            continue
        sigma, basis = torch.linalg.eigh(tensor(covs[s]))
        root, inverse_root = (tensor(r) for r in _roots(array(sigma), rcond))
        for t in wanted:
            middle = basis.T @ tensor(covs[t]) @ basis
            middle *= root[:, None] * root[None, :]
            lam, w = torch.linalg.eigh(0.5 * (middle + middle.T))
            del middle
            lam_root, lam_inverse_root = (tensor(r) for r in _roots(array(lam)))
            if s in images:
                # A in the eigenbasis of S: diag(S^{+1/2}) W diag(lam^{1/2}) W' diag(S^{+1/2}).
                z = ((tensor(images[s]) - tensor(means[s])) @ basis) * inverse_root
                z = ((z @ w) * lam_root) @ w.T
                yield s, t, array(tensor(means[t]) + (z * inverse_root) @ basis.T)
            done.add((s, t))
            if invertible[t] and (t, s) not in done:
                if t in images:
                    # The inverse map: diag(S^{1/2}) W diag(lam^{+-1/2}) W' diag(S^{1/2}).
                    z = ((tensor(images[t]) - tensor(means[t])) @ basis) * root
                    z = ((z @ w) * lam_inverse_root) @ w.T
                    yield t, s, array(tensor(means[s]) + (z * root) @ basis.T)
                done.add((t, s))
            del w
