from copy import deepcopy

from dsb.train import resolve_settings

TRAIN_SCHEMA = workflow.source_path("../schemas/train.schema.yaml")


def train_settings(wildcards):
    """The run's settings: the train block with its dataset and architecture overrides applied,
    checked against the schema so a bad override stops the run before any job starts."""
    settings = resolve_settings(config["train"], wildcards.dataset, wildcards.arch)
    validate(deepcopy(settings), TRAIN_SCHEMA)
    return settings


rule train:
    input:
        train="results/data/{dataset}/train.parquet",
    output:
        directory("results/models/{dataset}/{arch}/seed{seed}"),
    log:
        "results/logs/train/{dataset}/{arch}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{arch}/seed{seed}.tsv"
    wildcard_constraints:
        seed=r"\d+",
    params:
        settings=train_settings,
        state_root="results/resume/{dataset}/{arch}/seed{seed}",
    threads: lambda wildcards: train_settings(wildcards)["threads"]
    resources:
        mem_mb=lambda wildcards: train_settings(wildcards)["mem_mb"],
        runtime=lambda wildcards: train_settings(wildcards)["runtime"],
        gpu=lambda wildcards: int(train_settings(wildcards)["device"] == "cuda"),
    conda:
        "../../envs/dsb.yaml"
    script:
        "../scripts/train.py"
