import sys

from dsb.data import prepare
from dsb.io import write_images

sys.stderr = open(snakemake.log[0], "w", buffering=1)

tables = prepare(snakemake.params.spec)
for split_name, table in tables.items():
    write_images(snakemake.output[split_name], table)
    print(f"{split_name}: {len(table.labels)} images of shape {table.shape}", file=sys.stderr)
