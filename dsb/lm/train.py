"""A small GPT-NeoX trained on the corpus, with checkpoints at step 0 and every power of two."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

from dsb.lm.loss import linear_cross_entropy
from dsb.lm.models import save_checkpoint


@dataclass(frozen=True)
class TrainConfig:
    n_layer: int = 2
    d_model: int = 128
    n_head: int = 4
    seq_len: int = 128
    batch_size: int = 16
    lr: float = 2e-3
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 0.01
    warmup_steps: int = 0
    max_steps: int = 2048
    seed: int = 0
    precision: str = "auto"  # fp32, bf16 (bfloat16 products, float32 weights), auto
    device: str = "cpu"  # a torch device string (the Snakemake rule claims a GPU: dsb.gpus)


def checkpoint_steps(max_steps: int) -> list[int]:
    """0, 1, 2, 4, ..., max_steps (a power of two)."""
    if max_steps < 1 or max_steps & (max_steps - 1):
        raise ValueError(f"max_steps must be a power of two, got {max_steps}")
    return [0] + [2**k for k in range(int(math.log2(max_steps)) + 1)]


def resolve_precision(precision: str, device_type: str = "cpu") -> str:
    """``auto``: bf16 where the hardware multiplies bfloat16 natively (CUDA with bf16 support, or
    a CPU with oneDNN bf16 kernels, as AVX512-BF16 or AMX), else fp32."""
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    if precision != "auto":
        return precision
    if device_type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


def vocabulary_cut(unigram: np.ndarray) -> np.ndarray:
    """The tokenizer ids that occur: the trained model's vocabulary, in increasing order."""
    return np.flatnonzero(unigram > 0)


def build_model(cfg: TrainConfig, vocab_size: int) -> GPTNeoXForCausalLM:
    config = GPTNeoXConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.d_model,
        num_hidden_layers=cfg.n_layer,
        num_attention_heads=cfg.n_head,
        intermediate_size=4 * cfg.d_model,
        max_position_embeddings=cfg.seq_len,
        rotary_pct=0.25,
        use_parallel_residual=True,
        tie_word_embeddings=False,
        bos_token_id=0,
        eos_token_id=0,
    )
    return GPTNeoXForCausalLM(config)


def train_lm(
    tokens: np.ndarray, token_ids: np.ndarray, cfg: TrainConfig, out_dir: str | Path
) -> list[dict]:
    """Train on random windows of ``tokens`` (tokenizer ids, all in ``token_ids``); write
    ``out_dir/step{n}`` at every checkpoint step. Returns the training loss at each step."""
    local = np.searchsorted(token_ids, tokens)
    if np.any(token_ids[np.minimum(local, len(token_ids) - 1)] != tokens):
        raise ValueError("training tokens must all be in token_ids (the vocabulary cut)")
    if len(local) <= cfg.seq_len + 1:
        raise ValueError(f"{len(local)} training tokens are too few for windows of {cfg.seq_len}")
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, len(token_ids)).to(cfg.device)
    stream = torch.as_tensor(local, dtype=torch.long)
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW(  # foreach: the CPU default per-tensor update is far slower
        model.parameters(),
        lr=cfg.lr,
        betas=(cfg.beta1, cfg.beta2),
        weight_decay=cfg.weight_decay,
        foreach=True,
    )
    warmup = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    )
    bf16 = resolve_precision(cfg.precision, model.device.type) == "bf16"
    saves = set(checkpoint_steps(cfg.max_steps))
    offsets = torch.arange(cfg.seq_len + 1)
    log, start = [], time.perf_counter()
    save_checkpoint(model, Path(out_dir) / "step0", token_ids)
    model.train()
    for step in tqdm(range(1, cfg.max_steps + 1), desc="training", unit="step"):
        starts = torch.randint(len(stream) - cfg.seq_len - 1, (cfg.batch_size,), generator=gen)
        batch = stream[starts[:, None] + offsets].to(model.device, non_blocking=True)
        with torch.autocast(model.device.type, torch.bfloat16, enabled=bf16):
            hidden = model.base_model(batch[:, :-1]).last_hidden_state
        loss = linear_cross_entropy(  # the output layer and the loss, without the full logits
            hidden.float().flatten(0, 1),
            model.get_output_embeddings().weight,
            batch[:, 1:].flatten(),
            dtype=torch.bfloat16 if bf16 else torch.float32,
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        warmup.step()
        log.append({"step": step, "loss": loss.item(), "seconds": time.perf_counter() - start})
        if step in saves:
            save_checkpoint(model, Path(out_dir) / f"step{step}", token_ids)
    return log
