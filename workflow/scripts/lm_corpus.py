import json
import sys

import numpy as np

from dsb.lm.corpus import build_corpus, split_stream, token_dtype
from dsb.lm.ngrams import count_unigrams
from dsb.lm.tokenizer import load_tokenizer
from dsb.lm.train import vocabulary_cut

sys.stderr = open(snakemake.log[0], "w", buffering=1)

corpus, tok = snakemake.params.corpus, snakemake.params.tokenizer
tokenizer = load_tokenizer(tok["source"], tok["name"])
vocab_size = tokenizer.get_vocab_size()
tokens, n_bytes, files = build_corpus(
    corpus["format"], corpus["paths"], tokenizer, gutenberg=corpus["strip_gutenberg"],
    jsonl_key=corpus["jsonl_key"], max_tokens=corpus["max_tokens"],
)  # fmt: skip
shards, val = split_stream(tokens, corpus["n_shards"], corpus["validation_fraction"])
dtype = token_dtype(vocab_size)
for shard, path in zip(shards, snakemake.output.train, strict=True):
    np.save(path, shard.astype(dtype))
np.save(snakemake.output.val, val.astype(dtype))
# The trained models' vocabulary: every token of the corpus, so that the n-gram models (train
# part) and the held-out text both stay inside it.
np.save(snakemake.output.vocab, vocabulary_cut(count_unigrams(tokens, vocab_size)))
meta = {
    "vocab_size": vocab_size, "n_tokens": len(tokens), "n_bytes": n_bytes,
    "bytes_per_token": n_bytes / len(tokens), "n_train": int(sum(map(len, shards))),
    "n_val": len(val), "files": files, "format": corpus["format"],
}  # fmt: skip
with open(snakemake.output.meta, "w") as f:
    json.dump(meta, f, indent=1)
print(json.dumps(meta), file=sys.stderr)
