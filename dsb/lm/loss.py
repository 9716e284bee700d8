"""Next-token cross-entropy fused with the output layer.

A small language model over a large vocabulary spends most of a CPU training step on its output
layer: the plain path writes the (tokens x vocabulary) logits, converts them to float32,
normalises them, fills a zero gradient of the same size, and reads each back again. Here the
logits are made once, in the dtype of the matrix products (bfloat16 for a bf16 step), and reduced
row chunk by row chunk in float32 to their log-sum-exp and the target's logit; the backward pass
turns them, chunk by chunk, into d loss / d logits in the same dtype and ends with the two
matrix products of the gradients. No (N, V) float32 copy is ever made, and a bf16 training step
is about twice as fast as the plain float32 one (benchmarks/bench_lm_step.py).

Mathematics: with z = h W^T, loss = mean_i (logsumexp(z_i) - z_i[y_i]);
d loss / d z_i = (softmax(z_i) - onehot(y_i)) / N, so dh = dz W and dW = dz^T h.
"""

from __future__ import annotations

import torch


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, target, chunk, dtype):
        acc = torch.promote_types(dtype, torch.float32)  # softmax precision
        h, w = hidden.to(dtype), weight.to(dtype)
        logits = h @ w.T
        lse = torch.empty(len(h), dtype=acc, device=h.device)
        picked = torch.empty(len(h), dtype=acc, device=h.device)
        for i in range(0, len(h), chunk):
            z = logits[i : i + chunk].to(acc)
            lse[i : i + chunk] = torch.logsumexp(z, dim=-1)
            picked[i : i + chunk] = z.gather(1, target[i : i + chunk, None])[:, 0]
        ctx.save_for_backward(h, w, target, lse, logits)
        ctx.chunk, ctx.dtypes = chunk, (hidden.dtype, weight.dtype)
        return (lse - picked).mean().to(hidden.dtype)

    @staticmethod
    def backward(ctx, grad):
        h, w, target, lse, logits = ctx.saved_tensors
        scale = grad.to(lse.dtype) / len(h)
        d_logits = torch.empty_like(logits)
        for i in range(0, len(h), ctx.chunk):
            dz = (logits[i : i + ctx.chunk] - lse[i : i + ctx.chunk, None]).exp_()  # softmax
            dz[torch.arange(len(dz), device=dz.device), target[i : i + ctx.chunk]] -= 1.0
            d_logits[i : i + ctx.chunk] = dz.mul_(scale)
        d_hidden = (d_logits @ w).to(ctx.dtypes[0])
        d_weight = (d_logits.T @ h).to(ctx.dtypes[1])
        return d_hidden, d_weight, None, None, None


def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    target: torch.Tensor,
    *,
    chunk: int = 64,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Mean cross-entropy of ``target`` (N,) under logits ``hidden @ weight.T`` ((N, d) x (V, d)).
    The matrix products run in ``dtype`` (float32, or bfloat16 as under autocast); the softmax
    and the loss in float32 (float64 for float64), ``chunk`` rows at a time."""
    if hidden.ndim != 2 or weight.ndim != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"shapes {tuple(hidden.shape)} and {tuple(weight.shape)} do not match")
    if target.shape != hidden.shape[:1]:
        raise ValueError(f"target shape {tuple(target.shape)} != ({hidden.shape[0]},)")
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    return _LinearCrossEntropy.apply(hidden, weight, target, chunk, dtype)
