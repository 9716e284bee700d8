rule evaluate:
    input:
        models=rules.train.output[0],
        probes=probe_files,
    output:
        table="results/eval/{dataset}/{arch}/seed{seed}.parquet",
    params:
        batch_size=config["evaluate"]["batch_size"],
        device=config["evaluate"]["device"],
    log:
        "results/logs/eval/{dataset}/{arch}/seed{seed}.log",
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/dsb.yaml"
    benchmark:
        "results/benchmarks/eval/{dataset}/{arch}/seed{seed}.tsv"
    script:
        "../scripts/evaluate.py"
