"""The tiny configuration through a real single-node SLURM gives the local run's tables exactly.

scripts/slurm/start.sh installs Debian's slurm-wlm and munge if needed and starts munged,
slurmctld and slurmd with two scheduling-only GPUs, so the profile's GPU requests are scheduled
as on a GPU cluster. The run uses workflow/profiles/slurm unchanged, plus the two settings that a
cluster without job accounting needs. The cluster is stopped at the end, whatever happens.

When it runs: as root on a machine with apt-get (or SLURM already installed). DSB_SLURM_TEST=0
skips it; DSB_SLURM_TEST=1 makes "cannot run here" a failure instead of a skip.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, fashion_available

TINY = ROOT / "tests" / "config" / "tiny.yaml"
SLURM_DIR = Path(os.environ.get("DSB_SLURM_DIR", "/var/lib/dsb-slurm"))
FAKE_GPUS = 2


def why_not_here() -> str | None:
    if os.environ.get("DSB_SLURM_TEST") == "0":
        return "DSB_SLURM_TEST=0"
    if os.geteuid() != 0:
        return "starting SLURM daemons needs root"
    if not (shutil.which("apt-get") or shutil.which("slurmctld")):
        return "neither apt-get nor an installed SLURM"
    if not fashion_available():
        return "needs dataset-fashion-mnist"
    return None


pytestmark = pytest.mark.slow


def copy_workflow(workdir: Path) -> Path:
    workdir.mkdir(parents=True)
    for name in ["Snakefile", "config.yaml"]:
        shutil.copy(ROOT / name, workdir / name)
    for name in ["workflow", "envs"]:
        shutil.copytree(ROOT / name, workdir / name)
    shutil.copytree(ROOT / "resources", workdir / "resources", dirs_exist_ok=True, symlinks=True)
    return workdir


def tiny_config(path: Path) -> dict:
    """The tiny configuration with one probe of each kind (real, max-ent, edit): every stage
    still runs, in about half the jobs (SLURM jobs here cost ~20 s each in start-up alone)."""
    config = yaml.safe_load(TINY.read_text())
    config["probes"]["names"] = ["real", "gaussian", "cqn"]
    path.write_text(yaml.safe_dump(config))
    return config


def eval_targets(config: dict) -> list[str]:
    return [
        f"results/eval/{dataset}/{arch}/seed{seed}.parquet"
        for dataset in config["datasets"]
        for arch in config["train"]["archs"]
        for seed in config["train"]["seeds"]
    ]


def start_snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-6000:]
    return output


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False
    return True


@pytest.fixture(scope="module")
def slurm_cluster():
    reason = why_not_here()
    if reason is not None:
        if os.environ.get("DSB_SLURM_TEST") == "1":
            pytest.fail(f"DSB_SLURM_TEST=1 but the SLURM test cannot run here: {reason}")
        pytest.skip(reason)
    env = {**os.environ, "DSB_SLURM_DIR": str(SLURM_DIR), "DSB_SLURM_GPUS": str(FAKE_GPUS)}
    try:
        subprocess.run([ROOT / "scripts/slurm/start.sh"], env=env, check=True, timeout=600)
        yield SLURM_DIR
    finally:
        subprocess.run([ROOT / "scripts/slurm/stop.sh"], env=env, check=True, timeout=120)
        daemons = ["slurmd.pid", "slurmctld.pid", "munge/munged.pid"]
        assert not [d for d in daemons if alive(SLURM_DIR / d)], "a SLURM daemon outlived stop.sh"


def test_slurm_run_equals_local_run(slurm_cluster, tmp_path, capsys):
    config = tiny_config(tmp_path / "tiny.yaml")
    # Targets first: --configfile takes every argument after it.
    common = [*eval_targets(config), "--configfile", str(tmp_path / "tiny.yaml")]
    # The local reference runs beside the SLURM run: their jobs mostly wait on each other's
    # start-up, and `threads` (hence the arithmetic) are the same in both.
    local = start_snakemake(copy_workflow(tmp_path / "local"), "--cores", "2", *common)
    cluster = copy_workflow(tmp_path / "slurm")
    slurm = start_snakemake(
        cluster,
        "--profile",
        "workflow/profiles/slurm",
        # No slurmdbd here: the plugin asks squeue, which keeps finished jobs for MinJobAge.
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        *common,
    )
    try:
        slurm_output, _ = finish(slurm), finish(local)
    finally:
        for process in (slurm, local):
            process.kill()
            process.wait()
    run_id = re.search(r"SLURM run ID: (\S+)", slurm_output).group(1)
    fields = ["JobID:12", "Comment:80", "State:12", "TimeUsed:10", "NumCPUs:6", "MinMemory:10"]
    queue = run(
        "squeue",
        "--states=all",
        f"--name={run_id}",
        "--sort=i",
        "--Format=" + ",".join(f"{field}|" for field in fields) + ",tres-per-job:20",
    )
    records = (slurm_cluster / "log/jobcomp.txt").read_text().splitlines()
    with capsys.disabled():
        print(f"\nSLURM jobs of run {run_id} (squeue --states=all):\n{queue}")
        print("SLURM job completion records (jobcomp/filetxt):")
        print("\n".join(r for r in records if f"Name={run_id}" in r))

    jobs = [[field.strip() for field in line.split("|")] for line in queue.splitlines()[1:]]
    assert jobs and all(state == "COMPLETED" for _, _, state, *_ in jobs), queue
    rules = {re.match(r"rule_(\w+?)(_wildcards_|$)", comment).group(1) for _, comment, *_ in jobs}
    assert {"prepare_data", "class_stats", "make_probe", "train", "evaluate"} <= rules, rules
    # The profile's `gpu: 1` for training and evaluation reached the scheduler.
    gpu_jobs = {comment.split("_wildcards_")[0] for _, comment, *_, gres in jobs if "gpu" in gres}
    assert gpu_jobs == {"rule_train", "rule_evaluate"}, queue

    for target in eval_targets(config):
        expected = pd.read_parquet(tmp_path / "local" / target)
        actual = pd.read_parquet(cluster / target)
        pd.testing.assert_frame_equal(actual, expected, check_exact=True)
