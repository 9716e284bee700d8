rule class_stats:
    input:
        train=rules.prepare_data.output.train,
    output:
        stats="results/stats/{dataset}.npz",
    params:
        n_quantiles=config["stats"]["n_quantiles"],
    log:
        "results/logs/stats/{dataset}.log",
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        "../../envs/dsb.yaml"
    benchmark:
        "results/benchmarks/stats/{dataset}.tsv"
    script:
        "../scripts/class_stats.py"
