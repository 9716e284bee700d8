import numpy as np
import pytest

from dsb.lm.entropy import bigram_conditional_entropy, bits_per_byte, unigram_entropy
from dsb.lm.ngrams import count_bigrams, count_unigrams, load_counts, merge_bigrams, save_counts


def dense_bigrams(x, v):
    d = np.zeros((v, v), dtype=np.int64)
    np.add.at(d, (x[:-1], x[1:]), 1)
    return d


@pytest.fixture
def stream():
    rng = np.random.default_rng(0)
    return (rng.zipf(1.5, 20000) % 97).astype(np.uint16)


def test_bigram_counts_match_dense_count_across_many_row_blocks(stream):
    counts = count_bigrams(stream, 97, block_pairs=1024, progress=False)
    assert np.array_equal(counts.to_dense(), dense_bigrams(stream, 97))
    assert np.array_equal(counts.row_totals(), count_unigrams(stream[:-1], 97))


def test_merge_of_shards_equals_count_of_whole(stream, tmp_path):
    # Shards overlap by one token so the boundary pair is counted exactly once.
    parts = [stream[:7000], stream[6999:15000], stream[14999:]]
    merged = merge_bigrams([count_bigrams(p, 97, progress=False) for p in parts], block_entries=300)
    assert np.array_equal(merged.to_dense(), dense_bigrams(stream, 97))
    save_counts(tmp_path / "c.npz", count_unigrams(stream, 97), merged)
    unigram, loaded = load_counts(tmp_path / "c.npz")
    assert np.array_equal(loaded.to_dense(), merged.to_dense())
    assert unigram.sum() == len(stream)


def test_out_of_vocabulary_token_is_named():
    with pytest.raises(ValueError, match="token 5 is outside the vocabulary of 5"):
        count_unigrams(np.array([0, 5]), 5)


def test_entropies_match_direct_formulas(stream):
    d = dense_bigrams(stream, 97).astype(float)
    p_ab = d / d.sum()
    p_b_given_a = d / np.maximum(d.sum(1, keepdims=True), 1)
    direct = -np.sum(p_ab[d > 0] * np.log(p_b_given_a[d > 0]))
    counts = count_bigrams(stream, 97, progress=False)
    assert bigram_conditional_entropy(counts) == pytest.approx(direct, rel=1e-12)
    p = np.bincount(stream, minlength=97) / len(stream)
    assert unigram_entropy(count_unigrams(stream, 97)) == pytest.approx(
        -np.sum(p[p > 0] * np.log(p[p > 0]))
    )
    # Conditioning never raises entropy.
    assert bigram_conditional_entropy(counts) < unigram_entropy(count_unigrams(stream, 97))
    assert bits_per_byte(np.log(2) * 4, 4.0) == pytest.approx(1.0)
