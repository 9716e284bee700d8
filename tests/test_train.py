import math

import numpy as np
import pandas as pd
import pytest
import torch

from dsb.io import ImageTable, write_images
from dsb.train import (
    BatchOrder,
    checkpoint_steps,
    learning_rate,
    load_checkpoint,
    resolve_settings,
    run_key,
    train,
)

SETTINGS = {
    "steps": 64,
    "checkpoint_density": 1,
    "batch_size": 32,
    "optimizer": {
        "name": "adamw",
        "lr": 3e-3,
        "betas": [0.9, 0.95],
        "weight_decay": 0.05,
        "momentum": 0.9,
    },
    "schedule": {"name": "linear", "warmup": 4},
    "augment": {
        "flip": True,
        "crop": True,
        "randaugment": {"enabled": True, "num_ops": 2, "magnitude": 9},
    },
    "model": {"width": 8, "blocks": 4},
    "device": "cpu",
    "threads": 1,
    "save_state_every_s": 0,
    "mem_mb": 1000,
    "runtime": 5,
}


def tiny_dataset(path, n=256, classes=4, size=16, seed=0):
    """Class k lights up the k-th horizontal band (flips keep it), so a tiny CNN learns it in a
    few dozen steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    pixels = rng.integers(0, 80, (n, 1, size, size))
    h = size // classes
    for k in range(classes):
        pixels[labels == k, :, k * h : (k + 1) * h, :] += 170
    table = ImageTable(pixels.astype(np.uint8), labels, {"classes": list("abcd")[:classes]})
    write_images(path, table)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("data") / "train.parquet")


def test_checkpoint_grid_is_powers_of_two_and_the_last_step():
    assert checkpoint_steps(16) == [0, 1, 2, 4, 8, 16]
    assert checkpoint_steps(10) == [0, 1, 2, 4, 8, 10]
    assert checkpoint_steps(2**16) == [0] + [2**j for j in range(17)]
    # 2^(j/2) rounded: 1, 1.41, 2, 2.83, 4, 5.66, 8, 11.3, 16
    assert checkpoint_steps(16, density=2) == [0, 1, 2, 3, 4, 6, 8, 11, 16]
    with pytest.raises(ValueError, match="density"):
        checkpoint_steps(16, density=0)


def test_learning_rate_warms_up_then_decays_to_zero():
    opt, steps = {"lr": 1.0}, 100
    linear = [learning_rate(s, steps, opt, {"name": "linear", "warmup": 10}) for s in range(steps)]
    assert linear[0] == pytest.approx(0.1) and linear[9] == pytest.approx(1.0)
    assert np.allclose(np.diff(linear[10:]), -1 / 90)  # straight line from 1 towards 0
    assert linear[-1] == pytest.approx(1 / 90)
    cosine = [learning_rate(s, steps, opt, {"name": "cosine", "warmup": 0}) for s in range(steps)]
    assert cosine[0] == 1.0 and cosine[50] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="schedule.name"):
        learning_rate(0, steps, opt, {"name": "step", "warmup": 0})


def test_overrides_per_dataset_then_architecture():
    config = {
        **SETTINGS,
        "archs": ["cnn", "regnet_y_400mf"],
        "seeds": [0],
        "overrides": {
            "datasets": {"svhn": {"optimizer": {"lr": 1e-4}}},
            "archs": {"regnet_y_400mf": {"optimizer": {"name": "sgd"}, "schedule": {"warmup": 0}}},
        },
    }
    svhn_regnet = resolve_settings(config, "svhn", "regnet_y_400mf")
    assert svhn_regnet["optimizer"] == {**SETTINGS["optimizer"], "name": "sgd", "lr": 1e-4}
    assert svhn_regnet["schedule"]["warmup"] == 0
    assert "archs" not in svhn_regnet and "overrides" not in svhn_regnet
    assert resolve_settings(config, "mnist", "cnn") == SETTINGS
    config["overrides"]["datasets"]["svhn"] = {"optimiser": {"lr": 1e-4}}
    with pytest.raises(ValueError, match="overrides.datasets.svhn.optimiser"):
        resolve_settings(config, "svhn", "cnn")


def test_every_image_once_per_epoch_and_batches_known_without_history():
    order = BatchOrder(n=100, batch_size=32, seed=3)
    stream = torch.cat([order(s) for s in range(25)])  # 8 epochs
    for epoch in range(8):
        assert sorted(stream[epoch * 100 : (epoch + 1) * 100].tolist()) == list(range(100))
    assert torch.equal(BatchOrder(100, 32, 3)(17), order(17))
    assert not torch.equal(BatchOrder(100, 32, 4)(17), order(17))


def test_a_changed_setting_never_resumes_old_state():
    key = run_key("cnn", 0, SETTINGS, "digest")
    assert key == run_key("cnn", 0, {**SETTINGS, "threads": 8}, "digest")
    assert key != run_key("cnn", 0, {**SETTINGS, "steps": 25}, "digest")
    assert key != run_key("cnn", 1, SETTINGS, "digest")
    assert key != run_key("cnn", 0, SETTINGS, "other data")


def checkpoint_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("step*.pt"))}


def test_training_learns_logs_and_is_deterministic(data, tmp_path):
    out = train(data, tmp_path / "a", tmp_path / "state", "cnn", 0, SETTINGS, progress=False)
    assert sorted(p.name for p in out.glob("step*.pt")) == sorted(
        f"step{s}.pt" for s in checkpoint_steps(64)
    )
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())
    log = pd.read_parquet(out / "train_log.parquet")
    assert list(log.columns) == ["step", "loss", "lr", "images_per_s"]
    assert log["step"].tolist() == list(range(1, 65))
    assert log["loss"].iloc[-8:].mean() < 0.65 * math.log(4)  # learnt the bands
    assert (log["images_per_s"] > 0).all()

    model = load_checkpoint(out / "step64.pt")
    assert not model.training
    ckpt = torch.load(out / "step64.pt", weights_only=True)
    assert ckpt["step"] == 64 and ckpt["arch"] == "cnn" and ckpt["model"]["channels"] == 1
    assert all(torch.equal(v, ckpt["state_dict"][k]) for k, v in model.state_dict().items())

    again = train(data, tmp_path / "b", tmp_path / "state", "cnn", 0, SETTINGS, progress=False)
    assert checkpoint_bytes(again) == checkpoint_bytes(out)
    other = train(data, tmp_path / "c", tmp_path / "state", "cnn", 1, SETTINGS, progress=False)
    assert checkpoint_bytes(other)["step64.pt"] != checkpoint_bytes(out)["step64.pt"]


def test_divergence_stops_naming_the_step_and_keeps_earlier_checkpoints(data, tmp_path):
    absurd = {**SETTINGS, "optimizer": {**SETTINGS["optimizer"], "lr": 1e30}, "steps": 128}
    absurd["schedule"] = {"name": "linear", "warmup": 0}
    with pytest.raises(FloatingPointError, match=r"loss is (nan|inf) at step \d+") as err:
        train(data, tmp_path / "out", tmp_path / "state", "cnn", 0, absurd, progress=False)
    bad_step = int(str(err.value).split("at step ")[1].split(";")[0])
    saved = sorted(int(p.stem[4:]) for p in (tmp_path / "out").glob("step*.pt"))
    assert saved and saved == [s for s in checkpoint_steps(128) if s < bad_step]
    for step in saved:
        model = load_checkpoint(tmp_path / "out" / f"step{step}.pt")
        assert all(torch.isfinite(p).all() for p in model.parameters())
