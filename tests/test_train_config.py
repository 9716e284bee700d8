"""The train: block's schema, its default, and the paper grid as a config."""

from copy import deepcopy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from dsb.models import ARCHITECTURES
from dsb.train import resolve_settings

ROOT = Path(__file__).parents[1]
SCHEMA = ROOT / "workflow/schemas/train.schema.yaml"


def load(path):
    return yaml.safe_load((ROOT / path).read_text())


def walk(schema, where="train"):
    yield where, schema
    for key, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{where}.{key}")


def test_every_key_has_type_description_default_and_objects_are_closed():
    for where, node in list(walk(load(SCHEMA)))[1:]:
        assert {"type", "description", "default"} <= node.keys(), where
        if "properties" in node:
            assert node.get("additionalProperties") is False, where


def test_default_block_is_the_schema_default_written_out():
    default = load("workflow/schemas/train.default.yaml")["train"]
    validate(default, str(SCHEMA))
    filled = {}
    validate(filled, str(SCHEMA))
    for arch in ("cnn", "mlp"):
        ours, schemas = (resolve_settings(c, "fashion_mnist", arch) for c in (default, filled))
        assert {k: v for k, v in ours.items() if k != "model"} == {
            k: v for k, v in schemas.items() if k != "model"
        }


@pytest.mark.parametrize(
    "bad, key",
    [
        ({"steps": "many"}, "steps"),
        ({"optimizer": {"nmae": "sgd"}}, "nmae"),
        ({"devise": "cpu"}, "devise"),
    ],
)
def test_a_wrong_key_or_type_is_refused(bad, key):
    with pytest.raises(Exception, match=key):
        validate(deepcopy(bad), str(SCHEMA))


def test_paper_grid():
    paper = load("config/paper.yaml")
    train = paper["train"]
    validate(train, str(SCHEMA))
    assert paper["datasets"] == ["cifar10", "cifarnet", "mnist", "fashion_mnist", "svhn"]
    assert len(train["archs"]) == 14 and set(train["archs"]) <= set(ARCHITECTURES)
    assert train["steps"] == 2**16 and train["batch_size"] == 128
    for dataset in paper["datasets"]:
        for arch in train["archs"]:
            settings = resolve_settings(train, dataset, arch)
            validate(deepcopy(settings), str(SCHEMA))
            opt, schedule = settings["optimizer"], settings["schedule"]
            if arch.startswith("regnet"):
                assert opt["name"] == "sgd" and schedule["warmup"] == 0
            else:
                assert opt["name"] == "adamw" and opt["betas"] == [0.9, 0.95]
                assert opt["lr"] == (1e-4 if dataset == "svhn" else 1e-3)
                assert schedule == {"name": "linear", "warmup": 2000}
