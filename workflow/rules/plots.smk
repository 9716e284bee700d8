rule plot_training_curves:
    input:
        tables=lambda wildcards: eval_files(wildcards.dataset),
    output:
        png=report(
            "results/figures/{dataset}_{kind}.png",
            caption="../report/training_curves.rst",
            category="training curves",
            subcategory="{dataset}",
        ),
        pdf="results/figures/{dataset}_{kind}.pdf",
    log:
        "results/logs/plots/{dataset}_{kind}.log",
    wildcard_constraints:
        kind="|".join(FIGURE_KINDS),
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        style=plot_params(),
    script:
        "../scripts/plot_curves.py"


rule plot_probe_examples:
    input:
        probes=probe_files,
    output:
        png=report(
            "results/figures/{dataset}_probe_examples.png",
            caption="../report/probe_examples.rst",
            category="probes",
            subcategory="{dataset}",
        ),
        pdf="results/figures/{dataset}_probe_examples.pdf",
    log:
        "results/logs/plots/{dataset}_probe_examples.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        style=plot_params(),
        n_examples=config["plots"]["n_examples"],
    script:
        "../scripts/plot_probe_examples.py"


rule plot_probe_fidelity:
    input:
        table=rules.probe_fidelity.output.table,
    output:
        png=report(
            "results/figures/{dataset}_probe_fidelity.png",
            caption="../report/probe_fidelity.rst",
            category="probes",
            subcategory="{dataset}",
        ),
        pdf="results/figures/{dataset}_probe_fidelity.pdf",
    log:
        "results/logs/plots/{dataset}_probe_fidelity.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        style=plot_params(),
    script:
        "../scripts/plot_probe_fidelity.py"
