import sys

import pandas as pd

sys.stderr = open(snakemake.log[0], "w", buffering=1)

for key in ("loss", "position", "kl"):
    paths = snakemake.input[key]
    pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True).to_parquet(
        snakemake.output[key]
    )
