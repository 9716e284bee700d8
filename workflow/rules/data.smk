rule prepare_data:
    output:
        train="results/data/{dataset}/train.parquet",
        eval="results/data/{dataset}/eval.parquet",
        test="results/data/{dataset}/test.parquet",
    log:
        "results/logs/data/{dataset}.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("data"),
        runtime=runtime_min("data"),
    params:
        spec=lambda wildcards: dataset_spec(wildcards.dataset),
    script:
        "../scripts/prepare_data.py"
