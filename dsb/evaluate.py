"""Every checkpoint of a run on every probe set: cross-entropy and accuracy.

All probe sets of a dataset are stacked into one tensor once, and each checkpoint makes one pass
of batched forward calls over it in evaluation mode without gradients; the per-image losses
and predictions are then cut back into probe sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from dsb.gpus import acquire_device
from dsb.io import read_images

STEP_FILE = re.compile(r"^step(\d+)\.pt$")


@dataclass
class ProbeBank:
    """Probe sets stacked into one tensor; ``bounds[i]:bounds[i+1]`` is probe ``names[i]``."""

    names: list[str]
    num_classes: int
    orders: list[int]
    kinds: list[str]
    bounds: np.ndarray
    pixels: torch.Tensor
    labels: torch.Tensor
    source_labels: torch.Tensor


def load_probe_bank(paths: list[str | Path]) -> ProbeBank:
    names, orders, kinds, sizes, pixels, labels, sources = [], [], [], [], [], [], []
    shapes, class_lists = set(), set()
    for path in paths:
        table = read_images(path)
        shapes.add(table.shape)
        class_lists.add(tuple(table.classes))
        names.append(table.meta.get("probe", Path(path).stem))
        orders.append(int(table.meta.get("order", 0)))
        kinds.append(table.meta.get("kind", "real"))
        x = table.pixels
        pixels.append(x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x)
        labels.append(table.labels)
        src = table.source_labels if table.source_labels is not None else np.full(len(x), -1)
        sources.append(src)
        sizes.append(len(x))
    if len(shapes) > 1:
        raise ValueError(f"probe sets have different image shapes {sorted(shapes)}: {paths}")
    if len(class_lists) != 1 or not next(iter(class_lists)):
        raise ValueError(f"probe sets must name the same classes in their metadata: {paths}")
    return ProbeBank(
        names=names,
        num_classes=len(next(iter(class_lists))),
        orders=orders,
        kinds=kinds,
        bounds=np.concatenate([[0], np.cumsum(sizes)]),
        pixels=torch.from_numpy(np.concatenate(pixels)),
        labels=torch.from_numpy(np.concatenate(labels)),
        source_labels=torch.from_numpy(np.concatenate(sources)),
    )


def checkpoint_files(model_dir: str | Path) -> list[tuple[int, Path]]:
    found = []
    for path in Path(model_dir).iterdir():
        match = STEP_FILE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    if not found:
        raise FileNotFoundError(f"{model_dir}: no checkpoint files step<N>.pt")
    return sorted(found)


@torch.inference_mode()
def per_image_scores(model, bank: ProbeBank, batch_size: int, device: torch.device):
    """Cross-entropy against ``labels`` and the predicted class, for every image of the bank."""
    model.eval()
    # channels-last convolutions are markedly faster on CPUs as well as GPUs
    model = model.to(memory_format=torch.channels_last)
    losses, preds = [], []
    for start in range(0, len(bank.labels), batch_size):
        x = bank.pixels[start : start + batch_size].to(device, non_blocking=True)
        x = x.contiguous(memory_format=torch.channels_last)
        y = bank.labels[start : start + batch_size].to(device)
        logits = model(x).float()
        losses.append(F.cross_entropy(logits, y, reduction="none").cpu())
        preds.append(logits.argmax(dim=1).cpu())
    return torch.cat(losses).double().numpy(), torch.cat(preds).numpy()


def summarise(bank: ProbeBank, losses: np.ndarray, preds: np.ndarray) -> list[dict]:
    rows = []
    labels, sources = bank.labels.numpy(), bank.source_labels.numpy()
    for i, name in enumerate(bank.names):
        sl = slice(bank.bounds[i], bank.bounds[i + 1])
        is_edit = bank.kinds[i] == "edit"
        rows.append(
            {
                "probe": name,
                "num_classes": bank.num_classes,
                "order": bank.orders[i],
                "kind": bank.kinds[i],
                "n": sl.stop - sl.start,
                "loss": float(losses[sl].mean()),
                "accuracy": float((preds[sl] == labels[sl]).mean()),
                "source_accuracy": float((preds[sl] == sources[sl]).mean()) if is_edit else np.nan,
            }
        )
    return rows


def evaluate_run(
    model_dir: str | Path,
    probe_paths: list[str | Path],
    *,
    dataset: str,
    arch: str,
    seed: int,
    batch_size: int = 2048,
    device: str = "auto",
) -> pd.DataFrame:
    from dsb.train import load_checkpoint

    dev = acquire_device(device, "evaluate.device")  # a GPU of its own, or cpu
    torch.set_flush_denormal(True)  # subnormal activations are ~100x slower on x86 CPUs
    bank = load_probe_bank(probe_paths)
    rows = []
    for step, path in tqdm(checkpoint_files(model_dir), desc=f"evaluate {arch} seed {seed}"):
        model = load_checkpoint(path, device=dev)
        losses, preds = per_image_scores(model, bank, batch_size, dev)
        for row in summarise(bank, losses, preds):
            rows.append({"dataset": dataset, "arch": arch, "seed": seed, "step": step, **row})
    table = pd.DataFrame(rows)
    return table.astype(
        {"step": "int64", "n": "int64", "order": "int64", "seed": "int64", "num_classes": "int64"}
    )
