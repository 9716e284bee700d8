import numpy as np
import pytest

from dsb.lm.ngrams import build_suffix_index, count_bigrams, count_unigrams
from dsb.lm.sample import sample_backoff, sample_bigram, sample_unigram

CHAIN = np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5], [0.8, 0.2, 0.0]])


@pytest.fixture(scope="module")
def stream():
    rng = np.random.default_rng(1)
    x = [0]
    for _ in range(30000):
        x.append(rng.choice(3, p=CHAIN[x[-1]]))
    return np.array(x, dtype=np.uint16)


def transitions(seqs):
    d = np.zeros((3, 3))
    np.add.at(d, (seqs[:, :-1].ravel(), seqs[:, 1:].ravel()), 1)
    return d / d.sum(1, keepdims=True)


def test_unigram_samples_match_frequencies_and_are_seeded(stream):
    u = count_unigrams(stream, 3)
    seqs = sample_unigram(u, 200, 100, np.random.default_rng(0))
    assert np.allclose(np.bincount(seqs.ravel(), minlength=3) / seqs.size, u / u.sum(), atol=0.01)
    assert np.array_equal(seqs, sample_unigram(u, 200, 100, np.random.default_rng(0)))
    # i.i.d.: the next token does not depend on the previous one.
    assert np.allclose(transitions(seqs), u / u.sum(), atol=0.03)


def test_bigram_chain_follows_rows_normalised_over_next_token(stream):
    u, b = count_unigrams(stream, 3), count_bigrams(stream, 3, progress=False)
    seqs = sample_bigram(b, u, 200, 100, np.random.default_rng(0))
    empirical = b.to_dense() / b.to_dense().sum(1, keepdims=True)
    assert np.allclose(transitions(seqs), empirical, atol=0.03)
    assert (transitions(seqs)[1, 1] == 0) and (transitions(seqs)[2, 2] == 0)


def test_backoff_sampler_of_order_two_is_the_bigram_chain(stream, tmp_path):
    index = build_suffix_index(stream, tmp_path / "t.bin", tmp_path / "t.idx")
    seqs = sample_backoff(index, stream, 2, 40, 60, np.random.default_rng(0))
    assert np.allclose(transitions(seqs), CHAIN, atol=0.06)
    again = sample_backoff(index, stream, 2, 40, 60, np.random.default_rng(0))
    assert np.array_equal(seqs, again)
