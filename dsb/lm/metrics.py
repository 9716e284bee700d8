"""What a checkpoint knows: next-token cross-entropy on sequence sets, and KL(n-gram || LM) on
held-out real text."""

from __future__ import annotations

import numpy as np
import torch

from dsb.lm.models import CausalLM
from dsb.lm.ngrams import BigramCounts


def next_token_nll(lm: CausalLM, seqs: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """(N, L) tokens -> (N, L-1) losses -ln q(x_{t+1} | x_{<=t}) in nats."""
    out = []
    for i in range(0, len(seqs), batch_size):
        batch = np.asarray(seqs[i : i + batch_size])
        log_q = lm.log_probs(batch)[:, :-1]
        target = torch.as_tensor(lm.local_ids(batch[:, 1:]), device=log_q.device)
        out.append(-log_q.gather(-1, target[..., None])[..., 0].cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def kl_divergence(p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) = sum_x p(x) (ln p(x) - ln q(x)) along the last axis, with 0 ln 0 = 0."""
    return (torch.xlogy(p, p) - torch.where(p > 0, p * log_q, 0.0)).sum(-1)


def unigram_table(unigram: np.ndarray, lm: CausalLM) -> torch.Tensor:
    """P(x) on the model's vocabulary; mass on tokens it cannot emit makes the KL infinite."""
    p = unigram / unigram.sum()
    local = lm.local_ids(np.arange(len(unigram)))
    if p[local < 0].sum() > 0:
        raise ValueError("the unigram model puts mass on tokens outside the LM's vocabulary")
    table = torch.zeros(lm.n_outputs, dtype=torch.float64)
    table[local[local >= 0]] = torch.as_tensor(p[local >= 0])
    return table


def bigram_rows(bigram: BigramCounts, prev: np.ndarray, lm: CausalLM) -> torch.Tensor:
    """P(next | prev) = c(prev, next) / sum_b c(prev, b) for each entry of ``prev``: rows
    normalised over the NEXT token (upstream normalised over the previous one), as dense rows on
    the model's vocabulary. Every token in ``prev`` must have
    been followed by something in the counts."""
    lo, hi = bigram.indptr[prev], bigram.indptr[prev + 1]
    lengths = hi - lo
    if np.any(lengths == 0):
        raise ValueError("bigram_rows: some tokens were never followed by anything")
    entry = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    row = np.repeat(np.arange(len(prev)), lengths)
    col = lm.local_ids(bigram.next_token[entry])
    if (col < 0).any():
        raise ValueError("the bigram model puts mass on tokens outside the LM's vocabulary")
    dense = torch.zeros(len(prev), lm.n_outputs, dtype=torch.float64)
    dense[row, col] = torch.as_tensor(bigram.count[entry] / bigram.row_totals()[prev][row])
    return dense


def ngram_kl(
    lm: CausalLM,
    windows: np.ndarray,
    unigram: np.ndarray,
    bigram: BigramCounts,
    batch_size: int = 8,
) -> dict[int, float]:
    """Mean over positions of KL(P_n(. | context) || LM(. | context)) for n = 1, 2 on real text.
    Positions whose token never precedes another in the counts are skipped for n = 2."""
    p1 = unigram_table(unigram, lm)
    followed = bigram.row_totals() > 0
    sums, counts = {1: 0.0, 2: 0.0}, {1: 0, 2: 0}
    for i in range(0, len(windows), batch_size):
        batch = np.asarray(windows[i : i + batch_size])
        log_q = lm.log_probs(batch).double().cpu().flatten(0, 1)
        sums[1] += kl_divergence(p1, log_q).sum().item()
        counts[1] += len(log_q)
        prev = batch.reshape(-1).astype(np.int64)
        keep = followed[prev]
        p2 = bigram_rows(bigram, prev[keep], lm)
        sums[2] += kl_divergence(p2, log_q[torch.as_tensor(keep)]).sum().item()
        counts[2] += int(keep.sum())
    return {n: sums[n] / counts[n] for n in (1, 2)}
