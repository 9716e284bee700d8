rule prepare_data:
    output:
        train="results/data/{dataset}/train.parquet",
        eval="results/data/{dataset}/eval.parquet",
        test="results/data/{dataset}/test.parquet",
    params:
        spec=lambda wildcards: dataset_spec(wildcards.dataset),
    log:
        "results/logs/data/{dataset}.log",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/dsb.yaml"
    script:
        "../scripts/prepare_data.py"
