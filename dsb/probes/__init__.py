"""The probe suite: low-order surrogates (max-ent samples) and edits (optimal transport) of
image classes, as pure seeded functions over arrays.

``make_probe(name, stats, train, eval, seed=...)`` returns a :class:`ProbeSet`; the same seed
gives byte-identical pixels, another seed different samples. Statistics come from ``stats``
(the train split); edits move every eval image of class s to every other class t, so each
(s, t) group is complete. Definitions: ``shared/paper.md``; one module per idea.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from dsb.probes import (
    gaussian,
    maxent_box,
    mean_shift,
    optimal_transport,
    quantile,
    third,
    truncnorm,
)
from dsb.probes.fidelity import fidelity_rows
from dsb.stats import ClassStats


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    order: int
    kind: str


PROBES: dict[str, ProbeSpec] = {
    spec.name: spec
    for spec in [
        ProbeSpec("real", 0, "real"),
        ProbeSpec("ics", 1, "maxent"),
        ProbeSpec("conrad", 1, "maxent"),
        ProbeSpec("gaussian", 2, "maxent"),
        ProbeSpec("truncnorm", 2, "maxent"),
        ProbeSpec("third", 3, "maxent"),
        ProbeSpec("cqn", 1, "edit"),
        ProbeSpec("shift", 1, "edit"),
        ProbeSpec("got", 2, "edit"),
    ]
}


@dataclass
class ProbeSet:
    pixels: np.ndarray
    labels: np.ndarray
    source_labels: np.ndarray | None
    meta: dict


def _rng(seed: int, name: str, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), *stream])


def _check_split(split: str, data, stats: ClassStats) -> tuple[np.ndarray, np.ndarray]:
    x, y = data
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != stats.dim:
        raise ValueError(f"{split}: images must be (N, {stats.dim}) rows, got {x.shape}")
    if len(y) != len(x):
        raise ValueError(f"{split}: {len(x)} images but {len(y)} labels")
    if len(y) and (y.min() < 0 or y.max() >= stats.num_classes):
        raise ValueError(f"{split}: labels outside 0..{stats.num_classes - 1}")
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        names = [stats.classes[c] for c in np.unique(y[bad])]
        raise ValueError(f"{split}: NaN or infinite pixels in images of classes {names}")
    return x, y


def _check_stats(stats: ClassStats) -> None:
    for c, name in enumerate(stats.classes):
        if stats.counts[c] < 2:
            raise ValueError(f"class {name!r}: {stats.counts[c]} training images, need 2")
        if not (np.isfinite(stats.means[c]).all() and np.isfinite(stats.covs[c]).all()):
            raise ValueError(f"class {name!r}: statistics contain NaN or infinite values")


def _sampled(name, stats, n, seed, draw) -> tuple[np.ndarray, np.ndarray]:
    classes = tqdm(range(stats.num_classes), desc=name, leave=False)
    pixels = [draw(c, _rng(seed, name, c)) for c in classes]
    labels = np.repeat(np.arange(stats.num_classes), n)
    return np.concatenate(pixels), labels


def make_probe(
    name: str,
    stats: ClassStats,
    train: tuple[np.ndarray, np.ndarray],
    eval: tuple[np.ndarray, np.ndarray],
    *,
    seed: int,
    n_per_class: int = 1000,
    options: dict | None = None,
    device: str = "cpu",
) -> ProbeSet:
    """Build probe ``name`` (a key of PROBES). ``train``/``eval``: (X (N, d) in [0, 1], y)."""
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; known: {sorted(PROBES)}")
    spec, options = PROBES[name], dict(options or {})
    _check_stats(stats)
    train_x, train_y = _check_split("train", train, stats)
    eval_x, eval_y = _check_split("eval", eval, stats)
    meta = {"probe": name, "order": spec.order, "kind": spec.kind, "seed": int(seed)}
    source = None
    n = int(n_per_class)
    if name == "real":
        pixels, labels = eval_x, eval_y
    elif spec.kind == "maxent":
        meta["n_per_class"] = n
        pixels, labels = _maxent(name, stats, train_x, train_y, n, seed, options, meta)
    else:
        meta["targets"] = "every eval image of class s to every class t != s"
        pixels, labels, source = _edit(name, stats, eval_x, eval_y, seed, options, device, meta)
    meta["options"] = options
    return ProbeSet(pixels.astype(np.float32), labels.astype(np.int64), source, meta)


def _maxent(name, stats, train_x, train_y, n, seed, options, meta):
    if name == "ics":
        meta["n_quantiles"] = len(stats.levels)
        return _sampled(
            name,
            stats,
            n,
            seed,
            lambda c, rng: quantile.sample_marginals(stats.levels, stats.quantiles[c], n, rng),
        )
    if name == "conrad":
        meta["solver"] = "float64 bisection on mu(b) = target; point masses at means 0 and 1"
        return _sampled(
            name,
            stats,
            n,
            seed,
            lambda c, rng: maxent_box.sample_box_maxent(stats.means[c], n, rng)[0],
        )
    if name == "gaussian":
        shrinkage = options.get("shrinkage")
        intensities = []

        def draw(c, rng):
            cov = stats.covs[c]
            if shrinkage is not None:
                a = (
                    gaussian.ledoit_wolf_intensity(train_x[train_y == c])
                    if shrinkage == "ledoit_wolf"
                    else float(shrinkage)
                )
                intensities.append(a)
                cov = gaussian.shrink(cov, a)
            return gaussian.sample_gaussian(stats.means[c], cov, n, rng)

        out = _sampled(name, stats, n, seed, draw)
        meta.update(shrinkage=shrinkage, shrinkage_intensity=intensities, clipped=False)
        return out
    if name == "truncnorm":
        cov_tol = float(options.get("cov_tol", 0.02))
        max_iter = int(options.get("max_iter", 80))
        results = {}

        def draw(c, rng):
            results[c] = truncnorm.sample_truncnorm(
                stats.means[c], stats.covs[c], n, rng, cov_tol=cov_tol, max_iter=max_iter
            )
            return results[c].samples

        out = _sampled(name, stats, n, seed, draw)
        meta.update(
            method=(
                "exact-moment Gaussian draws, clamped, then moved jointly inside the box "
                "(preconditioned covariance steps, mean held) until the covariance matches"
            ),
            cov_tol=cov_tol,
            max_iter=max_iter,
            **_fit_record(results),
        )
        return out
    if name == "third":
        settings = {
            "rank": int(options.get("rank", 200)),
            "third_iter": int(options.get("third_iter", 30)),
            "step": float(options.get("step", 0.5)),
            "cov_tol": float(options.get("cov_tol", 0.02)),
            "max_iter": int(options.get("max_iter", 80)),
        }
        results, fractions = {}, {}

        def draw(c, rng):
            rows = train_x[train_y == c]
            if len(rows) < 2:
                raise ValueError(f"third: class {stats.classes[c]!r} has {len(rows)} train images")
            results[c], fractions[c] = third.sample_third(
                stats.means[c], stats.covs[c], rows, n, rng, **settings
            )
            return results[c].samples

        out = _sampled(name, stats, n, seed, draw)
        classes = sorted(results)
        meta.update(
            method=(
                "exact-moment Gaussian draws, clamped, then moved jointly inside the box "
                "(mean held) by covariance steps plus gradient steps on the Frobenius gap of "
                "the third-moment tensor in the leading principal span (kernel trick), then "
                "covariance-only steps"
            ),
            **settings,
            variance_fraction=[fractions[c] for c in classes],
            third_tensor_gap=[results[c].extra_error for c in classes],
            **_fit_record(results),
        )
        return out
    raise ValueError(f"probe {name!r} is not a sampled probe")


def _fit_record(results) -> dict:
    classes = sorted(results)
    return {
        "iterations": [results[c].iterations for c in classes],
        "cov_error": [results[c].cov_error for c in classes],
        "mean_abs_error": [results[c].mean_abs_error for c in classes],
    }


def _edit(name, stats, eval_x, eval_y, seed, options, device, meta):
    k = stats.num_classes
    groups = {s: eval_x[eval_y == s] for s in range(k) if (eval_y == s).any()}
    edited: dict[tuple[int, int], np.ndarray] = {}
    if name == "cqn":
        meta["ties"] = "randomised probability integral transform"
        for s, x in groups.items():
            u = quantile.transport_levels(stats.levels, stats.quantiles[s], x, _rng(seed, name, s))
            for t in range(k):
                if t != s:
                    edited[s, t] = quantile.quantile_function(stats.levels, stats.quantiles[t], u)
    elif name == "shift":
        meta["solver"] = "per-pixel bisection of the clamp offset, float64"
        for s, x in groups.items():
            for t in range(k):
                if t != s:
                    edited[s, t] = mean_shift.shift_to_mean(x, stats.means[t])
    elif name == "got":
        rcond = float(options.get("rcond", 1e-6))
        meta.update(solver="eigh, pseudo-inverse square roots, float64", rcond=rcond, clipped=False)
        pairs = optimal_transport.transport_pairs(
            stats.means, stats.covs, groups, device=device, rcond=rcond
        )
        for s, t, y in pairs:
            edited[s, t] = y
    keys = sorted(edited)
    pixels = np.concatenate([edited[key] for key in keys]) if keys else eval_x[:0]
    labels = np.concatenate([np.full(len(edited[key]), key[1]) for key in keys] or [[]])
    source = np.concatenate([np.full(len(edited[key]), key[0]) for key in keys] or [[]])
    return pixels, labels.astype(np.int64), source.astype(np.int64)


def fidelity_table(
    name: str,
    probe: ProbeSet,
    stats: ClassStats,
    train: tuple[np.ndarray, np.ndarray] | None = None,
    n_directions: int = 64,
) -> pd.DataFrame:
    """Rows of fidelity.parquet for one probe: per scored class, the errors of its moments."""
    table = fidelity_rows(name, probe.pixels, probe.labels, stats, train, n_directions)
    table.insert(1, "order", probe.meta.get("order", PROBES[name].order))
    table.insert(2, "kind", probe.meta.get("kind", PROBES[name].kind))
    return table
