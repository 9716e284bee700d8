rule evaluate:
    input:
        models=rules.train.output[0],
        probes=probe_files,
    output:
        table="results/eval/{dataset}/{arch}/seed{seed}.parquet",
    log:
        "results/logs/eval/{dataset}/{arch}/seed{seed}.log",
    benchmark:
        "results/benchmarks/eval/{dataset}/{arch}/seed{seed}.tsv"
    conda:
        "../../envs/dsb.yaml"
    threads: 2
    resources:
        mem_mb=mem_mb("evaluate"),
        runtime=runtime_min("evaluate"),
        gpu=int(config["evaluate"]["device"] == "cuda"),
    params:
        batch_size=config["evaluate"]["batch_size"],
        device=config["evaluate"]["device"],
    script:
        "../scripts/evaluate.py"


rule summarise:
    input:
        tables=lambda wildcards: eval_files(wildcards.dataset),
    output:
        table="results/summary/{dataset}.parquet",
        markdown=report(
            "results/summary/{dataset}.md",
            caption="../report/summary.rst",
            category="summary",
        ),
    log:
        "results/logs/summary/{dataset}.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/summarise.py"
