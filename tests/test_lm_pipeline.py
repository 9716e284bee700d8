"""The real language-model branch on a tiny configuration: outputs, figures and the cache."""

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT
from test_pipeline import make_workdir, planned_rules, snakemake

TINY_LM = ROOT / "tests" / "config" / "tiny_lm.yaml"
STEPS = [0, 1, 2, 4, 8]


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("lm"))
    result = snakemake(workdir, "lm", configfile=TINY_LM)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


def test_every_checkpoint_is_scored_on_every_set(lm_run):
    root = lm_run / "results/lm/tiny"
    loss = pd.read_parquet(root / "loss.parquet")
    assert set(loss["sequences"]) == {"ngram1", "ngram2", "ngram3", "real"}
    assert set(loss["seed"]) == {0, 1} and set(loss["variant"]) == {"standard", "warmup4"}
    for _, group in loss.groupby(["seed", "variant", "sequences"]):
        assert sorted(group["step"]) == STEPS
    assert np.isfinite(loss["loss"]).all() and (loss["loss"] > 0).all()
    # an untrained model is close to uniform over its vocabulary (the tokens that occur)
    vocab = len(np.load(root / "tokens/token_ids.npy"))
    start = loss[loss["step"] == 0]["loss"]
    assert np.allclose(start, np.log(vocab), atol=0.5)
    kl = pd.read_parquet(root / "kl.parquet")
    assert set(kl["order"]) == {1, 2} and (kl["kl"] >= 0).all()
    seqs = np.load(root / "sequences/ngram2.npy")
    assert seqs.shape == (4, 32)
    for name in ["lm_ngram_loss", "lm_kl", "lm_loss_by_position", "lm_seeds", "lm_warmup"]:
        for ext in ["png", "pdf"]:
            assert (lm_run / f"results/figures/{name}.{ext}").stat().st_size > 1000


def test_warm_up_variant_takes_a_smaller_first_step(lm_run):
    """Same seed, same initial weights and batches: at step 1 the warm-up model has moved by
    a quarter of the learning rate, so its loss has moved less from step 0's."""
    loss = pd.read_parquet(lm_run / "results/lm/tiny/loss.parquet")
    real = loss[loss["sequences"] == "real"].set_index(["seed", "variant", "step"])["loss"]
    for seed in (0, 1):
        assert real[seed, "standard", 0] == pytest.approx(real[seed, "warmup4", 0], abs=1e-6)
        moved = {v: abs(real[seed, v, 1] - real[seed, v, 0]) for v in ("standard", "warmup4")}
        assert moved["warmup4"] < moved["standard"]


def test_rerun_does_nothing_and_more_steps_reuse_the_ngram_work(lm_run, tmp_path):
    again = snakemake(lm_run, "lm", "-n", configfile=TINY_LM)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    config = yaml.safe_load(TINY_LM.read_text())
    config["lm"]["models"]["train"]["max_steps"] = 16
    longer = tmp_path / "longer.yaml"
    longer.write_text(yaml.safe_dump(config))
    plan = planned_rules(snakemake(lm_run, "lm", "-n", configfile=longer))
    assert {"lm_train", "lm_evaluate", "lm_collect", "lm_ngram_loss"} <= plan
    assert not plan & {"lm_corpus", "lm_count_shard", "lm_merge_counts", "lm_sequences"}
