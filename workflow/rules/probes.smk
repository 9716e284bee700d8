rule make_probe:
    input:
        train=rules.prepare_data.output.train,
        eval=rules.prepare_data.output.eval,
        stats=rules.class_stats.output.stats,
    output:
        probe="results/probes/{dataset}/{probe}.parquet",
        fidelity="results/probes/{dataset}/fidelity/{probe}.parquet",
    log:
        "results/logs/probes/{dataset}/{probe}.log",
    benchmark:
        "results/benchmarks/probes/{dataset}/{probe}.tsv"
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("probes"),
        runtime=runtime_min("probes"),
    params:
        settings=lambda wildcards: probe_settings(wildcards.probe),
    script:
        "../scripts/make_probe.py"


rule probe_fidelity:
    input:
        lambda wildcards: expand(
            rules.make_probe.output.fidelity,
            dataset=wildcards.dataset,
            probe=PROBE_NAMES,
        ),
    output:
        table="results/probes/{dataset}/fidelity.parquet",
    log:
        "results/logs/probes/{dataset}/fidelity.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/concat_tables.py"
