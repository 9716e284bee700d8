import json
import sys

import pandas as pd

from dsb.lm.plots import plot_by, plot_kl, plot_loss_by_position, plot_ngram_loss, save

sys.stderr = open(snakemake.log[0], "w", buffering=1)

p = snakemake.params
loss = pd.read_parquet(snakemake.input.loss)


def standard(table: pd.DataFrame) -> pd.DataFrame:
    """The standard models only: warm-up variants have a figure of their own."""
    return table[table["variant"] == "standard"]


if p.figure == "lm_ngram_loss":
    fig = plot_ngram_loss(standard(loss), json.load(open(snakemake.input.entropy))["entropy"])
elif p.figure == "lm_kl":
    fig = plot_kl(standard(pd.read_parquet(snakemake.input.kl)))
elif p.figure == "lm_loss_by_position":
    position = standard(pd.read_parquet(snakemake.input.position))
    fig = plot_loss_by_position(position, p.position_steps)
elif p.figure == "lm_seeds":
    fig = plot_by(standard(loss), "seed", "seeds")
else:
    fig = plot_by(loss[loss["size"].isin(loss.loc[loss["variant"] != "standard", "size"])],
                  "variant", "learning-rate warm-up")  # fmt: skip
save(fig, snakemake.output.png, snakemake.output.pdf, p.dpi)
