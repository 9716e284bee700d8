from dsb.threads import limit_threads

limit_threads(snakemake.threads)  # noqa: F821 (before numpy and torch load)

import sys

from dsb.io import read_images
from dsb.stats import class_stats

sys.stderr = open(snakemake.log[0], "w", buffering=1)

train = read_images(snakemake.input.train)
stats = class_stats(train.pixels, train.labels, train.classes, snakemake.params.n_quantiles)
stats.save(snakemake.output.stats)
print(f"{len(train.labels)} images, counts per class {stats.counts.tolist()}", file=sys.stderr)
