import json
from pathlib import Path

from dsb.data import DEFAULT_MIRRORS


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
