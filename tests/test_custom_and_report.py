"""A user's own dataset (scikit-learn's 8x8 digits as an .npz) through the whole pipeline,
then the self-contained HTML report of that run."""

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_digits
from test_pipeline import TINY, make_workdir, snakemake


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("digits"))
    digits = load_digits()
    np.savez(workdir / "digits.npz", images=digits.images.astype(np.int64), labels=digits.target)
    config = yaml.safe_load(TINY.read_text())
    config["datasets"] = ["digits8"]
    config["data"] = {
        "custom": {"digits8": {"path": "digits.npz", "format": "npz", "max_value": 16}},
        "eval_size": 300,
        "test_size": 200,
    }
    config["probes"]["n_per_class"] = 20
    (workdir / "digits.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, configfile=workdir / "digits.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


def test_own_dataset_runs_end_to_end(digits_run):
    table = pd.read_parquet(digits_run / "results/eval/digits8/cnn/seed0.parquet")
    assert set(table["num_classes"]) == {10}
    assert (table[table["probe"] == "real"]["n"] == 300).all()
    summary = pd.read_parquet(digits_run / "results/summary/digits8.parquet")
    assert set(summary["probe"]) == set(table["probe"])
    assert (digits_run / "results/figures/digits8_maxent.png").stat().st_size > 1000


def test_report_is_self_contained_with_figures_captions_and_config(digits_run):
    report = digits_run / "results" / "report.html"
    config = digits_run / "digits.yaml"
    result = snakemake(digits_run, "--report", str(report), configfile=config)
    assert result.returncode == 0, result.stderr[-3000:]
    html = report.read_text()
    assert len(html) > 100_000
    for name in ["digits8_maxent.png", "digits8_ot.png", "digits8_probe_examples.png"]:
        assert name in html
    assert "max-entropy" in html.lower() and "chance" in html.lower()  # captions
    assert "n_per_class" in html  # the configuration used
    assert not re.search(r'<img[^>]+src="(?!data:)[^"]+\.png"', html), "images must be inlined"
