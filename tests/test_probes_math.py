"""The mathematics of the probes: fitted densities, constraints and transport maps."""

import numpy as np
import ot
import pytest
from scipy import integrate, optimize

from dsb.probes.maxent_box import box_mean, sample_box_maxent, solve_rate
from dsb.probes.mean_shift import shift_to_mean
from dsb.probes.optimal_transport import ot_map, transport_pairs
from dsb.probes.quantile import quantile_function, transport_levels


def quad_mean(b):
    weight = integrate.quad(lambda x: np.exp(-b * x), 0, 1, epsabs=0, epsrel=1e-13)[0]
    first = integrate.quad(lambda x: x * np.exp(-b * x), 0, 1, epsabs=0, epsrel=1e-13)[0]
    return first / weight


def test_conrad_analytic_mean_hits_every_target_including_upstream_failure_band():
    targets = np.concatenate([np.linspace(0.001, 0.999, 999), np.linspace(0.31, 0.4999, 200)])
    rates = solve_rate(targets)
    assert np.abs(box_mean(rates) - targets).max() < 1e-9
    for t, b in zip(targets[::50], rates[::50], strict=True):
        assert abs(quad_mean(b) - t) < 1e-9


def test_conrad_sample_means_within_four_standard_errors():
    means = np.array([0.0, 0.001, 0.05, 0.31, 0.4, 0.49, 0.5, 0.7, 0.999, 1.0])
    x, _ = sample_box_maxent(means, 20000, np.random.default_rng(0))
    assert x.min() >= 0 and x.max() <= 1
    se = x.std(axis=0) / np.sqrt(len(x))
    assert np.all(np.abs(x.mean(axis=0) - means) <= 4 * se + 1e-12)


def test_shift_stays_in_box_and_hits_target_mean():
    rng = np.random.default_rng(1)
    x = rng.random((50, 30)) ** 3
    target = np.concatenate([[0.0, 1.0], rng.random(28)])
    y = shift_to_mean(x, target)
    assert y.min() >= 0 and y.max() <= 1
    assert np.abs(y.mean(axis=0) - target).max() < 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_shift_equals_constrained_least_squares_optimum(seed):
    rng = np.random.default_rng(seed)
    n, d = 8, 3
    x, target = rng.random((n, d)), rng.random(d)
    ours = shift_to_mean(x, target)
    result = optimize.minimize(
        lambda v: ((v - x.ravel()) ** 2).sum(),
        np.full(n * d, 0.5),
        jac=lambda v: 2 * (v - x.ravel()),
        bounds=[(0, 1)] * (n * d),
        constraints={"type": "eq", "fun": lambda v: v.reshape(n, d).mean(axis=0) - target},
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    assert result.success
    assert np.abs(result.x.reshape(n, d) - ours).max() < 1e-5


def random_cov(rng, d, rank):
    g = rng.standard_normal((d, rank))
    return g @ g.T / rank


def test_got_map_is_symmetric_psd_and_pushes_covariance():
    rng = np.random.default_rng(2)
    s, t = random_cov(rng, 40, 80), random_cov(rng, 40, 60)
    a = ot_map(s, t)
    assert np.allclose(a, a.T, atol=0)
    assert np.linalg.eigvalsh(a).min() >= -1e-12
    assert np.linalg.norm(a @ s @ a - t) / np.linalg.norm(t) < 1e-8


def test_got_agrees_with_pot_bures_wasserstein_mapping():
    rng = np.random.default_rng(3)
    s, t = random_cov(rng, 25, 50), random_cov(rng, 25, 40)
    ms, mt = rng.random(25), rng.random(25)
    pot_a, pot_b = ot.gaussian.bures_wasserstein_mapping(ms, mt, s, t)
    a = ot_map(s, t)
    assert np.abs(pot_a - a).max() < 1e-8
    x = rng.random((5, 25))
    assert np.abs((x @ pot_a + pot_b) - (mt + (x - ms) @ a)).max() < 1e-8


def test_got_singular_covariances_are_finite_and_push_on_the_range():
    rng = np.random.default_rng(4)
    s, t = random_cov(rng, 30, 12), random_cov(rng, 30, 50)
    a = ot_map(s, t)
    assert np.isfinite(a).all()
    values, vectors = np.linalg.eigh(s)
    p = vectors[:, values > 1e-10] @ vectors[:, values > 1e-10].T
    assert np.linalg.norm(a @ s @ a - p @ t @ p) / np.linalg.norm(t) < 1e-8


def test_transport_pairs_match_explicit_maps_for_every_ordered_pair():
    rng = np.random.default_rng(5)
    covs = np.stack([random_cov(rng, 20, r) for r in (40, 8, 30, 12)])
    means = rng.random((4, 20))
    images = {c: rng.random((6, 20)) for c in range(4)}
    seen = set()
    for s, t, y in transport_pairs(means, covs, images):
        reference = means[t] + (images[s] - means[s]) @ ot_map(covs[s], covs[t])
        assert np.abs(y - reference).max() < 1e-8
        seen.add((s, t))
    assert seen == {(s, t) for s in range(4) for t in range(4) if s != t}


def test_cqn_is_monotone_matches_target_marginal_and_spreads_ties():
    rng = np.random.default_rng(6)
    levels = np.linspace(0, 1, 257)
    source = np.quantile(np.where(rng.random(5000) < 0.5, 0.0, rng.random(5000)), levels)
    target = np.quantile(rng.beta(2, 5, 5000), levels)
    x = np.where(rng.random(20000) < 0.5, 0.0, rng.random(20000))[:, None]
    u = transport_levels(levels, source[:, None], x, rng)
    y = quantile_function(levels, target[:, None], u)
    order = np.argsort(x[:, 0], kind="stable")
    distinct = np.diff(x[order, 0]) > 0
    assert np.all(np.diff(y[order, 0])[distinct] >= 0)
    # Ties at 0 (half the mass) are spread over the lower half of the target, not piled up.
    assert (
        np.abs(
            np.quantile(y, [0.1, 0.25, 0.5, 0.75, 0.9])
            - np.quantile(target, [0.1, 0.25, 0.5, 0.75, 0.9])
        ).max()
        < 0.02
    )
    assert abs(y.mean() - target.mean()) < 0.01
