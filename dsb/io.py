"""Parquet image tables: one row per image, shape and provenance in the file metadata.

The layout is the contract of ``outputs.md``: a ``label`` column, an optional ``source_label``
column, and ``pixels`` as raw bytes of one C*H*W image (uint8 for data splits, float32 for
probe sets). File metadata values are UTF-8 JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass
class ImageTable:
    """Images of shape (N, C, H, W), their labels, and the file metadata."""

    pixels: np.ndarray
    labels: np.ndarray
    meta: dict = field(default_factory=dict)
    source_labels: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.pixels.shape[1:])

    @property
    def classes(self) -> list[str]:
        return list(self.meta.get("classes", []))

    def flat(self, dtype=np.float64) -> np.ndarray:
        """Images as (N, d) rows in [0, 1]."""
        x = self.pixels.reshape(len(self.pixels), -1)
        if x.dtype == np.uint8:
            return x.astype(dtype) / 255.0
        return x.astype(dtype, copy=False)


def write_images(path: str | os.PathLike, table: ImageTable) -> None:
    """Write atomically: a crash never leaves a half-written file under ``path``."""
    pixels = np.ascontiguousarray(table.pixels)
    if pixels.ndim != 4:
        raise ValueError(f"{path}: pixels must be (N, C, H, W), got shape {pixels.shape}")
    if pixels.dtype not in (np.uint8, np.float32):
        raise ValueError(f"{path}: pixels must be uint8 or float32, got {pixels.dtype}")
    n = len(pixels)
    if len(table.labels) != n:
        raise ValueError(f"{path}: {n} images but {len(table.labels)} labels")
    row_bytes = pixels[0].nbytes if n else 0
    flat = pixels.reshape(-1).view(np.uint8)
    offsets = np.arange(n + 1, dtype=np.int64) * row_bytes
    column = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(flat)]
    )
    columns = {"label": pa.array(np.asarray(table.labels, dtype=np.int64))}
    if table.source_labels is not None:
        src = np.asarray(table.source_labels, dtype=np.int64)
        columns["source_label"] = pa.array(src, mask=src < 0)
    columns["pixels"] = column
    meta = dict(table.meta)
    meta["shape"] = list(pixels.shape[1:])
    meta["dtype"] = str(pixels.dtype)
    schema_meta = {k: json.dumps(v) for k, v in meta.items()}
    arrow = pa.table(columns).replace_schema_metadata(schema_meta)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        pq.write_table(arrow, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_meta(path: str | os.PathLike) -> dict:
    raw = pq.read_schema(path).metadata or {}
    return {k.decode(): json.loads(v) for k, v in raw.items() if not k.startswith(b"ARROW")}


def read_images(path: str | os.PathLike) -> ImageTable:
    """Read a table written by :func:`write_images` (or by anyone following outputs.md)."""
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise ValueError(f"{path}: not a readable Parquet image table ({err})") from err
    meta = read_meta(path)
    if "shape" not in meta:
        raise ValueError(f"{path}: file metadata has no 'shape'")
    shape = tuple(meta["shape"])
    dtype = np.dtype(meta.get("dtype", "uint8"))
    column = arrow.column("pixels").combine_chunks()
    if column.type == pa.binary():
        column = column.cast(pa.large_binary())
    n = len(column)
    buf = np.frombuffer(column.buffers()[2], dtype=np.uint8) if n else np.zeros(0, np.uint8)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int64)[
        column.offset : column.offset + n + 1
    ]
    row_bytes = int(np.prod(shape)) * dtype.itemsize
    if n and not np.all(np.diff(offsets) == row_bytes):
        raise ValueError(f"{path}: some rows are not {row_bytes} bytes (shape {shape}, {dtype})")
    start = int(offsets[0]) if n else 0
    pixels = buf[start : start + n * row_bytes].view(dtype).reshape((n, *shape)).copy()
    labels = arrow.column("label").to_numpy().astype(np.int64)
    source = None
    if "source_label" in arrow.column_names:
        source = arrow.column("source_label").to_numpy(zero_copy_only=False)
        source = np.where(np.isnan(source.astype(float)), -1, source).astype(np.int64)
    return ImageTable(pixels=pixels, labels=labels, meta=meta, source_labels=source)
