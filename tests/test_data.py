"""The data stage on files written here in each dataset's true format."""

import gzip
import hashlib
import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from scipy.io import savemat

from dsb.data import Checksum, DataSourceError, load_builtin, load_custom, prepare, split
from dsb.data.datasets import read_idx
from dsb.io import read_images, write_images


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def idx_mirror(folder: Path, rng, n_train=50, n_test=30) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(n_test) % 10,
    }
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


def test_mnist_idx_from_local_mirror(tmp_path):
    rng = np.random.default_rng(0)
    arrays = idx_mirror(tmp_path / "mirror", rng)
    checksums = {n: Checksum(md5=md5(tmp_path / "mirror" / n)) for n in arrays}
    raw = load_builtin("mnist", [str(tmp_path / "mirror")], tmp_path / "cache", checksums)
    assert raw.train[0].shape == (50, 1, 28, 28) and raw.train[0].dtype == np.uint8
    np.testing.assert_array_equal(raw.train[0][:, 0], arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(raw.test[1], arrays["t10k-labels-idx1-ubyte.gz"])
    assert raw.source["t10k-labels-idx1-ubyte.gz"]["from"] == str(tmp_path / "mirror")


def test_file_url_mirror_goes_through_torchvision_downloader(tmp_path):
    arrays = idx_mirror(tmp_path / "mirror", np.random.default_rng(1))
    checksums = {n: Checksum(md5=md5(tmp_path / "mirror" / n)) for n in arrays}
    url = (tmp_path / "mirror").as_uri() + "/"
    raw = load_builtin("mnist", ["file:///nonexistent/", url], tmp_path / "cache", checksums)
    assert raw.source["train-images-idx3-ubyte.gz"]["from"] == url


def test_corrupt_file_names_file_and_checksum_and_leaves_nothing(tmp_path):
    arrays = idx_mirror(tmp_path / "mirror", np.random.default_rng(2))
    checksums = {n: Checksum(md5=md5(tmp_path / "mirror" / n)) for n in arrays}
    target = tmp_path / "mirror" / "t10k-images-idx3-ubyte.gz"
    expected = checksums["t10k-images-idx3-ubyte.gz"].md5
    target.write_bytes(target.read_bytes()[:-100])  # truncated
    with pytest.raises(DataSourceError) as err:
        load_builtin("mnist", [str(tmp_path / "mirror")], tmp_path / "cache", checksums)
    assert "t10k-images-idx3-ubyte.gz" in str(err.value) and expected in str(err.value)
    cached = sorted(
        p.name for p in (tmp_path / "cache" / "mnist").iterdir() if "t10k-images" in p.name
    )
    assert cached == [], f"partial files left behind: {cached}"


def test_corrupt_cached_copy_is_fetched_again(tmp_path):
    arrays = idx_mirror(tmp_path / "mirror", np.random.default_rng(3))
    checksums = {n: Checksum(md5=md5(tmp_path / "mirror" / n)) for n in arrays}
    load_builtin("mnist", [str(tmp_path / "mirror")], tmp_path / "cache", checksums)
    cached = tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz"
    cached.write_bytes(b"garbage")
    raw = load_builtin("mnist", [str(tmp_path / "mirror")], tmp_path / "cache", checksums)
    assert raw.train[0].shape[0] == 50 and md5(cached) == checksums[cached.name].md5


def test_missing_source_says_where_it_looked_and_how_to_get_it(tmp_path):
    with pytest.raises(DataSourceError) as err:
        load_builtin("fashion_mnist", [str(tmp_path / "nowhere")], tmp_path / "cache")
    message = str(err.value)
    assert str(tmp_path / "nowhere") in message and "dataset-fashion-mnist" in message
    assert not any((tmp_path / "cache").rglob("*.gz"))


def test_gzip_content_checksum_accepts_recompressed_file(tmp_path):
    arrays = idx_mirror(tmp_path / "mirror", np.random.default_rng(4))
    content = {
        n: hashlib.sha256(gzip.decompress((tmp_path / "mirror" / n).read_bytes())).hexdigest()
        for n in arrays
    }
    for n in arrays:  # re-compress, as a packager may: different bytes, same content
        data = gzip.decompress((tmp_path / "mirror" / n).read_bytes())
        (tmp_path / "mirror" / n).write_bytes(gzip.compress(data, compresslevel=1, mtime=0))
    checksums = {n: Checksum(md5="0" * 32, content_sha256=content[n]) for n in arrays}
    raw = load_builtin("mnist", [str(tmp_path / "mirror")], tmp_path / "cache", checksums)
    assert raw.test[0].shape[0] == 30


def test_truncated_idx_content_is_reported(tmp_path):
    path = tmp_path / "x-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + np.array([5, 28, 28], ">i4").tobytes() + bytes(100))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_cifar10_python_pickles(tmp_path):
    rng = np.random.default_rng(5)
    buf = io.BytesIO()
    batches = {}
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
        for name in names:
            if name == "batches.meta":
                obj = {"label_names": [f"c{i}" for i in range(10)]}
            else:
                obj = {
                    "data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                    "labels": list(range(4)),
                }
                batches[name] = obj
            buf = pickle.dumps(obj)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(buf)
            tar.addfile(info, io.BytesIO(buf))
    checksums = {"cifar-10-python.tar.gz": Checksum(md5=md5(tmp_path / "cifar-10-python.tar.gz"))}
    raw = load_builtin("cifar10", [str(tmp_path)], tmp_path / "cache", checksums)
    assert raw.train[0].shape == (20, 3, 32, 32) and raw.test[0].shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(raw.test[0][1].reshape(-1), batches["test_batch"]["data"][1])
    assert raw.classes[3] == "c3"


def test_svhn_mat_files_map_label_10_to_0(tmp_path):
    rng = np.random.default_rng(6)
    for name, n in [("train_32x32.mat", 7), ("test_32x32.mat", 5)]:
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        savemat(tmp_path / name, {"X": x, "y": (np.arange(n) % 10 + 1).reshape(-1, 1)})
    checksums = {n: Checksum(md5=md5(tmp_path / n)) for n in ["train_32x32.mat", "test_32x32.mat"]}
    raw = load_builtin("svhn", [str(tmp_path)], tmp_path / "cache", checksums)
    assert raw.train[0].shape == (7, 3, 32, 32)
    assert raw.train[1].tolist() == [1, 2, 3, 4, 5, 6, 7] and raw.train[1].max() < 10
    assert raw.test[1].tolist() == [1, 2, 3, 4, 5]


def write_cifarnet(folder: Path, rng):
    counts = {"train": 6, "test": 4}
    (folder / "data").mkdir(parents=True)
    for split_name, n in counts.items():
        cells, labels = [], []
        for i in range(n):
            png = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(png, "PNG")
            cells.append({"bytes": png.getvalue(), "path": None})
            labels.append(i % 10)
        table = pa.table({"img": cells, "label": labels})
        pq.write_table(table, folder / "data" / f"{split_name}-00000-of-00001.parquet")


def test_cifarnet_parquet_shards_verified(tmp_path):
    write_cifarnet(tmp_path / "snap", np.random.default_rng(7))
    shards = sorted((tmp_path / "snap" / "data").iterdir())
    checksums = {p.name: Checksum(sha256=sha256(p)) for p in shards}
    raw = load_builtin("cifarnet", [str(tmp_path / "snap")], tmp_path / "cache", checksums)
    assert raw.train[0].shape == (6, 3, 64, 64) and raw.test[0].shape == (4, 3, 64, 64)
    with pytest.raises(DataSourceError, match="checksum"):
        load_builtin("cifarnet", [str(tmp_path / "snap")], tmp_path / "cache", {})


def test_split_holds_out_eval_from_test_by_seed():
    rng = np.random.default_rng(8)
    from dsb.data import RawDataset

    raw = RawDataset(
        train=(rng.integers(0, 256, (40, 1, 4, 4), dtype=np.uint8), np.arange(40) % 4),
        test=(rng.integers(0, 256, (30, 1, 4, 4), dtype=np.uint8), np.arange(30) % 4),
        classes=list("abcd"),
    )
    a, b, c = split(raw, 10, 0, 0), split(raw, 10, 0, 0), split(raw, 10, 1, 0)
    assert len(a["eval"].labels) == 10 and len(a["test"].labels) == 20
    np.testing.assert_array_equal(a["eval"].pixels, b["eval"].pixels)
    assert not np.array_equal(a["eval"].pixels, c["eval"].pixels)
    rows = {r.tobytes() for r in a["eval"].pixels} | {r.tobytes() for r in a["test"].pixels}
    assert rows == {r.tobytes() for r in raw.test[0]}


def test_custom_npz_and_folder(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.integers(0, 256, (30, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", images=x, labels=np.arange(30) % 3)
    raw = load_custom({"path": str(tmp_path / "d.npz"), "format": "npz"})
    assert raw.train[0].shape == (30, 1, 8, 8) and raw.classes == ["0", "1", "2"]
    for c in ["cat", "dog"]:
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
                tmp_path / "imgs" / c / f"{i}.png"
            )
    raw = load_custom({"path": str(tmp_path / "imgs")})
    assert raw.train[0].shape == (6, 3, 8, 8) and raw.classes == ["cat", "dog"]
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(tmp_path / "imgs" / "dog" / "odd.png")
    with pytest.raises(ValueError, match="odd.png"):
        load_custom({"path": str(tmp_path / "imgs")})


def test_prepare_writes_tables_that_round_trip(tmp_path):
    arrays = idx_mirror(tmp_path / "mirror", np.random.default_rng(10), n_train=60, n_test=40)
    spec = {
        "name": "mnist",
        "mirrors": [str(tmp_path / "mirror")],
        "checksums": {n: sha256(tmp_path / "mirror" / n) for n in arrays},
        "raw_dir": str(tmp_path / "raw"),
        "eval_size": 16,
        "test_size": 10,
        "split_seed": 0,
        "limit_train": 20,
    }
    tables = prepare(spec)
    assert len(tables["train"].labels) == 20
    assert np.bincount(tables["train"].labels).tolist() == [2] * 10
    for name, table in tables.items():
        write_images(tmp_path / f"{name}.parquet", table)
        back = read_images(tmp_path / f"{name}.parquet")
        np.testing.assert_array_equal(back.pixels, table.pixels)
        assert back.meta["shape"] == [1, 28, 28] and back.meta["classes"] == [
            str(i) for i in range(10)
        ]
        assert "sha256" in json.dumps(back.meta["source"])
