"""Local GPU assignment: concurrent jobs never share a device (fake device counts, no GPU)."""

import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from dsb.gpus import claim_gpu, default_lock_dir, device_ids

# A job that claims one of `n` devices, reports its ordinal and holds the device until its stdin
# closes (or it is killed).
JOB = """
import sys
from dsb.gpus import claim_gpu
with claim_gpu(int(sys.argv[1]), lock_dir=sys.argv[2], timeout=float(sys.argv[3]), poll=0.02) as g:
    print(g.ordinal, g.device_id, flush=True)
    sys.stdin.read()
"""


def start_job(lock_dir, n_devices=2, timeout=30.0, env=None):
    return subprocess.Popen(
        [sys.executable, "-c", JOB, str(n_devices), str(lock_dir), str(timeout)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def claimed(job) -> int:
    line = job.stdout.readline()
    assert line, job.stderr.read()
    return int(line.split()[0])


def finish(job):
    job.stdin.close()
    assert job.wait(timeout=30) == 0, job.stderr.read()


def test_two_concurrent_processes_get_different_devices(tmp_path):
    first, second = start_job(tmp_path), start_job(tmp_path)
    try:
        assert {claimed(first), claimed(second)} == {0, 1}
        # Both devices are held: a third job cannot get one and says why.
        third = start_job(tmp_path, timeout=0.3)
        assert third.wait(timeout=30) != 0
        message = third.stderr.read()
        assert "TimeoutError" in message and str(tmp_path) in message
        # When one job ends, its device is free again, and only that one.
        finish(first)
        fourth = start_job(tmp_path)
        assert claimed(fourth) in {0, 1}
        finish(fourth)
    finally:
        for job in (first, second):
            job.kill()
            job.wait()


def test_a_killed_job_frees_its_device(tmp_path):
    job = start_job(tmp_path, n_devices=1)
    assert claimed(job) == 0
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    with claim_gpu(1, lock_dir=tmp_path, timeout=5) as gpu:
        assert gpu.ordinal == 0 and gpu.device == "cuda:0"


def test_many_threads_never_share_a_device(tmp_path):
    n_devices, n_jobs = 3, 12
    holders: dict[int, int] = {}
    shared = []
    guard = threading.Lock()

    def job(k):
        with claim_gpu(n_devices, lock_dir=tmp_path, timeout=30, poll=0.005) as gpu:
            with guard:
                if gpu.ordinal in holders:
                    shared.append((k, holders[gpu.ordinal], gpu.ordinal))
                holders[gpu.ordinal] = k
            time.sleep(random.uniform(0.005, 0.03))
            with guard:
                del holders[gpu.ordinal]

    threads = [threading.Thread(target=job, args=(k,)) for k in range(n_jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared == []
    assert holders == {}


def test_cuda_visible_devices_name_the_physical_devices(tmp_path):
    env = {"CUDA_VISIBLE_DEVICES": "3,5"}
    a = claim_gpu(2, lock_dir=tmp_path, env=env)
    b = claim_gpu(2, lock_dir=tmp_path, env=env)
    assert (a.ordinal, a.device_id, b.ordinal, b.device_id) == (0, "3", 1, "5")
    assert a.lock_path.name == "gpu-3.lock"
    # A job that sees only device 5 (as its ordinal 0) waits for the same physical lock.
    with pytest.raises(TimeoutError):
        claim_gpu(1, lock_dir=tmp_path, env={"CUDA_VISIBLE_DEVICES": "5"}, timeout=0.1)
    b.release()
    with claim_gpu(1, lock_dir=tmp_path, env={"CUDA_VISIBLE_DEVICES": "5"}) as c:
        assert (c.ordinal, c.device_id) == (0, "5")
    a.release()


def test_device_ids():
    assert device_ids(2, None) == ["0", "1"]
    assert device_ids(2, "GPU-aa, GPU-bb,GPU-cc") == ["GPU-aa", "GPU-bb"]
    with pytest.raises(ValueError, match="CUDA_VISIBLE_DEVICES"):
        device_ids(3, "0,1")


def test_no_visible_gpu_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no GPU"):
        claim_gpu(0, lock_dir=tmp_path)


def test_each_slurm_job_has_its_own_lock_namespace():
    assert default_lock_dir({"SLURM_JOB_ID": "7"}) != default_lock_dir({"SLURM_JOB_ID": "8"})
    assert default_lock_dir({}) != default_lock_dir({"SLURM_JOB_ID": "7"})
    assert (
        str(default_lock_dir({"DSB_GPU_LOCK_DIR": "/x/locks", "SLURM_JOB_ID": "7"})) == "/x/locks"
    )


def test_acquire_device_names_the_setting_and_falls_back_to_cpu():
    import torch

    from dsb.gpus import acquire_device

    assert acquire_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="probes.device: expected auto, cpu or cuda"):
        acquire_device("tpu", "probes.device")
    if not torch.cuda.is_available():
        assert acquire_device("auto") == torch.device("cpu")
        with pytest.raises(RuntimeError, match="lm.eval.device is 'cuda' but no CUDA"):
            acquire_device("cuda", "lm.eval.device")
