"""dsb: probes of the distributional simplicity bias."""

__version__ = "0.1.0"
