"""The training stage: one (dataset, architecture, seed) run, resumable, log-spaced checkpoints.

Determinism without saved random state: every random draw of update ``s`` (batch order,
augmentation, stochastic depth) comes from generators seeded by (seed, s), so a run resumed from
the model and optimizer state after update ``s`` continues exactly as if never interrupted.

Checkpoints and the resume state are written to a state folder outside the declared outputs
(Snakemake deletes the outputs of a failed job) and hard-linked into the output folder.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from dsb.augment import augment_batch
from dsb.gpus import acquire_device
from dsb.io import read_images

RUN_KEYS = ("archs", "seeds", "overrides")


def merge(base: dict, update: dict, where: str) -> dict:
    """``base`` with ``update`` laid over it, recursively; keys unknown to ``base`` are errors,
    except inside free-form ``model`` options."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        path = f"{where}.{key}"
        if key not in base and not where.endswith(".model"):
            raise ValueError(f"{path}: unknown train setting (known: {sorted(base)})")
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merge(base[key], value, path)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_settings(train_config: dict, dataset: str, arch: str) -> dict:
    """The settings of one run: the ``train`` config block, then its per-dataset overrides, then
    its per-architecture overrides (the more specific wins)."""
    base = {k: v for k, v in train_config.items() if k not in RUN_KEYS}
    overrides = train_config.get("overrides", {})
    settings = merge(
        base, overrides.get("datasets", {}).get(dataset, {}), f"overrides.datasets.{dataset}"
    )
    return merge(settings, overrides.get("archs", {}).get(arch, {}), f"overrides.archs.{arch}")


def checkpoint_steps(steps: int, density: int = 1) -> list[int]:
    """Step 0, then the rounded log grid 2^(j/density) up to ``steps``, and ``steps`` itself."""
    if steps < 0 or density < 1:
        raise ValueError(
            f"checkpoint_steps needs steps >= 0 and density >= 1, got {steps}, {density}"
        )
    grid = {0, steps}
    j = 0
    while (s := round(2 ** (j / density))) <= steps:
        grid.add(s)
        j += 1
    return sorted(grid)


def learning_rate(step: int, steps: int, optimizer: dict, schedule: dict) -> float:
    """The learning rate of update ``step`` (0-based): linear warm-up from lr/warmup, then linear
    decay towards 0 (the paper) or cosine decay (upstream's code)."""
    lr, warmup = optimizer["lr"], min(schedule["warmup"], steps)
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(steps - warmup, 1)
    if schedule["name"] == "linear":
        return lr * (1 - progress)
    if schedule["name"] == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * progress))
    raise ValueError(f"schedule.name: unknown schedule {schedule['name']!r} (linear or cosine)")


def make_optimizer(params, optimizer: dict) -> torch.optim.Optimizer:
    # The multi-tensor (foreach) update: torch picks the per-tensor loop on the CPU, whose
    # element-wise sqrt goes through MKL's threader and made the whole small-CNN step 1.7x slower.
    name = optimizer["name"]
    if name == "adamw":
        return torch.optim.AdamW(
            params,
            lr=optimizer["lr"],
            betas=tuple(optimizer["betas"]),
            weight_decay=optimizer["weight_decay"],
            foreach=True,
        )
    if name == "sgd":
        return torch.optim.SGD(
            params,
            lr=optimizer["lr"],
            momentum=optimizer["momentum"],
            weight_decay=optimizer["weight_decay"],
            foreach=True,
        )
    raise ValueError(f"optimizer.name: unknown optimizer {name!r} (adamw or sgd)")


def stream_seed(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1, np.uint64)[0] >> 1)


class BatchOrder:
    """Batches of update ``s``: positions s*B ... s*B+B-1 of a stream of per-epoch permutations,
    each permutation seeded by (seed, epoch), so any update's batch is known without history."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.perms: dict[int, torch.Tensor] = {}

    def permutation(self, epoch: int) -> torch.Tensor:
        if epoch not in self.perms:
            gen = torch.Generator().manual_seed(stream_seed(self.seed, epoch, 0))
            self.perms = {e: p for e, p in self.perms.items() if e >= epoch - 1}
            self.perms[epoch] = torch.randperm(self.n, generator=gen)
        return self.perms[epoch]

    def __call__(self, step: int) -> torch.Tensor:
        position = step * self.batch_size + torch.arange(self.batch_size)
        epoch, offset = position // self.n, position % self.n
        return torch.cat([self.permutation(int(e))[offset[epoch == e]] for e in epoch.unique()])


def run_key(arch: str, seed: int, settings: dict, data_digest: str) -> str:
    """Hash of everything that determines the run; a changed setting never resumes stale state.
    Settings that do not change the result (device threads, save interval) are left out."""
    fixed = {k: v for k, v in settings.items() if k not in ("threads", "save_state_every_s")}
    blob = json.dumps([arch, seed, fixed, data_digest], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_digest(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_save(obj, path: Path) -> None:
    """torch.save through memory (so the bytes do not depend on the file name), then rename."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def link_into(src: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{src.name}.link{os.getpid()}"
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:  # another file system: copy instead
        shutil.copyfile(src, tmp)
    os.replace(tmp, out_dir / src.name)


def cpu_state(module: torch.nn.Module) -> dict:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def load_checkpoint(path: str | os.PathLike, device: str = "cpu") -> torch.nn.Module:
    """The network of a checkpoint file, rebuilt from its recorded architecture, in eval mode."""
    from dsb.models import build_model  # timm and torchvision load slowly; only needed here

    ckpt = torch.load(path, map_location=device, weights_only=True)
    model = build_model(ckpt["arch"], **ckpt["model"])
    model.load_state_dict(ckpt["state_dict"])
    return model.to(device).eval()


def check_finite(losses: list[torch.Tensor], first_step: int, arch: str) -> list[float]:
    values = torch.stack(losses).float().cpu().tolist()
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise FloatingPointError(
                f"{arch}: training loss is {v} at step {first_step + i}; stopped. Checkpoints "
                "up to the previous one are kept. Lower the learning rate or check the data."
            )
    return values


def train(
    train_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    state_root: str | os.PathLike,
    arch: str,
    seed: int,
    settings: dict,
    progress: bool = True,
) -> Path:
    """Train ``arch`` on the images of ``train_path``; write ``step{s}.pt`` for every checkpoint
    step and ``train_log.parquet`` into ``out_dir``. Resume state lives in a folder under
    ``state_root`` named by the hash of the run; it is removed when the run completes."""
    from dsb.models import build_model

    out_dir = Path(out_dir)
    table = read_images(train_path)
    classes = len(table.classes) or int(table.labels.max()) + 1
    channels, height, width = table.shape
    if height != width:
        raise ValueError(f"{train_path}: images are {height}x{width}; square images expected")
    state_dir = Path(state_root) / run_key(arch, seed, settings, file_digest(train_path))
    state_dir.mkdir(parents=True, exist_ok=True)

    device = acquire_device(settings["device"], "train.device")  # a GPU of its own, or cpu
    torch.set_num_threads(settings["threads"])
    # Late in training AdamW's second moments of tiny gradients underflow into subnormal
    # floats, which x86 CPUs process ~100x slower: flush them to zero (training slowed 10x).
    torch.set_flush_denormal(True)
    cuda = device.type == "cuda"
    steps, batch_size = settings["steps"], settings["batch_size"]
    torch.manual_seed(stream_seed(seed, 0, 1))
    model_options = {"channels": channels, "classes": classes, "size": height, **settings["model"]}
    # channels-last suits both cuDNN and oneDNN (the CPU step is ~1.7x faster for the cnn)
    model = build_model(arch, **model_options).to(device, memory_format=torch.channels_last)
    optimizer = make_optimizer(model.parameters(), settings["optimizer"])

    state_file = state_dir / "state.pt"
    log_rows: list[dict] = []
    start = 0
    if state_file.exists():
        state = torch.load(state_file, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, log_rows = state["step"], state["log"]
        print(f"resuming {arch} seed {seed} from step {start} ({state_dir})", file=sys.stderr)

    def save_checkpoint(step: int) -> None:
        path = state_dir / f"step{step}.pt"
        record = {"arch": arch, "model": model_options, "step": step, "seed": seed}
        atomic_save({**record, "state_dict": cpu_state(model)}, path)
        link_into(path, out_dir)

    def save_state(step: int) -> None:
        state = {"step": step, "model": cpu_state(model), "log": log_rows}
        atomic_save({**state, "optimizer": optimizer.state_dict()}, state_file)

    saves = checkpoint_steps(steps, settings["checkpoint_density"])
    for step in saves:  # outputs of a deleted output folder come back from the state folder
        if step <= start and (state_dir / f"step{step}.pt").exists():
            link_into(state_dir / f"step{step}.pt", out_dir)
    if start == 0:
        save_checkpoint(0)
        save_state(0)

    pixels = torch.from_numpy(table.pixels).to(device)
    labels = torch.from_numpy(table.labels).to(device)
    order = BatchOrder(len(pixels), batch_size, seed)
    gen = torch.Generator(device=device)
    saves, pending = set(saves), []
    last_save, tick, tick_step = time.monotonic(), time.perf_counter(), start
    model.train()
    bar = tqdm(
        range(start, steps),
        initial=start,
        total=steps,
        desc=f"{arch} seed {seed}",
        disable=not progress,
        file=sys.stderr,
        mininterval=0.1 if sys.stderr.isatty() else 15,  # a log file gets a line per 15 s
    )
    for step in bar:
        lr = learning_rate(step, steps, settings["optimizer"], settings["schedule"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        torch.manual_seed(stream_seed(seed, step, 2))  # stochastic depth
        gen.manual_seed(stream_seed(seed, step, 3))
        idx = order(step).to(device)
        x = augment_batch(pixels[idx].float() / 255, settings["augment"], gen)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = F.cross_entropy(model(x), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        pending.append((loss.detach(), lr))
        done = step + 1
        due = time.monotonic() - last_save >= settings["save_state_every_s"]
        if done in saves or due or done % 32 == 0 or done == steps:
            values = check_finite([p[0] for p in pending], done - len(pending) + 1, arch)
            now = time.perf_counter()
            rate = (done - tick_step) * batch_size / (now - tick)
            tick, tick_step = now, done
            first = done - len(pending) + 1
            log_rows += [
                {"step": first + i, "loss": v, "lr": p[1], "images_per_s": rate}
                for i, (v, p) in enumerate(zip(values, pending, strict=True))
            ]
            pending = []
            bar.set_postfix(loss=f"{values[-1]:.3f}", lr=f"{lr:.2e}", img_s=f"{rate:.0f}")
            if done in saves:
                save_checkpoint(done)
            if done in saves or due:
                save_state(done)
                last_save = time.monotonic()
    bar.close()

    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "train_log.parquet"
    tmp = out_dir / f".train_log.parquet.tmp{os.getpid()}"
    pd.DataFrame(log_rows, columns=["step", "loss", "lr", "images_per_s"]).to_parquet(tmp)
    os.replace(tmp, log_path)
    shutil.rmtree(state_dir)
    return out_dir
