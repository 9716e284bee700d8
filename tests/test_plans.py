"""`snakemake -n` plans every job of the paper-scale configurations (they cannot run here)."""

import re

import pytest
from conftest import ROOT
from test_pipeline import snakemake


def job_counts(workdir, configfile) -> dict[str, int]:
    result = snakemake(workdir, "-n", configfile=configfile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = result.stdout.split("Job stats:")[1]
    counts = dict((rule, int(n)) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", stats, re.M))
    counts.pop("total", None)
    return counts


@pytest.fixture
def workdir(tmp_path):
    from test_pipeline import make_workdir

    return make_workdir(tmp_path)


def test_paper_grid_plans_every_job(workdir):
    datasets, archs, probes, figures = 5, 14, 9, 5
    counts = job_counts(workdir, ROOT / "config" / "paper.yaml")
    assert counts == {
        "all": 1,
        "prepare_data": datasets,
        "class_stats": datasets,
        "make_probe": datasets * probes,
        "probe_fidelity": datasets,
        "train": datasets * archs,
        "evaluate": datasets * archs,
        "summarise": datasets,
        "plot_training_curves": datasets * figures,
        "plot_probe_examples": datasets,
        "plot_probe_fidelity": datasets,
    }


def test_pythia_grid_plans_every_job(workdir):
    counts = job_counts(workdir, ROOT / "config" / "pythia.yaml")
    # 9 sizes, the seed variants pythia-{size}-seed{1..9} (14m, 70m, 160m) and seed{1..4}
    # (410m), and the 2 slow-warm-up variants
    assert counts["lm_evaluate"] == 9 + 3 * 9 + 4 + 2
    assert counts["lm_count_shard"] == 8 and counts["lm_merge_counts"] == 1
    assert "lm_train" not in counts
