import json
from pathlib import Path

from dsb.data import DEFAULT_MIRRORS


def _sorted_keys(value):
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


# Rules take config blocks as params, and Snakemake reruns a job whose params read differently:
# with keys in one order, reordering keys in a config file (or merging several) reruns nothing.
_canonical = _sorted_keys(dict(config))
config.clear()
config.update(_canonical)


def _check_datasets():
    known = set(DEFAULT_MIRRORS) | set(config["data"]["custom"])
    unknown = [d for d in config["datasets"] if d not in known]
    if unknown:
        raise ValueError(
            f"config key 'datasets': unknown dataset(s) {unknown}; built-in are "
            f"{sorted(DEFAULT_MIRRORS)}, custom ones must be defined under data.custom"
        )


_check_datasets()

DATASETS = config["datasets"]
PROBE_NAMES = config["probes"]["names"]
ARCHS = config["train"]["archs"]
SEEDS = config["train"]["seeds"]


wildcard_constraints:
    dataset="|".join(DATASETS) or "NONE",
    probe="|".join(PROBE_NAMES),
    arch="[A-Za-z0-9_]+",
    seed=r"\d+",


def dataset_spec(dataset):
    """Everything the data stage reads for one dataset, as a params value."""
    data = config["data"]
    return {
        "name": dataset,
        "custom": data["custom"].get(dataset),
        "mirrors": data["mirrors"].get(dataset),
        "checksums": data["checksums"].get(dataset, {}),
        "raw_dir": data["raw_dir"],
        "eval_size": data["eval_size"],
        "test_size": data["test_size"],
        "split_seed": data["split_seed"],
        "limit_train": data["limit_train"],
    }


def probe_settings(probe):
    settings = config["probes"]
    return {
        "seed": settings["seed"],
        "n_per_class": settings["n_per_class"],
        "options": settings["options"].get(probe, {}),
        "device": settings["device"],
    }


def probe_files(wildcards):
    return expand(
        "results/probes/{dataset}/{probe}.parquet",
        dataset=wildcards.dataset,
        probe=PROBE_NAMES,
    )


def eval_files(dataset):
    return expand(
        "results/eval/{dataset}/{arch}/seed{seed}.parquet",
        dataset=dataset,
        arch=ARCHS,
        seed=SEEDS,
    )


def image_targets():
    targets = []
    for dataset in DATASETS:
        targets += eval_files(dataset)
        targets.append(f"results/summary/{dataset}.parquet")
        targets += figure_files(dataset)
    return targets


def all_targets():
    targets = image_targets()
    if config["lm"].get("enabled", False):
        targets += lm_targets()
    return targets


FIGURE_KINDS = ["curves", "maxent", "ot", "maxent_accuracy", "ot_accuracy"]


def figure_files(dataset):
    names = [f"{dataset}_{kind}" for kind in FIGURE_KINDS]
    names += [f"{dataset}_probe_examples", f"{dataset}_probe_fidelity"]
    return expand("results/figures/{name}.{ext}", name=names, ext=["png", "pdf"])


def plot_params():
    return {key: config["plots"][key] for key in ("dpi", "width", "height", "context")}


# Sizes of the built-in datasets, for resource requests made before their files exist:
# (pixels per image, training images, classes).
DATASET_SIZES = {
    "fashion_mnist": (784, 60000, 10),
    "mnist": (784, 60000, 10),
    "mnist_10k": (784, 8000, 10),
    "cifar10": (3072, 50000, 10),
    "svhn": (3072, 73257, 10),
    "cifarnet": (12288, 190000, 10),
}


def dataset_size(dataset):
    """(d, n, k) of a dataset: measured once its train split exists, else from the table."""
    path = Path(f"results/data/{dataset}/train.parquet")
    if path.exists():
        import pyarrow.parquet as pq

        from dsb.io import read_meta

        meta = read_meta(path)
        shape = meta["shape"]
        return (
            shape[0] * shape[1] * shape[2],
            pq.read_metadata(path).num_rows,
            len(meta["classes"]),
        )
    return DATASET_SIZES.get(dataset, (3072, 50000, 10))


def mem_mb(stage):
    """Memory (MB) a job of ``stage`` needs, from the dataset's dimension and size."""

    def estimate(wildcards):
        d, n, k = dataset_size(wildcards.dataset)
        if config["data"]["limit_train"]:
            n = min(n, config["data"]["limit_train"])
        m = config["probes"]["n_per_class"] * k
        bytes_needed = {
            "data": 6 * n * d,
            "stats": 8 * n * d + 3 * 8 * k * d * d,
            "probes": 8 * n * d + 8 * k * d * d + 6 * 8 * d * d + 4 * 8 * m * d,
            "evaluate": 2 * 4 * (len(PROBE_NAMES) + 1) * max(m, k * 1024) * d,
        }[stage]
        return 1000 + int(bytes_needed / 1e6)

    return estimate


def runtime_min(stage):
    """Wall-time limit (minutes) of a job of ``stage``, scaled by the dataset's dimension."""

    def estimate(wildcards):
        d, n, k = dataset_size(wildcards.dataset)
        base = {"data": 30, "stats": 20, "probes": 60, "evaluate": 60}[stage]
        return int(base * max(1.0, (d / 784) ** 1.5))

    return estimate
