import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dsb.lm.loss import linear_cross_entropy
from dsb.lm.train import TrainConfig, resolve_precision, train_lm


def problem(n=300, d=16, v=1000, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n, d, dtype=dtype, generator=gen).requires_grad_()
    weight = torch.randn(v, d, dtype=dtype, generator=gen).requires_grad_()
    return hidden, weight, torch.randint(v, (n,), generator=gen)


@pytest.mark.parametrize("chunk", [1, 37, 300, 4096])
def test_loss_and_gradients_equal_the_full_logits_oracle(chunk):
    hidden, weight, target = problem()
    F.cross_entropy(hidden @ weight.T, target).backward()
    want = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    got = linear_cross_entropy(hidden, weight, target, chunk=chunk, dtype=torch.float64)
    got.backward()
    assert got.item() == pytest.approx(F.cross_entropy(hidden @ weight.T, target).item(), abs=1e-12)
    assert torch.allclose(hidden.grad, want[0], atol=1e-14)
    assert torch.allclose(weight.grad, want[1], atol=1e-14)


def test_gradients_pass_finite_difference_check():
    hidden, weight, target = problem(n=20, d=5, v=40, seed=1)
    assert torch.autograd.gradcheck(
        lambda h, w: linear_cross_entropy(h, w, target, chunk=7, dtype=torch.float64),
        (hidden, weight),
    )


def test_bfloat16_products_stay_close_and_softmax_stays_float32():
    hidden, weight, target = problem(dtype=torch.float32, v=5000)
    exact = F.cross_entropy(hidden @ weight.T, target)
    exact.backward()
    want = weight.grad.clone()
    weight.grad = None
    got = linear_cross_entropy(hidden, weight, target, dtype=torch.bfloat16)
    got.backward()
    assert got.dtype == torch.float32 and weight.grad.dtype == torch.float32
    assert abs(got.item() - exact.item()) < 0.02 * exact.item()
    cos = F.cosine_similarity(weight.grad.flatten(), want.flatten(), dim=0)
    assert cos > 0.999


def test_bad_shapes_are_named():
    hidden, weight, target = problem()
    with pytest.raises(ValueError, match="do not match"):
        linear_cross_entropy(hidden, weight[:, :3], target)
    with pytest.raises(ValueError, match="target shape"):
        linear_cross_entropy(hidden, weight, target[:5])
    with pytest.raises(ValueError, match="chunk"):
        linear_cross_entropy(hidden, weight, target, chunk=0)


def test_training_in_bf16_learns_the_toy_corpus_like_fp32(tmp_path):
    """A repeating 7-token cycle: both precisions drive the loss far below ln 7."""
    token_ids = np.array([0, 2, 3, 5, 7, 8, 11])
    corpus = np.tile(token_ids, 400)
    losses = {}
    for precision in ("fp32", "bf16"):
        cfg = TrainConfig(n_layer=1, d_model=32, n_head=2, seq_len=16, batch_size=8,
                          lr=1e-2, max_steps=64, precision=precision)  # fmt: skip
        log = train_lm(corpus, token_ids, cfg, tmp_path / precision)
        losses[precision] = log[-1]["loss"]
    assert losses["fp32"] < 0.1 * np.log(7) and losses["bf16"] < 0.1 * np.log(7)
    with pytest.raises(ValueError, match="precision"):
        train_lm(corpus, token_ids, TrainConfig(precision="fp16", max_steps=1), tmp_path / "x")


def test_precision_auto_resolves_to_what_the_hardware_multiplies_natively():
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("half")
