"""The user's own image datasets: a folder of class sub-folders, or an ``.npz`` file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from dsb.data.datasets import RawDataset
from dsb.data.sources import file_digest

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _to_nchw(images: np.ndarray, where: str, max_value: float | None = None) -> np.ndarray:
    """Images as uint8 (N, C, H, W). ``max_value`` is the value of white: 255 for integer
    arrays and 1 for float arrays unless given (8x8 digits, say, use 16)."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        x = x.transpose(0, 3, 1, 2)
    elif x.ndim != 4:
        raise ValueError(f"{where}: images must be (N, H, W), (N, H, W, C) or (N, C, H, W)")
    if x.dtype == np.uint8 and max_value in (None, 255):
        return np.ascontiguousarray(x)
    top = float(max_value or (255 if np.issubdtype(x.dtype, np.integer) else 1))
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{where}: images contain NaN or infinite values")
    if x.min() < 0 or x.max() > top:
        raise ValueError(
            f"{where}: pixel values span [{x.min()}, {x.max()}], outside [0, {top}]; "
            "set max_value in the dataset's config entry"
        )
    return np.ascontiguousarray(np.rint(x * (255.0 / top)).astype(np.uint8))


def load_npz(path: Path, max_value: float | None = None) -> RawDataset:
    """Keys ``images`` and ``labels``; optional ``test_images``, ``test_labels``, ``classes``."""
    if not path.is_file():
        raise FileNotFoundError(f"custom dataset file {path} does not exist")
    with np.load(path, allow_pickle=False) as f:
        missing = {"images", "labels"} - set(f.files)
        if missing:
            raise ValueError(f"{path}: missing arrays {sorted(missing)} (has {f.files})")
        train = (_to_nchw(f["images"], f"{path}[images]", max_value), f["labels"].astype(np.int64))
        test = None
        if "test_images" in f.files:
            test = (
                _to_nchw(f["test_images"], f"{path}[test_images]", max_value),
                f["test_labels"].astype(np.int64),
            )
        k = int(max(train[1].max(), test[1].max() if test else 0)) + 1
        classes = (
            [str(c) for c in f["classes"]] if "classes" in f.files else [str(i) for i in range(k)]
        )
    source = {path.name: {"from": str(path), "sha256": file_digest(path, "sha256")}}
    return RawDataset(train, test, classes, source)


def load_folder(path: Path, channels: int | None = None) -> RawDataset:
    """``path/<class name>/<image files>``; classes are the sub-folders in sorted order."""
    from PIL import Image

    if not path.is_dir():
        raise FileNotFoundError(f"custom dataset folder {path} does not exist")
    classes = sorted(p.name for p in path.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"{path}: no class sub-folders")
    files = [
        (f, label)
        for label, name in enumerate(classes)
        for f in sorted((path / name).iterdir())
        if f.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not files:
        raise ValueError(f"{path}: no image files in the class sub-folders")
    opened = [Image.open(f) for f, _ in files]
    if channels is None:
        channels = 1 if all(im.mode in ("L", "1", "I;16") for im in opened) else 3
    mode = "L" if channels == 1 else "RGB"
    arrays, digest = [], hashlib.sha256()
    for (f, _), im in zip(files, opened):
        a = np.asarray(im.convert(mode), dtype=np.uint8)
        if arrays and a.shape != arrays[0].shape:
            raise ValueError(f"{f}: size {a.shape[:2]} differs from {arrays[0].shape[:2]}")
        arrays.append(a)
        digest.update(f.read_bytes())
    x = _to_nchw(np.stack(arrays), str(path))
    y = np.asarray([label for _, label in files], dtype=np.int64)
    return RawDataset(
        (x, y), None, classes, {path.name: {"from": str(path), "sha256": digest.hexdigest()}}
    )


def load_custom(spec: dict) -> RawDataset:
    path = Path(spec["path"])
    if spec.get("format", "folder") == "npz":
        return load_npz(path, spec.get("max_value"))
    return load_folder(path, spec.get("channels"))
