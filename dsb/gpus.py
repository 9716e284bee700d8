"""One GPU per job: an exclusive lock file per device, held for as long as the job runs.

Snakemake's local executor counts `gpu` resources but never says which device a job gets, so a
job claims one itself. `flock` locks belong to an open file, so the kernel drops them however the
job ends (exit, exception, kill -9): a claim can never go stale, and two holders of one device
cannot exist, whether they are processes or threads.

Devices are named as the machine knows them (entry i of CUDA_VISIBLE_DEVICES is CUDA ordinal i),
so jobs that see different subsets of a machine's GPUs still lock the physical device. Inside a
SLURM job the scheduler has already chosen the devices, so the locks live in a directory of that
job's own and only the job's own processes compete for them.

    with claim_gpu(torch.cuda.device_count()) as gpu:
        model.to(gpu.device)
"""

import fcntl
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

LOCK_DIR_ENV = "DSB_GPU_LOCK_DIR"


def default_lock_dir(env: Mapping[str, str] = os.environ) -> Path:
    """$DSB_GPU_LOCK_DIR, else a directory in the temporary directory (per SLURM job if any).

    The directory must be on a local file system: flock over NFS is not reliable.
    """
    if env.get(LOCK_DIR_ENV):
        return Path(env[LOCK_DIR_ENV])
    name = "dsb-gpu-locks"
    if env.get("SLURM_JOB_ID"):
        name += f"-slurm{env['SLURM_JOB_ID']}"
    return Path(tempfile.gettempdir()) / name


def device_ids(n_devices: int, cuda_visible_devices: str | None) -> list[str]:
    """The machine's names of CUDA ordinals 0..n_devices-1 (entries of CUDA_VISIBLE_DEVICES)."""
    if n_devices < 0:
        raise ValueError(f"n_devices must be >= 0, got {n_devices}")
    if cuda_visible_devices is None:
        return [str(i) for i in range(n_devices)]
    visible = [d.strip() for d in cuda_visible_devices.split(",") if d.strip()]
    if len(visible) < n_devices:
        raise ValueError(
            f"CUDA_VISIBLE_DEVICES={cuda_visible_devices!r} names {len(visible)} device(s) "
            f"but {n_devices} are visible"
        )
    return visible[:n_devices]


@dataclass
class GpuLease:
    """A device held by this process until `release()` (or the end of a `with` block)."""

    ordinal: int
    device_id: str
    lock_path: Path
    _lock: IO[str] | None = field(default=None, repr=False)

    @property
    def device(self) -> str:
        """The torch device string, e.g. "cuda:1"."""
        return f"cuda:{self.ordinal}"

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> "GpuLease":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _try_lock(path: Path) -> IO[str] | None:
    lock = open(path, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    # The holder's pid, for a person wondering who has the device.
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def claim_gpu(
    n_devices: int,
    *,
    lock_dir: str | Path | None = None,
    env: Mapping[str, str] = os.environ,
    timeout: float = 3600.0,
    poll: float = 0.2,
) -> GpuLease:
    """Hold the first free one of the `n_devices` visible GPUs; wait up to `timeout` seconds.

    Raises ValueError when no GPU is visible and TimeoutError when every device stays busy (more
    concurrent GPU jobs than GPUs: Snakemake's `--resources gpu=N` exceeds the device count).
    """
    if n_devices < 1:
        raise ValueError("claim_gpu: no GPU is visible to this job (n_devices=0)")
    ids = device_ids(n_devices, env.get("CUDA_VISIBLE_DEVICES"))
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir(env)
    lock_dir.mkdir(parents=True, exist_ok=True)
    paths = [lock_dir / f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', d)}.lock" for d in ids]
    deadline = time.monotonic() + timeout
    while True:
        for ordinal, (device_id, path) in enumerate(zip(ids, paths, strict=True)):
            lock = _try_lock(path)
            if lock is not None:
                return GpuLease(ordinal, device_id, path, lock)
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"claim_gpu: all {n_devices} GPU(s) {ids} stayed busy for {timeout:g} s "
                f"(locks in {lock_dir}, each holding its holder's pid); is Snakemake's "
                f"`--resources gpu=` larger than the number of GPUs?"
            )
        time.sleep(poll)


_HELD: list[GpuLease] = []  # a job's claims live as long as its process


def acquire_device(name: str, setting: str = "device"):
    """The torch device of a job: ``cpu``; ``cuda`` (an error without one); or ``auto`` (CUDA when
    there is one, else the CPU). A CUDA device is claimed for the rest of the process, so that
    jobs running side by side on a box with several GPUs never share one. ``setting`` names the
    config key in error messages."""
    import torch

    if name not in ("auto", "cpu", "cuda"):
        raise ValueError(f"{setting}: expected auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{setting} is 'cuda' but no CUDA device is available")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    lease = claim_gpu(torch.cuda.device_count())
    _HELD.append(lease)
    torch.cuda.set_device(lease.ordinal)
    return torch.device(lease.device)
