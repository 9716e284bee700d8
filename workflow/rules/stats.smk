rule class_stats:
    input:
        train=rules.prepare_data.output.train,
    output:
        stats="results/stats/{dataset}.npz",
    log:
        "results/logs/stats/{dataset}.log",
    benchmark:
        "results/benchmarks/stats/{dataset}.tsv"
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("stats"),
        runtime=runtime_min("stats"),
    params:
        n_quantiles=config["stats"]["n_quantiles"],
    script:
        "../scripts/class_stats.py"
