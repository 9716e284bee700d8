from dsb.train import resolve_settings

# Every run's settings, overrides applied, must pass the schema before any job starts.
for _dataset in config["datasets"]:
    for _arch in config["train"]["archs"]:
        validate(
            resolve_settings(config["train"], _dataset, _arch),
            workflow.source_path("../schemas/train.schema.yaml"),
        )


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
    conda:
        "../../envs/dsb.yaml"
    threads: lambda w: resolve_settings(config["train"], w.dataset, w.arch)["threads"]
    resources:
        mem_mb=lambda w: resolve_settings(config["train"], w.dataset, w.arch)["mem_mb"],
        runtime=lambda w: resolve_settings(config["train"], w.dataset, w.arch)[
            "runtime"
        ],
        gpu=lambda w: int(
            resolve_settings(config["train"], w.dataset, w.arch)["device"] == "cuda"
        ),
    params:
        settings=lambda w: resolve_settings(config["train"], w.dataset, w.arch),
        state_root="results/resume/{dataset}/{arch}/seed{seed}",
    script:
        "../scripts/train.py"
