from dsb.threads import limit_threads

limit_threads(snakemake.threads)  # before numpy and torch load

import json
import sys

import numpy as np
import torch

from dsb.gpus import acquire_device
from dsb.lm.evaluate import evaluate_model
from dsb.lm.ngrams import load_counts

sys.stderr = open(snakemake.log[0], "w", buffering=1)

torch.set_num_threads(snakemake.threads)
torch.set_flush_denormal(True)  # subnormal floats are ~100x slower on x86 CPUs
p = snakemake.params
meta = json.load(open(snakemake.input.meta))
sets = {f"ngram{o}": np.load(path) for o, path in zip(p.orders, snakemake.input.seqs, strict=True)}
val = np.load(snakemake.input.val).astype(np.int64)
n_windows = min(p.n_windows, len(val) // p.length)
windows = val[: n_windows * p.length].reshape(n_windows, p.length)
unigram, bigram = load_counts(snakemake.input.counts)
device = str(acquire_device(p.eval["device"], "lm.eval.device"))  # a GPU of its own, or cpu
loss, position, kl = evaluate_model(
    p.source, p.steps, sets, windows, unigram, bigram, vocab_size=meta["vocab_size"],
    bytes_per_token=meta["bytes_per_token"], labels=p.labels, device=device,
    batch_size=p.eval["batch_size"],
)  # fmt: skip
loss.to_parquet(snakemake.output.loss)
position.to_parquet(snakemake.output.position)
kl.to_parquet(snakemake.output.kl)
