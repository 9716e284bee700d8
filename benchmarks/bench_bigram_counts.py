"""Bigram counting: the sparse streaming count (dsb.lm.ngrams) on 10^8 random tokens over the
GPT-NeoX vocabulary, against a dense V x V bincount baseline on a vocabulary small enough to fit,
in the same run. Prints tokens/s and peak memory (each count in a fresh process)."""

import multiprocessing as mp
import resource
import sys
import time

import numpy as np


def run(kind: str, n: int, vocab: int, queue) -> None:
    tokens = np.random.default_rng(0).integers(0, vocab, n, dtype=np.uint16)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if kind == "sparse":
        from dsb.lm.ngrams import count_bigrams

        distinct = count_bigrams(tokens, vocab, progress=False).n_distinct
    else:
        codes = tokens[:-1].astype(np.int64) * vocab + tokens[1:]
        distinct = int(np.count_nonzero(np.bincount(codes, minlength=vocab * vocab)))
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((kind, vocab, n, seconds, distinct, peak_kb / 2**20, (peak_kb - base) / 2**20))


if __name__ == "__main__":
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**8
    ctx = mp.get_context("spawn")
    results = []
    for kind, vocab in (("dense", 4096), ("sparse", 4096), ("sparse", 50277)):
        queue = ctx.Queue()
        proc = ctx.Process(target=run, args=(kind, n, vocab, queue))
        proc.start()
        results.append(queue.get())
        proc.join()
    dense_rate = results[0][2] / results[0][3]
    print(f"{'method':8} {'V':>6} {'tokens':>10} {'s':>7} {'tokens/s':>10} {'vs dense':>8} "
          f"{'distinct':>10} {'peak GB':>8} {'count GB':>8}")  # fmt: skip
    for kind, vocab, n_tok, s, distinct, peak, extra in results:
        print(f"{kind:8} {vocab:6d} {n_tok:10.2e} {s:7.1f} {n_tok / s:10.3e} "
              f"{n_tok / s / dense_rate:8.2f} {distinct:10d} {peak:8.2f} {extra:8.2f}")  # fmt: skip
