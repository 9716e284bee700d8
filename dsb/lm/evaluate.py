"""Every checkpoint of one model against every sequence set: long tables for the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm import tqdm

from dsb.lm.entropy import bits_per_byte
from dsb.lm.metrics import next_token_nll, ngram_kl
from dsb.lm.models import load_checkpoint
from dsb.lm.ngrams import BigramCounts


def evaluate_model(
    source: str,
    steps: list[int],
    sequence_sets: dict[str, np.ndarray],
    windows: np.ndarray,
    unigram: np.ndarray,
    bigram: BigramCounts,
    *,
    vocab_size: int,
    bytes_per_token: float,
    labels: dict,
    device: str = "cpu",
    batch_size: int = 16,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(loss, loss by position, KL) tables; ``labels`` (model, size, seed, variant) go into every
    row. The ``real`` set is the held-out ``windows``."""
    losses, positions, kls = [], [], []
    sets = {**sequence_sets, "real": windows}
    for step in tqdm(steps, desc=f"evaluating {labels.get('model', source)}", unit="ckpt"):
        lm = load_checkpoint(source, step, vocab_size, device=device)
        for name, seqs in sets.items():
            nll = next_token_nll(lm, seqs, batch_size)
            mean = float(nll.mean())
            losses.append(
                {
                    **labels,
                    "step": step,
                    "sequences": name,
                    "n": len(seqs),
                    "loss": mean,
                    "bits_per_byte": float(bits_per_byte(mean, bytes_per_token)),
                }
            )
            by_pos = nll.mean(axis=0)
            positions.append(
                pd.DataFrame(
                    {
                        **labels,
                        "step": step,
                        "sequences": name,
                        "position": np.arange(1, len(by_pos) + 1),
                        "loss": by_pos,
                    }
                )
            )
        for order, kl in ngram_kl(lm, windows, unigram, bigram, batch_size // 2 or 1).items():
            kls.append(
                {
                    **labels,
                    "step": step,
                    "order": order,
                    "kl": kl,
                    "kl_bits_per_byte": float(bits_per_byte(kl, bytes_per_token)),
                }
            )
    return pd.DataFrame(losses), pd.concat(positions, ignore_index=True), pd.DataFrame(kls)
