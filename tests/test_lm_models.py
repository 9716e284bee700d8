import numpy as np
import pytest
import torch

from dsb.lm.evaluate import evaluate_model
from dsb.lm.metrics import bigram_rows, kl_divergence, next_token_nll, ngram_kl
from dsb.lm.models import load_checkpoint, save_checkpoint
from dsb.lm.ngrams import count_bigrams, count_unigrams
from dsb.lm.train import TrainConfig, build_model, checkpoint_steps, train_lm

V = 12  # tokenizer vocabulary of the toy world
TOKEN_IDS = np.array([0, 2, 3, 5, 7, 8, 11])  # the tokens the toy corpus uses


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(0)
    return TOKEN_IDS[rng.integers(0, len(TOKEN_IDS), 3000)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A save_pretrained folder with two checkpoints of a tiny random GPT-NeoX."""
    root = tmp_path_factory.mktemp("neox")
    torch.manual_seed(0)
    for step in (0, 4):
        model = build_model(
            TrainConfig(n_layer=1, d_model=16, n_head=2, seq_len=32), len(TOKEN_IDS)
        )
        save_checkpoint(model, root / f"step{step}", TOKEN_IDS)
    return root


def test_checkpoint_steps_are_zero_and_powers_of_two():
    assert checkpoint_steps(8) == [0, 1, 2, 4, 8]
    with pytest.raises(ValueError, match="power of two"):
        checkpoint_steps(12)


def test_local_folder_loads_each_step_and_missing_step_is_named(folder):
    lm = load_checkpoint(folder, 4, V)
    assert np.array_equal(lm.local_ids(np.array([0, 3, 4, 11])), [0, 2, -1, 6])
    assert not torch.equal(
        lm.model.get_output_embeddings().weight,
        load_checkpoint(folder, 0, V).model.get_output_embeddings().weight,
    )
    with pytest.raises(FileNotFoundError, match="no checkpoint step8"):
        load_checkpoint(folder, 8, V)


def test_hub_checkpoint_is_the_step_revision(monkeypatch, folder):
    seen = {}

    def fake(name, revision=None, dtype=None):
        seen.update(name=name, revision=revision)
        return build_model(TrainConfig(n_layer=1, d_model=16, n_head=2), V)

    monkeypatch.setattr("dsb.lm.models.GPTNeoXForCausalLM.from_pretrained", fake)
    lm = load_checkpoint("EleutherAI/pythia-14m-seed3", 512, V)
    assert seen == {"name": "EleutherAI/pythia-14m-seed3", "revision": "step512"}
    assert lm.token_ids is None and lm.n_outputs == V


def test_nll_and_kl_agree_with_direct_computation(folder, corpus):
    lm = load_checkpoint(folder, 4, V)
    windows = corpus[:64].reshape(4, 16)
    log_q = lm.log_probs(windows).double()  # (4, 16, 7) on the model's vocabulary
    q_full = np.zeros((4, 16, V))
    q_full[..., TOKEN_IDS] = log_q.exp().numpy()
    q = log_q.exp().numpy().reshape(-1, len(TOKEN_IDS))
    prev = np.searchsorted(TOKEN_IDS, windows.ravel())
    nll = next_token_nll(lm, windows)
    direct = -np.log(np.take_along_axis(q_full[:, :-1], windows[:, 1:, None], -1)[..., 0])
    assert np.allclose(nll, direct, atol=1e-6)

    unigram, bigram = count_unigrams(corpus, V), count_bigrams(corpus, V, progress=False)
    counts = bigram.to_dense().astype(float)[np.ix_(TOKEN_IDS, TOKEN_IDS)]
    p_next = counts / counts.sum(1, keepdims=True)  # rows: P(next | prev) sums over next
    p_uni = unigram[TOKEN_IDS] / unigram.sum()

    def kl(p, q):
        m = p > 0
        return np.sum(p[m] * np.log(p[m] / q[m]))

    kl1 = np.mean([kl(p_uni, qt) for qt in q])
    kl2 = np.mean([kl(p_next[a], qt) for a, qt in zip(prev, q, strict=True)])
    got = ngram_kl(lm, windows, unigram, bigram, batch_size=3)
    assert got[1] == pytest.approx(kl1, rel=1e-9)
    assert got[2] == pytest.approx(kl2, rel=1e-9)
    # The wrong axis (upstream): normalising columns over the previous token differs.
    p_wrong = counts / counts.sum(0, keepdims=True)
    rows = bigram_rows(bigram, np.array([2, 5]), lm).numpy()
    assert np.allclose(rows.sum(1), 1) and np.allclose(rows, p_next[[1, 3]])
    assert not np.allclose(rows, p_wrong[[1, 3]])


def test_kl_is_zero_iff_equal_and_infinite_support_is_refused(folder):
    p = torch.tensor([[0.2, 0.8, 0.0]], dtype=torch.float64)
    assert kl_divergence(p, p.log()).item() == pytest.approx(0.0)
    assert kl_divergence(p, torch.full((1, 3), 1 / 3).log()).item() > 0
    lm = load_checkpoint(folder, 0, V)
    with pytest.raises(ValueError, match="outside the LM's vocabulary"):
        ngram_kl(lm, np.array([[0, 2]]), np.eye(V)[1] * 5, count_bigrams(np.array([0, 2, 0]), V))


def test_training_writes_every_checkpoint_and_evaluation_tables(tmp_path, corpus):
    cfg = TrainConfig(n_layer=1, d_model=16, n_head=2, seq_len=16, batch_size=4, max_steps=4)
    log = train_lm(corpus, TOKEN_IDS, cfg, tmp_path / "m")
    assert [p.name for p in sorted((tmp_path / "m").iterdir())] == [
        f"step{s}" for s in (0, 1, 2, 4)
    ]
    assert len(log) == 4 and all(np.isfinite(r["loss"]) for r in log)
    with pytest.raises(ValueError, match="token_ids"):
        train_lm(np.array([1, 1, 1]), TOKEN_IDS, cfg, tmp_path / "bad")
    unigram, bigram = count_unigrams(corpus, V), count_bigrams(corpus, V, progress=False)
    seqs = {"ngram1": corpus[:64].reshape(4, 16)}
    loss, pos, kl = evaluate_model(str(tmp_path / "m"), [0, 4], seqs, corpus[64:128].reshape(4, 16),
                                   unigram, bigram, vocab_size=V, bytes_per_token=2.0,
                                   labels={"model": "toy", "size": "1x16", "seed": 0})  # fmt: skip
    assert set(loss["sequences"]) == {"ngram1", "real"} and len(loss) == 4
    assert np.allclose(loss["bits_per_byte"], loss["loss"] / np.log(2) / 2.0)
    assert len(pos) == 2 * 2 * 15 and set(kl["order"]) == {1, 2}
