"""The real pipeline on a tiny configuration: outputs, the cache, and bad configs."""

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

pytestmark = pytest.mark.skipif(not fashion_available(), reason="needs dataset-fashion-mnist")

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TINY = ROOT / "tests" / "config" / "tiny.yaml"


def make_workdir(path: Path) -> Path:
    for name in ["Snakefile", "config.yaml"]:
        shutil.copy(ROOT / name, path / name)
    shutil.copytree(ROOT / "workflow", path / "workflow")
    shutil.copytree(ROOT / "envs", path / "envs")
    shutil.copytree(ROOT / "resources", path / "resources", dirs_exist_ok=True, symlinks=True)
    return path


def snakemake(workdir: Path, *args: str, configfile: Path = TINY) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        # targets first: --configfile takes every word after it
        [*SNAKEMAKE, "--cores", "2", *args, "--configfile", str(configfile)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def planned_rules(result: subprocess.CompletedProcess) -> set[str]:
    return set(re.findall(r"^(?:local)?rule (\w+):", result.stdout + result.stderr, re.M)) - {"all"}


def changed_config(tmp_path: Path, name: str, **changes) -> Path:
    config = yaml.safe_load(TINY.read_text())
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        config.setdefault(section, {})[key] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("pipeline"))
    result = snakemake(workdir)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


def test_outputs_follow_the_contract(tiny_run):
    config = yaml.safe_load(TINY.read_text())
    table = pd.read_parquet(tiny_run / "results/eval/fashion_mnist/cnn/seed0.parquet")
    expected = {
        "dataset",
        "arch",
        "seed",
        "step",
        "probe",
        "order",
        "kind",
        "n",
        "loss",
        "accuracy",
    }
    assert expected <= set(table.columns)
    assert sorted(table["step"].unique()) == [0, 1, 2, 4, 8, 16]
    assert set(table["probe"]) == set(config["probes"]["names"])
    assert table.groupby("step").size().eq(len(config["probes"]["names"])).all()
    assert table["accuracy"].between(0, 1).all() and (table["loss"] > 0).all()
    real = table[table["probe"] == "real"]
    assert (real["n"] == config["data"]["eval_size"]).all()
    for kind in ["curves", "maxent", "ot", "probe_examples", "probe_fidelity"]:
        for ext in ["png", "pdf"]:
            assert (tiny_run / f"results/figures/fashion_mnist_{kind}.{ext}").stat().st_size > 1000


def test_second_run_has_nothing_to_do(tiny_run):
    result = snakemake(tiny_run, "-n")
    assert result.returncode == 0
    assert planned_rules(result) == set(), result.stdout


def test_plot_setting_reruns_only_plots(tiny_run, tmp_path):
    config = changed_config(tmp_path, "plots.yaml", plots__dpi=72)
    eval_file = tiny_run / "results/eval/fashion_mnist/cnn/seed0.parquet"
    before = eval_file.stat().st_mtime_ns
    plan = planned_rules(snakemake(tiny_run, "-n", configfile=config))
    assert plan and all(rule.startswith("plot_") for rule in plan), plan
    result = snakemake(tiny_run, configfile=config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert eval_file.stat().st_mtime_ns == before


def test_more_steps_rerun_training_not_data_or_probes(tiny_run, tmp_path):
    config = changed_config(tmp_path, "steps.yaml", train__steps=32)
    probe_file = tiny_run / "results/probes/fashion_mnist/gaussian.parquet"
    data_file = tiny_run / "results/data/fashion_mnist/train.parquet"
    before = probe_file.stat().st_mtime_ns, data_file.stat().st_mtime_ns
    plan = planned_rules(snakemake(tiny_run, "-n", configfile=config))
    assert {"train", "evaluate", "plot_training_curves"} <= plan
    assert not plan & {"prepare_data", "class_stats", "make_probe", "probe_fidelity"}, plan
    result = snakemake(tiny_run, configfile=config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (probe_file.stat().st_mtime_ns, data_file.stat().st_mtime_ns) == before
    table = pd.read_parquet(tiny_run / "results/eval/fashion_mnist/cnn/seed0.parquet")
    assert table["step"].max() == 32


@pytest.mark.parametrize(
    "change, message",
    [
        ({"probes": {"nmaes": ["real"]}}, "nmaes"),
        ({"probes": {"n_per_class": "many"}}, "n_per_class"),
        ({"probes": {"names": ["real", "quartic"]}}, "quartic"),
        ({"datasets": ["imagenet"]}, "imagenet"),
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, change, message):
    workdir = make_workdir(tmp_path)
    config = yaml.safe_load(TINY.read_text())
    config.update(change)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, configfile=tmp_path / "bad.yaml")
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (workdir / "results").exists()
