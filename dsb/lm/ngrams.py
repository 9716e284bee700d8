"""Unigram and bigram counts of a token stream, in memory that grows with the distinct bigrams.

The bigram table is a sparse V x V matrix in CSR form (row = previous token, column = next
token). Counting goes over the stream once per block of rows; a block holds at most
``block_pairs`` pair occurrences, so the working memory is bounded by the block and the output
by the number of distinct bigrams (upstream's dense 2^32 bincount needed ~34 GB). The cost is
one cheap scan of the stream per block: choose shards of 10^8-10^9 tokens and count them in
parallel jobs, then merge. Orders 3 and up go through a ``tokengrams`` suffix array.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

SCAN_CHUNK = 1 << 24


@dataclass(frozen=True)
class BigramCounts:
    """count[k] = #{t : x_t = a, x_{t+1} = next_token[k]} for k in indptr[a]:indptr[a+1]."""

    vocab_size: int
    indptr: np.ndarray
    next_token: np.ndarray
    count: np.ndarray

    def __post_init__(self):
        if self.indptr.shape != (self.vocab_size + 1,):
            raise ValueError(f"indptr must have {self.vocab_size + 1} entries")
        if len(self.next_token) != len(self.count) or self.indptr[-1] != len(self.count):
            raise ValueError("next_token, count and indptr disagree on the number of entries")

    @property
    def n_distinct(self) -> int:
        return len(self.count)

    def prev_token(self) -> np.ndarray:
        return np.repeat(np.arange(self.vocab_size), np.diff(self.indptr))

    def row_totals(self) -> np.ndarray:
        """How often each token is followed by anything: the bigram marginal of the first slot."""
        cum = np.concatenate([[0], np.cumsum(self.count, dtype=np.int64)])
        return cum[self.indptr[1:]] - cum[self.indptr[:-1]]

    def to_dense(self) -> np.ndarray:
        """For small vocabularies and tests."""
        dense = np.zeros((self.vocab_size, self.vocab_size), dtype=np.int64)
        dense[self.prev_token(), self.next_token] = self.count
        return dense


def count_unigrams(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    counts = np.zeros(vocab_size, dtype=np.int64)
    for i in range(0, len(tokens), SCAN_CHUNK):
        chunk = _checked(tokens[i : i + SCAN_CHUNK], vocab_size)
        counts += np.bincount(chunk, minlength=vocab_size)
    return counts


def _checked(chunk: np.ndarray, vocab_size: int) -> np.ndarray:
    if len(chunk) and int(chunk.max()) >= vocab_size:
        raise ValueError(f"token {int(chunk.max())} is outside the vocabulary of {vocab_size}")
    return chunk


def row_blocks(row_weight: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Contiguous row ranges of total weight <= ``budget`` (a heavier row stands alone)."""
    blocks, lo, total = [], 0, 0
    for a, w in enumerate(row_weight.tolist()):
        if total + w > budget and a > lo:
            blocks.append((lo, a))
            lo, total = a, 0
        total += w
    blocks.append((lo, len(row_weight)))
    return blocks


def _index_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.uint32)


def count_bigrams(
    tokens: np.ndarray, vocab_size: int, block_pairs: int = 1 << 24, progress: bool = True
) -> BigramCounts:
    """Bigram counts of one contiguous stream (pairs x_t, x_{t+1} for t < len - 1)."""
    occurrences = count_unigrams(tokens[:-1], vocab_size)
    count_dtype = np.uint32 if len(tokens) < 1 << 32 else np.int64
    nnz_bound = int(min(len(tokens), occurrences.astype(bool).sum() * vocab_size))
    next_token = np.empty(nnz_bound, dtype=_index_dtype(vocab_size))
    count = np.empty(nnz_bound, dtype=count_dtype)
    per_row = np.zeros(vocab_size, dtype=np.int64)
    filled = 0
    v = np.uint64(vocab_size)
    blocks = row_blocks(occurrences, block_pairs)
    for lo, hi in tqdm(blocks, desc="bigram blocks", disable=not progress):
        codes = []
        for i in range(0, len(tokens) - 1, SCAN_CHUNK):
            a = tokens[i : i + SCAN_CHUNK]
            b = tokens[i + 1 : i + SCAN_CHUNK + 1]
            a = a[: len(b)]
            inside = (a >= lo) & (a < hi)
            codes.append((a[inside].astype(np.uint64) - np.uint64(lo)) * v + b[inside])
        keys, k_count = np.unique(np.concatenate(codes), return_counts=True)
        del codes
        rows = (keys // v).astype(np.int64) + lo
        per_row[lo:hi] = np.bincount(rows - lo, minlength=hi - lo)
        next_token[filled : filled + len(keys)] = keys % v
        count[filled : filled + len(keys)] = k_count
        filled += len(keys)
    # Shrink in place: a copy would double the peak memory.
    next_token.resize(filled, refcheck=False)
    count.resize(filled, refcheck=False)
    indptr = np.concatenate([[0], np.cumsum(per_row)])
    return BigramCounts(vocab_size, indptr, next_token, count)


def merge_bigrams(tables: list[BigramCounts], block_entries: int = 1 << 24) -> BigramCounts:
    """Sum of bigram tables (e.g. one per shard), row block by row block."""
    if not tables:
        raise ValueError("merge_bigrams needs at least one table")
    vocab_size = tables[0].vocab_size
    if any(t.vocab_size != vocab_size for t in tables):
        raise ValueError("bigram tables to merge have different vocabulary sizes")
    per_row_entries = sum(np.diff(t.indptr) for t in tables)
    v = np.uint64(vocab_size)
    rows_out, next_out, count_out = [], [], []
    for lo, hi in row_blocks(per_row_entries, block_entries):
        keys = np.concatenate(
            [
                t.prev_token()[t.indptr[lo] : t.indptr[hi]].astype(np.uint64) * v
                + t.next_token[t.indptr[lo] : t.indptr[hi]]
                for t in tables
            ]
        )
        weights = np.concatenate([t.count[t.indptr[lo] : t.indptr[hi]] for t in tables])
        unique, inverse = np.unique(keys, return_inverse=True)
        rows_out.append((unique // v).astype(np.int64))
        next_out.append((unique % v).astype(_index_dtype(vocab_size)))
        summed = np.bincount(inverse, weights=weights, minlength=len(unique))
        count_out.append(summed.astype(np.int64))
    rows = np.concatenate(rows_out)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=vocab_size))])
    return BigramCounts(vocab_size, indptr, np.concatenate(next_out), np.concatenate(count_out))


def save_counts(path: str | Path, unigram: np.ndarray, bigram: BigramCounts) -> None:
    with open(path, "wb") as f:
        np.savez(
            f,
            vocab_size=bigram.vocab_size,
            unigram=unigram,
            indptr=bigram.indptr,
            next_token=bigram.next_token,
            count=bigram.count,
        )


def load_counts(path: str | Path) -> tuple[np.ndarray, BigramCounts]:
    with np.load(path) as z:
        missing = {"vocab_size", "unigram", "indptr", "next_token", "count"} - set(z.files)
        if missing:
            raise ValueError(f"{path}: not an n-gram count file, missing {sorted(missing)}")
        bigram = BigramCounts(int(z["vocab_size"]), z["indptr"], z["next_token"], z["count"])
        return z["unigram"], bigram


def build_suffix_index(tokens: np.ndarray, token_path: str | Path, index_path: str | Path):
    """A memory-mapped ``tokengrams`` suffix array over the stream (for orders >= 3)."""
    import tokengrams

    tokens = np.asarray(tokens)
    if len(tokens) and int(tokens.max()) >= 1 << 16:
        raise ValueError("tokengrams indexes uint16 tokens; vocabulary is larger than 65536")
    tokens.astype("<u2").tofile(token_path)
    return tokengrams.MemmapIndex.build(str(token_path), str(index_path), verbose=False)


def load_suffix_index(token_path: str | Path, index_path: str | Path):
    import tokengrams

    return tokengrams.MemmapIndex(str(token_path), str(index_path))
