"""Causal language models along training: Pythia checkpoints from the hub, or checkpoints that
the pipeline trained, both as ``save_pretrained`` folders of GPT-NeoX models.

A pipeline model's vocabulary is cut to the tokens that occur in its corpus; ``token_ids.npy``
in its checkpoint folder maps its ids back to tokenizer ids. Pythia's output layer is padded
beyond the tokenizer (50304 > 50277): the padding rows stay in the softmax (they are part of the
model's distribution) and are then dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import GPTNeoXForCausalLM

TOKEN_IDS_FILE = "token_ids.npy"


class CausalLM:
    """Next-token log-probabilities over the model's vocabulary, which is ``token_ids`` (tokenizer
    ids, increasing) or, when None, the first ``vocab_size`` tokenizer ids."""

    def __init__(self, model, vocab_size: int, token_ids: np.ndarray | None = None):
        self.model = model.eval()
        self.vocab_size = vocab_size
        self.token_ids = None if token_ids is None else np.asarray(token_ids, dtype=np.int64)
        if self.token_ids is not None and np.any(np.diff(self.token_ids) <= 0):
            raise ValueError("token_ids must be strictly increasing")

    @property
    def n_outputs(self) -> int:
        return self.vocab_size if self.token_ids is None else len(self.token_ids)

    def local_ids(self, tokens: np.ndarray) -> np.ndarray:
        """Tokenizer ids -> the model's ids; -1 for tokens outside its vocabulary."""
        tokens = np.asarray(tokens, dtype=np.int64)
        if self.token_ids is None:
            return np.where(tokens < self.vocab_size, tokens, -1)
        pos = np.clip(np.searchsorted(self.token_ids, tokens), 0, len(self.token_ids) - 1)
        return np.where(self.token_ids[pos] == tokens, pos, -1)

    @torch.no_grad()
    def log_probs(self, tokens: np.ndarray) -> torch.Tensor:
        """(B, T) tokenizer ids -> (B, T, n_outputs) log p(x_{t+1} = . | x_{<=t})."""
        local = self.local_ids(tokens)
        if (local < 0).any():
            bad = np.asarray(tokens)[local < 0][0]
            raise ValueError(f"token {bad} is outside the model's vocabulary")
        device = next(self.model.parameters()).device
        logits = self.model(torch.as_tensor(local, device=device)).logits.float()
        return torch.log_softmax(logits, dim=-1)[..., : self.n_outputs]


def hub_source(model_id: str, owner: str = "EleutherAI") -> str:
    return model_id if "/" in model_id else f"{owner}/{model_id}"


def load_checkpoint(
    source: str | Path, step: int, vocab_size: int, device: str = "cpu", dtype=torch.float32
) -> CausalLM:
    """Checkpoint ``step`` of a model: a local folder holding ``step{n}/`` sub-folders, or a hub
    repository whose revisions are named ``step{n}`` (Pythia)."""
    local = Path(source)
    if local.is_dir():
        folder = local / f"step{step}"
        if not folder.is_dir():
            raise FileNotFoundError(f"model folder {local} has no checkpoint step{step}")
        model = GPTNeoXForCausalLM.from_pretrained(folder, dtype=dtype)
        ids_file = folder / TOKEN_IDS_FILE
        token_ids = np.load(ids_file) if ids_file.is_file() else None
    else:
        model = GPTNeoXForCausalLM.from_pretrained(str(source), revision=f"step{step}", dtype=dtype)
        token_ids = None
    return CausalLM(model.to(device), vocab_size, token_ids)


def save_checkpoint(model, folder: str | Path, token_ids: np.ndarray | None) -> None:
    folder = Path(folder)
    model.save_pretrained(folder)
    if token_ids is not None:
        np.save(folder / TOKEN_IDS_FILE, np.asarray(token_ids, dtype=np.int64))
