"""Fetching raw files from a list of mirrors, with their checksums always verified.

A mirror is a URL prefix (``https://``, ``http://``, ``file://``) or a local folder. Files are
fetched through torchvision's downloader into a cache folder, first under a temporary name, and
only renamed into place once their checksum is verified: an interrupted or corrupt download
never leaves a partial file where the next run would trust it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

from torchvision.datasets.utils import download_url


class DataSourceError(RuntimeError):
    """A raw file could not be had, or was corrupt, from every mirror."""


@dataclass(frozen=True)
class Checksum:
    """What a raw file must hash to.

    ``md5`` is the digest of the file as published (what torchvision checks). ``content_sha256``
    is the digest of its decompressed content, which identifies the same data when a packager
    re-compressed the file (Debian's Fashion-MNIST gzip files lack the original file name in
    their header, so their bytes differ while their content is identical).
    """

    md5: str | None = None
    sha256: str | None = None
    content_sha256: str | None = None

    def describe(self) -> str:
        parts = [
            f"md5 {self.md5}" if self.md5 else "",
            f"sha256 {self.sha256}" if self.sha256 else "",
        ]
        if self.content_sha256:
            parts.append(f"sha256 of decompressed content {self.content_sha256}")
        return " or ".join(p for p in parts if p)


def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_digest(path: Path) -> str:
    h = hashlib.sha256()
    with gzip.open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, checksum: Checksum, filename: str | None = None) -> bool:
    if checksum.md5 and file_digest(path, "md5") == checksum.md5:
        return True
    if checksum.sha256 and file_digest(path, "sha256") == checksum.sha256:
        return True
    if checksum.content_sha256 and (filename or path.name).endswith(".gz"):
        try:
            return content_digest(path) == checksum.content_sha256
        except (OSError, EOFError, zlib.error):
            return False
    return False


def _copy_from(mirror: str, filename: str, tmp: Path) -> None:
    if "://" in mirror and not mirror.startswith("file://"):
        download_url(mirror.rstrip("/") + "/" + filename, str(tmp.parent), tmp.name)
        return
    folder = Path(mirror[len("file://") :] if mirror.startswith("file://") else mirror)
    source = folder / filename
    if not source.is_file():
        raise FileNotFoundError(f"no file {source}")
    shutil.copyfile(source, tmp)


def fetch(filename: str, mirrors: list[str], cache: Path, checksum: Checksum) -> tuple[Path, str]:
    """Return (verified local path, where it came from) for ``filename``.

    A cached copy is re-verified on every call; a corrupt one is removed and fetched again.
    """
    if not mirrors:
        raise DataSourceError(f"{filename}: no mirrors configured")
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / filename
    origin_file = cache / f".{filename}.origin"
    if target.exists():
        if verify(target, checksum):
            origin = origin_file.read_text() if origin_file.exists() else str(target)
            return target, origin
        target.unlink()
    tmp = cache / f".{filename}.part{os.getpid()}"
    failures = []
    for mirror in mirrors:
        try:
            _copy_from(mirror, filename, tmp)
        except Exception as err:  # every mirror failure is reported together below
            failures.append(f"  {mirror}: {err}")
            tmp.unlink(missing_ok=True)
            continue
        if verify(tmp, checksum, filename):
            os.replace(tmp, target)
            origin_file.write_text(mirror)
            return target, mirror
        tmp.unlink(missing_ok=True)
        failures.append(
            f"  {mirror}: {filename} is corrupt or truncated (expected {checksum.describe()})"
        )
    raise DataSourceError(f"could not get {filename}; looked in:\n" + "\n".join(failures))
