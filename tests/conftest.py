import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def fashion_available() -> bool:
    return (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file() or (
        ROOT / "resources/deb/root" / str(FASHION_DIR).lstrip("/") / "train-images-idx3-ubyte.gz"
    ).is_file()
