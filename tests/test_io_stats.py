import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dsb.io import ImageTable, read_images, write_images
from dsb.stats import ClassStats, class_stats


def test_float_probe_table_round_trip_with_null_source(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.normal(size=(7, 1, 3, 3)).astype(np.float32)
    src = np.array([-1, 2, 0, -1, 1, 1, 0])
    table = ImageTable(pixels, np.arange(7) % 3, {"probe": "got", "order": 2}, src)
    write_images(tmp_path / "p.parquet", table)
    back = read_images(tmp_path / "p.parquet")
    assert back.pixels.dtype == np.float32
    np.testing.assert_array_equal(back.pixels, pixels)
    np.testing.assert_array_equal(back.source_labels, src)
    column = pq.read_table(tmp_path / "p.parquet").column("source_label")
    assert column.null_count == 2 and back.meta["probe"] == "got"


def test_reads_tables_written_by_other_tools(tmp_path):
    """A plain `binary` pixels column, as pandas or another writer would make it."""
    pixels = np.arange(2 * 4, dtype=np.uint8).reshape(2, 1, 2, 2)
    arrow = pa.table({"label": [0, 1], "pixels": [p.tobytes() for p in pixels]})
    arrow = arrow.replace_schema_metadata({"shape": "[1, 2, 2]", "classes": '["a", "b"]'})
    pq.write_table(arrow, tmp_path / "x.parquet")
    back = read_images(tmp_path / "x.parquet")
    np.testing.assert_array_equal(back.pixels, pixels)
    assert back.classes == ["a", "b"]


def test_corrupt_table_is_named(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="bad.parquet"):
        read_images(tmp_path / "bad.parquet")


def test_class_stats_match_numpy_oracle(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (300, 1, 4, 4), dtype=np.uint8)
    images[:, 0, 0, 0] = 7  # a constant pixel
    labels = rng.integers(0, 3, 300)
    stats = class_stats(images, labels, ["a", "b", "c"], n_quantiles=5, batch_size=17)
    for c in range(3):
        x = images[labels == c].reshape(-1, 16) / 255.0
        np.testing.assert_allclose(stats.means[c], x.mean(0), rtol=0, atol=1e-15)
        np.testing.assert_allclose(stats.covs[c], np.cov(x, rowvar=False), rtol=0, atol=1e-15)
        np.testing.assert_allclose(
            stats.quantiles[c], np.quantile(x, stats.levels, axis=0), atol=1e-15
        )
    assert stats.covs[:, 0, :].max() == 0.0
    stats.save(tmp_path / "s.npz")
    back = ClassStats.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(back.covs, stats.covs)
    assert back.classes == ["a", "b", "c"] and back.shape == (1, 4, 4)


def test_class_stats_bad_input_names_the_class():
    images = np.zeros((10, 1, 2, 2), np.uint8)
    with pytest.raises(ValueError, match="'c'"):
        class_stats(images, np.array([0] * 5 + [1] * 5), ["a", "b", "c"])
    noisy = np.zeros((10, 1, 2, 2))
    noisy[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        class_stats(noisy, np.array([0] * 5 + [1] * 5), ["a", "b"])
