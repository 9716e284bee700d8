"""Train one (dataset, architecture, seed): log-spaced checkpoints and a training log."""

from dsb.threads import limit_threads

limit_threads(snakemake.threads)  # noqa: F821 (before numpy and torch load)

import sys

from dsb.train import train

sys.stderr = open(snakemake.log[0], "w", buffering=1)  # noqa: F821 (injected by Snakemake)

train(
    train_path=snakemake.input.train,  # noqa: F821
    out_dir=snakemake.output[0],  # noqa: F821
    state_root=snakemake.params.state_root,  # noqa: F821
    arch=snakemake.wildcards.arch,  # noqa: F821
    seed=int(snakemake.wildcards.seed),  # noqa: F821
    settings=snakemake.params.settings,  # noqa: F821
)
