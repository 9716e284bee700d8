"""Sequences from n-gram models of a token stream: the max-entropy processes matching its n-gram
frequencies (i.i.d. for unigrams, a Markov chain for bigrams)."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from dsb.lm.ngrams import BigramCounts


def _inverse_cdf(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    cum = np.cumsum(weights, dtype=np.float64)
    return np.searchsorted(cum, u * cum[-1], side="right")


def sample_unigram(unigram: np.ndarray, n: int, length: int, rng: np.random.Generator):
    """n i.i.d. sequences with P(x) proportional to the unigram counts."""
    if unigram.sum() <= 0:
        raise ValueError("unigram counts are all zero")
    return _inverse_cdf(unigram, rng.random((n, length)))


def sample_bigram(
    bigram: BigramCounts, unigram: np.ndarray, n: int, length: int, rng: np.random.Generator
) -> np.ndarray:
    """Markov chain x_0 ~ unigram, x_{t+1} ~ c(x_t, .) / sum_b c(x_t, b). A token never followed
    by anything in the stream (the stream's last one) restarts from the unigram."""
    seqs = np.empty((n, length), dtype=np.int64)
    seqs[:, 0] = sample_unigram(unigram, n, 1, rng)[:, 0]
    cum = np.cumsum(bigram.count, dtype=np.float64)
    start = np.concatenate([[0.0], cum])[bigram.indptr[:-1]]
    totals = bigram.row_totals()
    for t in range(1, length):
        prev = seqs[:, t - 1]
        target = start[prev] + rng.random(n) * totals[prev]
        k = np.minimum(np.searchsorted(cum, target, side="right"), len(cum) - 1)
        nxt = bigram.next_token[k].astype(np.int64)
        dead = totals[prev] == 0
        if dead.any():
            nxt[dead] = sample_unigram(unigram, int(dead.sum()), 1, rng)[:, 0]
        seqs[:, t] = nxt
    return seqs


def sample_backoff(
    index, tokens: np.ndarray, order: int, n: int, length: int, rng: np.random.Generator
) -> np.ndarray:
    """Unsmoothed order-n model from an empty prompt: x_t given the last n-1 tokens (fewer at the
    start) is the token after a uniformly drawn occurrence of that context in the stream, which
    is exactly c(context, x) / c(context). A context seen only at the stream's end backs off to a
    shorter one. ``index`` is a tokengrams index over ``tokens``; draws are seeded by ``rng``."""
    if order < 1:
        raise ValueError(f"n-gram order must be >= 1, got {order}")
    seqs = np.empty((n, length), dtype=np.int64)
    last = len(tokens) - 1
    for i in tqdm(range(n), desc=f"{order}-gram sequences", leave=False):
        for t in range(length):
            context = seqs[i, max(0, t - order + 1) : t].tolist()
            while True:
                if not context:
                    seqs[i, t] = tokens[rng.integers(len(tokens))]
                    break
                starts = np.asarray(index.positions(context), dtype=np.int64)
                starts = starts[starts + len(context) <= last]
                if len(starts):
                    seqs[i, t] = tokens[starts[rng.integers(len(starts))] + len(context)]
                    break
                context = context[1:]
    return seqs
