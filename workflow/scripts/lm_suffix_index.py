import sys

import numpy as np

from dsb.lm.ngrams import build_suffix_index

sys.stderr = open(snakemake.log[0], "w", buffering=1)
sys.stdout = sys.stderr

tokens = np.concatenate([np.load(path, mmap_mode="r") for path in snakemake.input.train])
build_suffix_index(tokens, snakemake.output.tokens, snakemake.output.index)
