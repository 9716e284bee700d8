from dsb.threads import limit_threads

limit_threads(snakemake.threads)  # noqa: F821 (before numpy and torch load)

import sys

from dsb.gpus import acquire_device
from dsb.io import ImageTable, read_images, write_images
from dsb.probes import fidelity_table, make_probe
from dsb.stats import ClassStats

sys.stderr = open(snakemake.log[0], "w", buffering=1)

settings = snakemake.params.settings
probe = snakemake.wildcards.probe
train, held_out = read_images(snakemake.input.train), read_images(snakemake.input.eval)
train_split = (train.flat(), train.labels)
stats = ClassStats.load(snakemake.input.stats)
result = make_probe(
    probe,
    stats,
    train=train_split,
    eval=(held_out.flat(), held_out.labels),
    seed=settings["seed"],
    n_per_class=settings["n_per_class"],
    options=settings["options"],
    device=str(acquire_device(settings["device"], "probes.device")),
)
pixels = result.pixels.reshape(len(result.pixels), *stats.shape)
meta = {**result.meta, "classes": stats.classes, "dataset": snakemake.wildcards.dataset}
table = ImageTable(
    pixels=pixels, labels=result.labels, meta=meta, source_labels=result.source_labels
)
write_images(snakemake.output.probe, table)
fidelity = fidelity_table(probe, result, stats, train=train_split)
fidelity.insert(0, "dataset", snakemake.wildcards.dataset)
fidelity.to_parquet(snakemake.output.fidelity, index=False)
print(f"{probe}: {len(result.labels)} images", file=sys.stderr)
