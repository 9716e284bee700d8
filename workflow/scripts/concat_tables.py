import sys

import pandas as pd

sys.stderr = open(snakemake.log[0], "w", buffering=1)

tables = [pd.read_parquet(path) for path in snakemake.input]
pd.concat(tables, ignore_index=True).to_parquet(snakemake.output[0], index=False)
