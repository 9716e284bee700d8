"""Moment matching inside the box: the joint covariance steps and the third-moment tensor gap."""

import numpy as np
import torch

from dsb.probes.box_moments import match_box_moments, relative_cov_error
from dsb.probes.third import cubed_gram_sum, sample_third, tensor_gap_step
from dsb.probes.truncnorm import sample_truncnorm, whitened_noise


def box_data(rng, n, d):
    # Correlated, skewed, with mass at 0: a small stand-in for image pixels.
    latent = rng.standard_normal((n, 3)) @ rng.standard_normal((3, d))
    return np.clip(0.3 + 0.2 * latent + 0.05 * rng.standard_normal((n, d)), 0, 1) ** 1.5


def test_whitened_noise_has_exact_sample_moments():
    g = whitened_noise(300, 20, np.random.default_rng(0)).numpy()
    assert np.abs(g.mean(axis=0)).max() < 1e-12
    assert np.abs(np.cov(g, rowvar=False) - np.eye(20)).max() < 1e-10


def test_truncnorm_matches_a_feasible_target_inside_the_box():
    rng = np.random.default_rng(1)
    real = box_data(rng, 5000, 30)
    mean, cov = real.mean(axis=0), np.cov(real, rowvar=False)
    result = sample_truncnorm(mean, cov, 400, rng, cov_tol=0.01)
    x = result.samples
    assert x.min() >= 0 and x.max() <= 1
    assert np.abs(x.mean(axis=0) - mean).max() < 1e-9
    assert np.linalg.norm(np.cov(x, rowvar=False) - cov) / np.linalg.norm(cov) <= 0.01
    assert abs(result.cov_error - relative_cov_error(x, cov)) < 1e-12


def test_match_box_moments_reports_failure_honestly_when_it_cannot_converge():
    rng = np.random.default_rng(2)
    real = box_data(rng, 2000, 10)
    # A covariance no set in the box can have: variances above the Bernoulli bound m (1 - m).
    mean, cov = real.mean(axis=0), 4 * np.cov(real, rowvar=False) + np.eye(10)
    start = np.clip(mean + 0.1 * rng.standard_normal((200, 10)), 0, 1)
    result = match_box_moments(start, mean, cov, cov_tol=0.01, max_iter=5)
    assert result.iterations == 5
    assert result.cov_error > 0.01
    assert result.samples.min() >= 0 and result.samples.max() <= 1


def test_tensor_gap_by_gram_matrices_equals_the_explicit_tensor_norm():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((40, 6)), rng.standard_normal((70, 6)) ** 2
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    t_hat = np.einsum("ni,nj,nk->ijk", x, x, x) / len(x)
    t = np.einsum("ni,nj,nk->ijk", y, y, y) / len(y)
    correction = tensor_gap_step(y, np.eye(6), step=0.5)
    move, relative_gap = correction(torch.tensor(x, dtype=torch.float32))
    assert abs(relative_gap - np.linalg.norm(t_hat - t) / np.linalg.norm(t)) < 1e-4
    assert abs(cubed_gram_sum(torch.tensor(y), torch.tensor(y)) / 70**2 - (t**2).sum()) < 1e-9
    # The move is a descent direction of the explicit gap.
    moved = x + 1e-3 * move.double().numpy()
    t_moved = np.einsum("ni,nj,nk->ijk", moved, moved, moved) / len(x)
    assert np.linalg.norm(t_moved - t) < np.linalg.norm(t_hat - t)


def test_third_lowers_the_third_moment_gap_and_keeps_second_order():
    rng = np.random.default_rng(4)
    real = box_data(rng, 3000, 12)
    mean, cov = real.mean(axis=0), np.cov(real, rowvar=False)
    second = sample_truncnorm(mean, cov, 500, np.random.default_rng(5)).samples
    result, fraction = sample_third(mean, cov, real, 500, np.random.default_rng(5), rank=12)
    assert fraction == 1.0 or abs(fraction - 1.0) < 1e-12

    def gap(x):
        xc, yc = x - x.mean(axis=0), real - mean
        t_hat = np.einsum("ni,nj,nk->ijk", xc, xc, xc) / len(x)
        t = np.einsum("ni,nj,nk->ijk", yc, yc, yc) / len(real)
        return np.linalg.norm(t_hat - t) / np.linalg.norm(t)

    assert gap(result.samples) < 0.6 * gap(second)
    assert result.samples.min() >= 0 and result.samples.max() <= 1
    assert np.abs(result.samples.mean(axis=0) - mean).max() < 1e-9
    assert result.cov_error <= 0.02
