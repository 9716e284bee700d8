"""Training throughput of our loop against an upstream-style input pipeline, in the same run.

Both train the small CNN on Fashion-MNIST with AdamW, batch 128, for the same number of steps,
with RandAugment, horizontal flip and random crop (padding H/8). Upstream style: a DataLoader
over PIL images with torchvision's per-image transforms in worker processes. Ours: the whole
split on the device as uint8, augmentation batched as tensor ops (dsb.augment), dsb.train.

    python benchmarks/bench_train_pipeline.py [--steps 200] [--threads 2] [--train PARQUET]
"""

import argparse
import gzip
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

from dsb.io import ImageTable, read_images, write_images
from dsb.models import build_model
from dsb.train import train


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the DataLoader workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


DEBIAN = Path("/usr/share/datasets/fashion-mnist")
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
    "schedule": {"name": "linear", "warmup": 16},
    "augment": {
        "flip": True,
        "crop": True,
        "randaugment": {"enabled": True, "num_ops": 2, "magnitude": 9},
    },
    "model": {"width": 32, "blocks": 4},
    "device": "cpu",
    "save_state_every_s": 600,
    "mem_mb": 4000,
    "runtime": 30,
}


def fashion_mnist(path: Path) -> ImageTable:
    if path.exists():
        return read_images(path)

    def idx(name, offset):
        return np.frombuffer(gzip.open(DEBIAN / name).read(), np.uint8, offset=offset)

    pixels = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    labels = idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return ImageTable(pixels, labels, {"classes": [str(k) for k in range(10)]})


class PilImages(torch.utils.data.Dataset):
    def __init__(self, table: ImageTable):
        self.table = table
        self.transform = transforms.Compose(
            [
                transforms.RandAugment(num_ops=2, magnitude=9),
                transforms.RandomHorizontalFlip(),
                transforms.RandomCrop(28, padding=28 // 8),
                transforms.ToTensor(),
            ]
        )

    def __len__(self):
        return len(self.table.labels)

    def __getitem__(self, i):
        image = Image.fromarray(self.table.pixels[i, 0], mode="L")
        return self.transform(image), self.table.labels[i]


def upstream_style(table: ImageTable, steps: int, threads: int) -> tuple[float, float]:
    torch.manual_seed(0)
    model = build_model("cnn", 1, 10, 28, **SETTINGS["model"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
    loader = torch.utils.data.DataLoader(
        PilImages(table),
        batch_size=128,
        shuffle=True,
        num_workers=threads,
        drop_last=True,
        persistent_workers=True,
    )
    start, cpu, done = time.perf_counter(), cpu_seconds(), 0
    while done < steps:
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    wall = time.perf_counter() - start
    loader._iterator._shutdown_workers()  # reap the workers so their CPU time is counted
    return steps * 128 / wall, steps * 128 / (cpu_seconds() - cpu)


def ours(table: ImageTable, steps: int, threads: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.parquet"
        write_images(data, table)
        settings = {**SETTINGS, "steps": steps, "threads": threads}
        start, cpu = time.perf_counter(), cpu_seconds()  # setup and checkpoints count too
        train(data, Path(tmp) / "out", Path(tmp) / "state", "cnn", 0, settings, progress=False)
        return steps * 128 / (time.perf_counter() - start), steps * 128 / (cpu_seconds() - cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--train", type=Path, default=Path("results/data/fashion_mnist/train.parquet")
    )
    args = parser.parse_args()
    table = fashion_mnist(args.train)
    torch.set_num_threads(args.threads)
    print(
        f"small CNN on Fashion-MNIST, batch 128, {args.steps} steps, {args.threads} threads, "
        "RandAugment + flip + crop"
    )
    theirs = upstream_style(table, args.steps, args.threads)
    mine = ours(table, args.steps, args.threads)
    print(f"{'':34s} {'images/s':>9s} {'images/CPU-s':>13s}")
    print(f"{'upstream style (DataLoader, PIL)':34s} {theirs[0]:9.0f} {theirs[1]:13.0f}")
    print(f"{'ours (batched tensor ops)':34s} {mine[0]:9.0f} {mine[1]:13.0f}")
    wall_ratio, cpu_ratio = mine[0] / theirs[0], mine[1] / theirs[1]
    print(f"{'ratio ours / upstream style':34s} {wall_ratio:8.2f}x {cpu_ratio:12.2f}x")


if __name__ == "__main__":
    main()
