"""Kill a real training process with SIGKILL, start it again, and get the same checkpoints."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
from test_train import SETTINGS, checkpoint_bytes, tiny_dataset

from dsb.train import train

RUN = """
import json, sys
from dsb.train import train
train(sys.argv[1], sys.argv[2], sys.argv[3], "cnn", 0, json.loads(sys.argv[4]), progress=False)
"""
RESUMABLE = {**SETTINGS, "steps": 200, "save_state_every_s": 0}


def start(data, out, state):
    args = [sys.executable, "-c", RUN, str(data), str(out), str(state), json.dumps(RESUMABLE)]
    return subprocess.Popen(args, stderr=subprocess.PIPE, text=True)


def kill_when(process, path, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"training ended before {path.name}: {process.stderr.read()}"
        assert time.monotonic() < deadline, f"no {path.name} after {timeout} s"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return process.stderr.read()


def test_sigkill_then_restart_gives_bit_identical_checkpoints(tmp_path):
    data = tiny_dataset(tmp_path / "train.parquet")
    reference = train(
        data, tmp_path / "reference", tmp_path / "ref_state", "cnn", 0, RESUMABLE, progress=False
    )

    out, state = tmp_path / "out", tmp_path / "state"
    kill_when(start(data, out, state), out / "step8.pt")
    assert not (out / "train_log.parquet").exists()
    shutil.rmtree(out)  # Snakemake removes the outputs of a failed job
    second = kill_when(start(data, out, state), out / "step128.pt")
    assert "resuming cnn seed 0 from step" in second
    # state is saved every update, right after any checkpoint of that update
    assert int(second.split("from step ")[1].split()[0]) >= 7

    final = start(data, out, state)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr
    assert "resuming" in stderr
    assert checkpoint_bytes(out) == checkpoint_bytes(reference)
    assert len(checkpoint_bytes(out)) == 10  # 0, 1, 2, ..., 128, 200
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "train_log.parquet").drop(columns="images_per_s"),
        pd.read_parquet(reference / "train_log.parquet").drop(columns="images_per_s"),
    )
    assert not any(state.iterdir())  # the resume state goes once the run is complete
