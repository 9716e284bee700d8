"""truncnorm and third on the real Fashion-MNIST train split: the bounds of issue 3."""

import gzip

import numpy as np
import pytest
from conftest import FASHION_DIR

from dsb.probes import fidelity_table, make_probe
from dsb.stats import ClassStats, class_stats

pytestmark = pytest.mark.skipif(
    not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason="needs dataset-fashion-mnist in /usr/share/datasets/fashion-mnist",
)

# Third-order fits cost ~6 s a class on one core: the test takes two classes of different
# shapes (pullover, sandal); the pipeline makes all ten.
THIRD_CLASSES = [2, 5]


def read_idx(name: str, header: int) -> np.ndarray:
    with gzip.open(FASHION_DIR / name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


@pytest.fixture(scope="module")
def fashion():
    images = read_idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    labels = read_idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    stats = class_stats(images, labels, [str(c) for c in range(10)])
    return stats, (images.reshape(len(images), -1) / 255.0, labels)


def subset(stats: ClassStats, train, classes):
    x, y = train
    keep = np.isin(y, classes)
    relabel = np.full(stats.num_classes, -1)
    relabel[classes] = np.arange(len(classes))
    sub = ClassStats(
        [stats.classes[c] for c in classes],
        stats.shape,
        stats.counts[classes],
        stats.means[classes],
        stats.covs[classes],
        stats.levels,
        stats.quantiles[classes],
    )
    return sub, (x[keep], relabel[y[keep]])


def test_truncnorm_meets_the_bounds_on_every_class(fashion):
    stats, train = fashion
    probe = make_probe("truncnorm", stats, train, (train[0][:10], train[1][:10]), seed=0)
    assert np.bincount(probe.labels).tolist() == [1000] * 10
    assert probe.pixels.min() >= 0 and probe.pixels.max() <= 1
    table = fidelity_table("truncnorm", probe, stats)
    assert table["class"].tolist() == list(range(10))
    assert table["mean_abs_error"].max() <= 1e-3
    assert table["cov_rel_error"].max() <= 0.05
    assert table["frac_outside_box"].max() == 0


def test_third_beats_truncnorm_on_held_out_directions_within_its_bounds(fashion):
    stats, train = subset(*fashion, THIRD_CLASSES)
    held_out = (train[0][:10], train[1][:10])
    tables = {
        name: fidelity_table(
            name, make_probe(name, stats, train, held_out, seed=3), stats, train, n_directions=96
        )
        for name in ("truncnorm", "third")
    }
    third, second = tables["third"], tables["truncnorm"]
    assert third["mean_abs_error"].max() <= 1e-3
    assert third["cov_rel_error"].max() <= 0.05
    assert third["frac_outside_box"].max() == 0
    # Held-out: the fidelity table's directions come from its own fixed seed, never seen by
    # the fit. Demand a clear margin on every class, not only on average.
    ratio = third["third_rel_error"].to_numpy() / second["third_rel_error"].to_numpy()
    assert ratio.max() < 0.8, ratio
