FIGURE_KINDS = ["curves", "maxent", "ot", "maxent_accuracy", "ot_accuracy"]


def figure_files(dataset):
    names = [f"{dataset}_{kind}" for kind in FIGURE_KINDS]
    names += [f"{dataset}_probe_examples", f"{dataset}_probe_fidelity"]
    return expand("results/figures/{name}.{ext}", name=names, ext=["png", "pdf"])


def plot_params():
    return {key: config["plots"][key] for key in ("dpi", "width", "height", "context")}


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
    wildcard_constraints:
        kind="|".join(FIGURE_KINDS),
    params:
        style=plot_params(),
    log:
        "results/logs/plots/{dataset}_{kind}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/dsb.yaml"
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
    params:
        style=plot_params(),
        n_examples=config["plots"]["n_examples"],
    log:
        "results/logs/plots/{dataset}_probe_examples.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/dsb.yaml"
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
    params:
        style=plot_params(),
    log:
        "results/logs/plots/{dataset}_probe_fidelity.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/dsb.yaml"
    script:
        "../scripts/plot_probe_fidelity.py"
