import sys

import pandas as pd

from dsb.plots import MAXENT_PROBES, OT_PROBES, plot_probe_curves, save

sys.stderr = open(snakemake.log[0], "w", buffering=1)

table = pd.concat([pd.read_parquet(path) for path in snakemake.input.tables], ignore_index=True)
dataset, kind = snakemake.wildcards.dataset, snakemake.wildcards.kind
figures = {
    "curves": (None, ["accuracy", "loss"], "arch", "all probes across training"),
    "maxent": (MAXENT_PROBES, ["accuracy", "loss"], "family", "max-entropy probes across training"),
    "ot": (OT_PROBES, ["accuracy", "loss"], "family", "optimal-transport edits across training"),
    "maxent_accuracy": (
        MAXENT_PROBES,
        ["accuracy"],
        "family",
        "max-entropy probes across training",
    ),
    "ot_accuracy": (OT_PROBES, ["accuracy"], "family", "optimal-transport edits across training"),
}
probes, metrics, by, title = figures[kind]
fig = plot_probe_curves(
    table, probes, metrics, int(table["num_classes"].iloc[0]), snakemake.params.style,
    title=f"{dataset}: {title}", by=by,
)  # fmt: skip
save(fig, snakemake.output.png, snakemake.output.pdf, snakemake.params.style["dpi"])
