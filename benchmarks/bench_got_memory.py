"""got: time and peak memory of our pair-by-pair Gaussian OT (dsb.probes.optimal_transport.
transport_pairs) against concept-erasure 0.2.4's QuadraticEditor, which forms all k^2 maps at
once (QuadraticFitter.editor: ot_map(sigma[:, None], sigma)), in the same run.

Synthetic SPD class covariances (random rank-d/8 factor plus a diagonal), k classes, 100 images
per class moved to every other class. Each method runs in a fresh subprocess, single-threaded;
peak memory is ru_maxrss, and "extra" is the peak minus the resident size once both libraries
are imported and the inputs (means, float64 covariances, images) exist. Ours works in float64;
theirs in float32, as upstream ran it (float64 would double their memory).
Usage: bench_got_memory.py [d list, default 3072] [k, default 10] [methods, default both:
concept-erasure,ours]
"""

import multiprocessing as mp
import os
import resource
import sys
import time

import numpy as np


def inputs(d: int, k: int, per_class: int = 100):
    rng = np.random.default_rng(0)
    rank = max(d // 8, 1)
    covs = np.empty((k, d, d))
    for c in range(k):
        factor = rng.standard_normal((d, rank)) / np.sqrt(rank)
        covs[c] = factor @ factor.T + np.diag(rng.uniform(0.01, 0.1, d))
    means = rng.random((k, d))
    images = {c: rng.random((per_class, d)) for c in range(k)}
    return means, covs, images


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run(method: str, d: int, k: int, queue) -> None:
    import torch
    from concept_erasure.optimal_transport import ot_map
    from concept_erasure.quadratic import QuadraticEditor

    from dsb.probes.optimal_transport import transport_pairs

    torch.set_num_threads(1)
    means, covs, images = inputs(d, k)
    base = rss_gib()
    start = time.perf_counter()
    moved = 0
    if method == "ours":
        for _, _, y in transport_pairs(means, covs, images):
            moved += len(y)
    else:
        sigma = torch.tensor(covs, dtype=torch.float32)
        editor = QuadraticEditor(
            torch.tensor(means, dtype=torch.float32), ot_map(sigma[:, None], sigma)
        )
        for s, x in images.items():
            x = torch.tensor(x, dtype=torch.float32)
            for t in range(k):
                if t != s:
                    moved += len(editor.transport(x, s, t))
    seconds = time.perf_counter() - start
    queue.put((method, d, k, seconds, rss_gib(), rss_gib() - base, moved))


def main() -> None:
    dims = [int(d) for d in (sys.argv[1] if len(sys.argv) > 1 else "3072").split(",")]
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    methods = (sys.argv[3] if len(sys.argv) > 3 else "concept-erasure,ours").split(",")
    ctx = mp.get_context("spawn")
    print(f"load average at start: {os.getloadavg()}")
    print(f"{'method':9} {'d':>5} {'k':>3} {'s':>8} {'peak GiB':>9} {'extra GiB':>9} {'images':>7}")
    for d in dims:
        results = {}
        for method in methods:
            queue = ctx.Queue()
            proc = ctx.Process(target=run, args=(method, d, k, queue))
            proc.start()
            proc.join()
            if proc.exitcode != 0:
                print(f"{method:9} {d:>5} {k:>3} failed with exit code {proc.exitcode}")
                continue
            results[method] = queue.get()
            name, _, _, seconds, peak, extra, moved = results[method]
            print(f"{name:9} {d:>5} {k:>3} {seconds:8.1f} {peak:9.2f} {extra:9.2f} {moved:>7}")
        if len(results) == 2:
            ours, theirs = results["ours"], results["concept-erasure"]
            print(
                f"d={d}: time ratio ours/theirs {ours[3] / theirs[3]:.3f}, peak ratio "
                f"theirs/ours {theirs[4] / ours[4]:.1f}x, extra ratio theirs/ours "
                f"{theirs[5] / max(ours[5], 1e-9):.1f}x"
            )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
