"""truncnorm: our joint box moment matching against a re-implementation of upstream's sampler,
on the same Fashion-MNIST classes with the same number of samples, in the same run.

Upstream (features-across-time) parametrised the samples as x = sigmoid(w), started from
clamped Gaussian draws, and ran torch L-BFGS (strong Wolfe line search, 100 iterations) on

    ||mean(x) - mu|| + ||cov(x) - Sigma||_F - 1e-3 * mean_i log (nearest-neighbour distance of x_i),

in float32. Both run single-threaded (ours always does; see dsb.probes.box_moments.one_thread).
Per class, upstream runs first; ours then runs twice: with the probe's default tolerance
(cov_tol = 0.02, what the pipeline makes) and with cov_tol = 0.9 x upstream's error on that
class ("matched": is a lower error reachable in no more time?). Prints the relative Frobenius
covariance error, the mean abs error of the mean and seconds, and the ratios ours / upstream.
Usage: bench_truncnorm.py [classes, default 0,5,8] [n]
"""

import gzip
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from dsb.probes.box_moments import relative_cov_error
from dsb.probes.truncnorm import sample_truncnorm
from dsb.stats import class_stats

FASHION = Path("/usr/share/datasets/fashion-mnist")


def read_idx(name: str, header: int) -> np.ndarray:
    with gzip.open(FASHION / name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def upstream_truncnorm(mean, cov, n, rng, iterations=100, entropy_weight=1e-3, eps=1e-4):
    mu, sigma = torch.tensor(mean, dtype=torch.float32), torch.tensor(cov, dtype=torch.float32)
    draws = rng.multivariate_normal(mean, cov, size=n, method="eigh")
    start = torch.tensor(np.clip(draws, eps, 1 - eps), dtype=torch.float32)
    w = torch.logit(start).requires_grad_(True)
    optimizer = torch.optim.LBFGS([w], max_iter=iterations, line_search_fn="strong_wolfe")
    mask = torch.eye(n, dtype=torch.bool)

    def closure():
        optimizer.zero_grad()
        x = torch.sigmoid(w)
        centred = x - x.mean(dim=0)
        cov_x = centred.T @ centred / (n - 1)
        distances = torch.cdist(x, x).masked_fill(mask, float("inf"))
        nearest = distances.min(dim=1).values
        loss = (
            torch.linalg.norm(x.mean(dim=0) - mu)
            + torch.linalg.norm(cov_x - sigma)
            - entropy_weight * nearest.log().mean()
        )
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.sigmoid(w).detach().double().numpy()


def main() -> None:
    classes = [int(c) for c in (sys.argv[1] if len(sys.argv) > 1 else "0,5,8").split(",")]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    torch.set_num_threads(1)
    images = read_idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    labels = read_idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    stats = class_stats(images, labels, [str(c) for c in range(10)])
    print(f"Fashion-MNIST classes {classes}, n = {n} per class, d = {stats.dim}, 1 thread")
    print(f"load average at start: {os.getloadavg()}")
    print(f"{'class':>5} {'method':14} {'cov err':>8} {'mean MAE':>9} {'s':>7}")
    rows = {}
    for c in classes:
        mean, cov = stats.means[c], stats.covs[c]
        start = time.perf_counter()
        x = upstream_truncnorm(mean, cov, n, np.random.default_rng(c))
        rows[c, "upstream"] = report(c, "upstream", x, mean, cov, time.perf_counter() - start)
        for method, tol in (("ours default", 0.02), ("ours matched", 0.9 * rows[c, "upstream"][0])):
            start = time.perf_counter()
            result = sample_truncnorm(
                mean, cov, n, np.random.default_rng(c), cov_tol=tol, max_iter=2000
            )
            rows[c, method] = report(
                c, method, result.samples, mean, cov, time.perf_counter() - start
            )
    print(f"load average at end: {os.getloadavg()}")
    for method in ("ours default", "ours matched"):
        error = [rows[c, method][0] / rows[c, "upstream"][0] for c in classes]
        seconds = [rows[c, method][1] / rows[c, "upstream"][1] for c in classes]
        print(
            f"{method} / upstream: cov error ratio {np.round(error, 3).tolist()}, "
            f"time ratio {np.round(seconds, 3).tolist()}"
        )


def report(c, method, x, mean, cov, seconds):
    error = relative_cov_error(x, cov)
    mae = float(np.abs(x.mean(axis=0) - mean).mean())
    inside = bool(x.min() >= 0 and x.max() <= 1)
    print(
        f"{c:>5} {method:14} {error:8.4f} {mae:9.2e} {seconds:7.1f}  in box: {inside}", flush=True
    )
    return error, seconds


if __name__ == "__main__":
    main()
