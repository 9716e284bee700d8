import sys

from dsb.io import read_images
from dsb.plots import plot_examples, save

sys.stderr = open(snakemake.log[0], "w", buffering=1)

tables = {}
for path in snakemake.input.probes:
    table = read_images(path)
    tables[table.meta["probe"]] = table
classes = next(iter(tables.values())).meta["classes"]
fig = plot_examples(tables, classes, snakemake.params.n_examples, snakemake.params.style)
save(fig, snakemake.output.png, snakemake.output.pdf, snakemake.params.style["dpi"])
