"""Training throughput of ConvNeXt-V2-atto in bf16 on a CUDA device, 32x32x3 images.

Runs our training loop (dsb.train: device-resident uint8 data, batched RandAugment, flip and
crop, bf16 autocast, channels-last) for a few hundred steps, and as a baseline in the same run
the bare forward/backward/update on one fixed device batch (no data, no augmentation), so the
ratio shows what the input pipeline costs. Without CUDA it says so and exits.

    python benchmarks/bench_gpu_convnext.py [--steps 300]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from dsb.io import ImageTable, write_images
from dsb.models import build_model
from dsb.train import make_optimizer, train

SETTINGS = {
    "checkpoint_density": 1,
    "batch_size": 128,
    "optimizer": {
        "name": "adamw",
        "lr": 1e-3,
        "betas": [0.9, 0.95],
        "weight_decay": 0.05,
        "momentum": 0.9,
    },
    "schedule": {"name": "linear", "warmup": 50},
    "augment": {
        "flip": True,
        "crop": True,
        "randaugment": {"enabled": True, "num_ops": 2, "magnitude": 9},
    },
    "model": {},
    "device": "cuda",
    "threads": 4,
    "save_state_every_s": 600,
    "mem_mb": 8000,
    "runtime": 30,
}


def bare_loop(steps: int) -> float:
    model = build_model("convnext_v2_atto", 3, 10, 32).cuda().to(memory_format=torch.channels_last)
    opt = make_optimizer(model.parameters(), SETTINGS["optimizer"])
    x = torch.rand(128, 3, 32, 32, device="cuda").contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (128,), device="cuda")
    for step in range(steps + 20):
        if step == 20:  # after warm-up of kernels
            torch.cuda.synchronize()
            start = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    return steps * 128 / (time.perf_counter() - start)


def our_loop(steps: int) -> float:
    rng = np.random.default_rng(0)
    table = ImageTable(
        rng.integers(0, 256, (50_000, 3, 32, 32), dtype=np.uint8),
        rng.integers(0, 10, 50_000),
        {"classes": [str(k) for k in range(10)]},
    )
    with tempfile.TemporaryDirectory() as tmp:
        write_images(Path(tmp) / "train.parquet", table)
        out = train(
            Path(tmp) / "train.parquet",
            Path(tmp) / "out",
            Path(tmp) / "state",
            "convnext_v2_atto",
            0,
            {**SETTINGS, "steps": steps},
            progress=False,
        )
        log = pd.read_parquet(out / "train_log.parquet")
    # steady state: the logging intervals after the first 64 steps (kernel warm-up)
    return float(log.loc[log["step"] > 64, "images_per_s"].median())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_gpu_convnext: no CUDA device here; skipped (run it on a GPU machine)")
        return
    print(
        f"ConvNeXt-V2-atto, bf16, batch 128, 32x32x3, {args.steps} steps on "
        f"{torch.cuda.get_device_name()}"
    )
    bare = bare_loop(args.steps)
    print(f"bare step on one fixed batch:          {bare:9.0f} images/s")
    ours = our_loop(args.steps)
    print(f"our loop (data + batched augmentation): {ours:9.0f} images/s")
    print(f"ratio ours / bare: {ours / bare:.2f}")


if __name__ == "__main__":
    main()
