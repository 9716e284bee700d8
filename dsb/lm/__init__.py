"""Language-model branch: n-gram statistics of a token stream, sequences sampled from n-gram
models, causal LMs along training, and their loss / KL against the n-gram models."""
