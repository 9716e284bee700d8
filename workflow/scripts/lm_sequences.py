import sys

import numpy as np

from dsb.lm.ngrams import load_counts, load_suffix_index
from dsb.lm.sample import sample_backoff, sample_bigram, sample_unigram

sys.stderr = open(snakemake.log[0], "w", buffering=1)

order, p = int(snakemake.wildcards.order), snakemake.params
# One stream of random numbers per order, all derived from the configured seed.
rng = np.random.default_rng([p.seed, order])
unigram, bigram = load_counts(snakemake.input.counts)
if order == 1:
    seqs = sample_unigram(unigram, p.n, p.length, rng)
elif order == 2:
    seqs = sample_bigram(bigram, unigram, p.n, p.length, rng)
else:
    token_path, index_path = snakemake.input.index
    tokens = np.fromfile(token_path, dtype="<u2")
    seqs = sample_backoff(
        load_suffix_index(token_path, index_path), tokens, order, p.n, p.length, rng
    )
np.save(snakemake.output.seqs, seqs.astype(np.int64))
