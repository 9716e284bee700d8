import json
import sys

from dsb.lm.entropy import bigram_conditional_entropy, bits_per_byte, unigram_entropy
from dsb.lm.ngrams import load_counts, merge_bigrams, save_counts

sys.stderr = open(snakemake.log[0], "w", buffering=1)

parts = [load_counts(path) for path in snakemake.input.shards]
unigram = sum(u for u, _ in parts)
bigram = merge_bigrams([b for _, b in parts])
save_counts(snakemake.output.counts, unigram, bigram)
bytes_per_token = json.load(open(snakemake.input.meta))["bytes_per_token"]
entropy = {}
for order, nats in ((1, unigram_entropy(unigram)), (2, bigram_conditional_entropy(bigram))):
    bpb = float(bits_per_byte(nats, bytes_per_token))
    entropy[order] = {"nats_per_token": nats, "bits_per_byte": bpb}
with open(snakemake.output.entropy, "w") as f:
    json.dump({"bytes_per_token": bytes_per_token, "entropy": entropy}, f, indent=1)
print(json.dumps(entropy), file=sys.stderr)
