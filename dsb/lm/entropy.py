"""Entropy rates of the n-gram models, the reference lines of the loss curves."""

from __future__ import annotations

import numpy as np

from dsb.lm.ngrams import BigramCounts


def unigram_entropy(unigram: np.ndarray) -> float:
    """H(X) = -sum_x p(x) ln p(x), nats per token."""
    p = unigram[unigram > 0] / unigram.sum()
    return float(-(p * np.log(p)).sum())


def bigram_conditional_entropy(bigram: BigramCounts) -> float:
    """H(X_{t+1} | X_t) = -sum_{a,b} p(a,b) ln p(b|a), with p(b|a) = c(a,b) / sum_b' c(a,b')
    (rows normalised over the next token), nats per token."""
    totals = bigram.row_totals()
    c = bigram.count.astype(np.float64)
    p_next = c / totals[bigram.prev_token()]
    return float(-(c / c.sum() * np.log(p_next)).sum())


def bits_per_byte(nats_per_token, bytes_per_token: float):
    """Loss per token in nats -> bits per UTF-8 byte of the text the tokens encode."""
    if bytes_per_token <= 0:
        raise ValueError(f"bytes_per_token must be positive, got {bytes_per_token}")
    return np.asarray(nats_per_token) / np.log(2) / bytes_per_token
