from dsb.threads import limit_threads

limit_threads(snakemake.threads)  # noqa: F821 (before numpy and torch load)

import sys

import torch

from dsb.evaluate import evaluate_run

sys.stderr = open(snakemake.log[0], "w", buffering=1)
torch.set_num_threads(snakemake.threads)

table = evaluate_run(
    snakemake.input.models,
    list(snakemake.input.probes),
    dataset=snakemake.wildcards.dataset,
    arch=snakemake.wildcards.arch,
    seed=int(snakemake.wildcards.seed),
    batch_size=snakemake.params.batch_size,
    device=snakemake.params.device,
)
table.to_parquet(snakemake.output.table, index=False)
