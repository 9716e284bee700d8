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
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def _eigh(a: np.ndarray, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    if device == "cpu":
        return np.linalg.eigh(a)
    import torch

    values, vectors = torch.linalg.eigh(torch.as_tensor(a, device=device))
    return values.cpu().numpy(), vectors.cpu().numpy()


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
    values = np.linalg.eigvalsh(cov)
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
    done: set[tuple[int, int]] = set()
    for s in range(k):
        wanted = [
            t
            for t in range(k)
            if t != s
            and (s, t) not in done
            and (s in images or (t in images and invertible[t] and (t, s) not in done))
        ]
        if not wanted:
            continue
        sigma, basis = _eigh(covs[s], device)
        root, inverse_root = _roots(sigma, rcond)
        for t in wanted:
            middle = basis.T @ covs[t] @ basis
            middle *= root[:, None] * root[None, :]
            lam, w = _eigh(0.5 * (middle + middle.T), device)
            del middle
            lam_root, lam_inverse_root = _roots(lam)
            if s in images:
                # A in the eigenbasis of S: diag(S^{+1/2}) W diag(lam^{1/2}) W' diag(S^{+1/2}).
                z = ((images[s] - means[s]) @ basis) * inverse_root
                z = ((z @ w) * lam_root) @ w.T
                yield s, t, means[t] + (z * inverse_root) @ basis.T
            done.add((s, t))
            if invertible[t] and (t, s) not in done:
                if t in images:
                    # The inverse map: diag(S^{1/2}) W diag(lam^{+-1/2}) W' diag(S^{1/2}).
                    z = ((images[t] - means[t]) @ basis) * root
                    z = ((z @ w) * lam_inverse_root) @ w.T
                    yield t, s, means[s] + (z * root) @ basis.T
                done.add((t, s))
            del w
