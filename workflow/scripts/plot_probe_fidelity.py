import sys

import pandas as pd

from dsb.plots import plot_fidelity, save

sys.stderr = open(snakemake.log[0], "w", buffering=1)

fig = plot_fidelity(pd.read_parquet(snakemake.input.table), snakemake.params.style)
save(fig, snakemake.output.png, snakemake.output.pdf, snakemake.params.style["dpi"])
