"""Datasets: fetching, parsing and splitting into the tables of outputs.md."""

from dsb.data.custom import load_custom
from dsb.data.datasets import DEFAULT_MIRRORS, RawDataset, load_builtin
from dsb.data.sources import Checksum, DataSourceError
from dsb.data.splits import split

__all__ = [
    "Checksum",
    "DataSourceError",
    "DEFAULT_MIRRORS",
    "RawDataset",
    "load_builtin",
    "load_custom",
    "split",
]

from dsb.data.prepare import prepare  # noqa: E402

__all__ += ["prepare"]
