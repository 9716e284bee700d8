from dsb.threads import limit_threads

limit_threads(snakemake.threads)  # before numpy and torch load

import sys

import numpy as np
import pandas as pd
import torch

from dsb.gpus import acquire_device
from dsb.lm.train import TrainConfig, resolve_precision, train_lm

sys.stderr = open(snakemake.log[0], "w", buffering=1)

torch.set_num_threads(snakemake.threads)
torch.set_flush_denormal(True)  # subnormal floats are ~100x slower on x86 CPUs
recipe = {k: v for k, v in snakemake.params.recipe.items() if k in TrainConfig.__annotations__}
recipe["device"] = str(acquire_device(recipe.get("device", "cpu"), "lm.models.train.device"))
device_type = torch.device(recipe["device"]).type
recipe["precision"] = resolve_precision(recipe.get("precision", "auto"), device_type)
cfg = TrainConfig(**snakemake.params.shape, **recipe, seed=int(snakemake.params.seed))
tokens = np.concatenate([np.load(path) for path in snakemake.input.train])
token_ids = np.load(snakemake.input.vocab)
log = train_lm(tokens, token_ids, cfg, snakemake.output.model)
pd.DataFrame(log).to_parquet(snakemake.output.log)
print(f"{cfg}: {log[-1]['seconds'] / len(log):.3f} s/step", file=sys.stderr)
