"""make_probe: determinism, complete edit groups, clear errors on bad input."""

import numpy as np
import pytest

from dsb.probes import PROBES, make_probe
from dsb.stats import class_stats


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    images = np.clip(rng.random((120, 1, 3, 3)) * (1 + y[:, None, None, None]) / 3, 0, 1)
    stats = class_stats(images, y, ["a", "b", "c"], n_quantiles=17)
    x = images.reshape(120, -1)
    return stats, (x, y), (x[::4], y[::4])


@pytest.mark.parametrize(
    "name", ["real", "ics", "conrad", "gaussian", "truncnorm", "third", "cqn", "shift", "got"]
)
def test_same_seed_same_bytes_other_seed_other_samples(small, name):
    stats, train, evals = small
    a = make_probe(name, stats, train, evals, seed=1, n_per_class=20)
    b = make_probe(name, stats, train, evals, seed=1, n_per_class=20)
    assert a.pixels.dtype == np.float32 and a.pixels.tobytes() == b.pixels.tobytes()
    assert a.meta["order"] == PROBES[name].order
    if name in ("ics", "conrad", "gaussian", "truncnorm", "third"):
        c = make_probe(name, stats, train, evals, seed=2, n_per_class=20)
        assert a.pixels.tobytes() != c.pixels.tobytes()


@pytest.mark.parametrize("name", ["cqn", "shift", "got"])
def test_edits_take_every_eval_image_to_every_other_class(small, name):
    stats, train, (x, y) = small
    probe = make_probe(name, stats, train, (x, y), seed=0)
    assert len(probe.pixels) == 2 * len(x)
    assert np.all(probe.labels != probe.source_labels)
    for s in range(3):
        for t in range(3):
            if s != t:
                group = (probe.source_labels == s) & (probe.labels == t)
                assert group.sum() == (y == s).sum()


def test_nan_pixels_name_the_class(small):
    stats, (x, y), evals = small
    x = x.copy()
    x[45, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*'b'"):
        make_probe("conrad", stats, (x, y), evals, seed=0)


def test_unknown_probe_is_named(small):
    stats, train, evals = small
    with pytest.raises(ValueError, match="nope"):
        make_probe("nope", stats, train, evals, seed=0)
