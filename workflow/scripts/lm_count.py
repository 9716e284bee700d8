import json
import sys

import numpy as np

from dsb.lm.ngrams import count_bigrams, count_unigrams, save_counts

sys.stderr = open(snakemake.log[0], "w", buffering=1)

vocab_size = json.load(open(snakemake.input.meta))["vocab_size"]
tokens = np.load(snakemake.input.shard, mmap_mode="r")
unigram = count_unigrams(tokens, vocab_size)
bigram = count_bigrams(tokens, vocab_size, block_pairs=snakemake.params.block_pairs)
save_counts(snakemake.output.counts, unigram, bigram)
print(f"{len(tokens)} tokens, {bigram.n_distinct} distinct bigrams", file=sys.stderr)
