import sys
from pathlib import Path

import pandas as pd

from dsb.summary import readable, summarise

sys.stderr = open(snakemake.log[0], "w", buffering=1)

table = pd.concat([pd.read_parquet(path) for path in snakemake.input.tables], ignore_index=True)
summary = summarise(table)
summary.to_parquet(snakemake.output.table, index=False)
Path(snakemake.output.markdown).write_text(readable(summary))
