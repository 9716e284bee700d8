"""Figures: probe curves across training, example images, probe fidelity.

x axes are log2(step); step 0 (the initialisation) sits one unit left of step 1.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from scipy import stats as sps  # noqa: E402

MAXENT_PROBES = ["real", "ics", "conrad", "gaussian", "truncnorm", "third"]
OT_PROBES = ["real", "cqn", "shift", "got"]
PROBE_LABELS = {
    "real": "real (held out)",
    "ics": "independent coordinates",
    "conrad": "max-ent in box (means)",
    "gaussian": "Gaussian",
    "truncnorm": "max-ent in box (2nd order)",
    "third": "3rd-order surrogate",
    "cqn": "quantile edit",
    "shift": "mean-shift edit",
    "got": "Gaussian OT edit",
}
FAMILIES = {
    "convnext_v2": "ConvNeXt-V2",
    "regnet_y": "RegNet-Y",
    "swin_v2": "Swin-V2",
}
METRICS = {"accuracy": "accuracy", "loss": "cross-entropy loss (nats)"}


def family_of(arch: str) -> str:
    for prefix, name in FAMILIES.items():
        if arch.startswith(prefix):
            return name
    return arch


def log2_step(step: pd.Series | np.ndarray) -> np.ndarray:
    step = np.asarray(step, dtype=float)
    return np.where(step > 0, np.log2(np.maximum(step, 1)), -1.0)


def probe_palette(probes: list[str]) -> dict[str, tuple]:
    colours = sns.color_palette("tab10", n_colors=len(PROBE_LABELS))
    return {p: colours[i % 10] for i, p in enumerate(PROBE_LABELS) if p in probes}


def seed_band(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a t-interval over seeds; zero width when there is one seed or all agree."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = sps.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def _format_x(ax, steps: np.ndarray) -> None:
    top = int(np.ceil(log2_step(steps).max())) if len(steps) else 1
    stride = max(1, (top + 1) // 6)
    ticks = [-1] + list(range(0, top + 1, stride))
    ax.set_xticks(ticks)
    ax.set_xticklabels(["0"] + [f"$2^{{{t}}}$" for t in ticks[1:]])


def plot_probe_curves(
    table: pd.DataFrame,
    probes: list[str] | None,
    metrics: list[str],
    num_classes: int,
    style: dict,
    title: str,
    by: str = "family",
):
    """Rows: metrics; columns: model families (or single architectures with ``by='arch'``).

    Thin lines: each architecture (mean over seeds). Bold line and band: the mean over the
    column's architectures, with a 95% t-interval over seeds.
    """
    table = table.copy()
    if probes is not None:
        table = table[table["probe"].isin(probes)]
    if table.empty:
        raise ValueError(f"{title}: the evaluation tables hold none of the probes {probes}")
    table["column"] = table["arch"].map(family_of) if by == "family" else table["arch"]
    columns = list(dict.fromkeys(table["column"]))
    present = list(dict.fromkeys(p for p in PROBE_LABELS if p in set(table["probe"])))
    palette = probe_palette(present)
    sns.set_theme(context=style.get("context", "paper"), style="whitegrid")
    fig, axes = plt.subplots(
        len(metrics),
        len(columns),
        figsize=(
            style.get("width", 4.0) * len(columns) + 2.2,
            style.get("height", 3.0) * len(metrics),
        ),
        squeeze=False,
        sharex=True,
    )
    for j, column in enumerate(columns):
        sub = table[table["column"] == column]
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            for probe in present:
                rows = sub[sub["probe"] == probe]
                per_arch = rows.groupby(["arch", "step"])[metric].mean().reset_index()
                n_archs = per_arch["arch"].nunique()
                if n_archs > 1:
                    for _, arch_rows in per_arch.groupby("arch"):
                        ax.plot(log2_step(arch_rows["step"]), arch_rows[metric],
                                color=palette[probe], lw=0.7, alpha=0.45)  # fmt: skip
                per_seed = rows.groupby(["seed", "step"])[metric].mean().reset_index()
                band = per_seed.groupby("step")[metric].apply(lambda v: seed_band(v.to_numpy()))
                steps = band.index.to_numpy()
                mean, low, high = (np.array([b[k] for b in band]) for k in range(3))
                x = log2_step(steps)
                ax.plot(x, mean, color=palette[probe], lw=2.2, label=PROBE_LABELS[probe])
                ax.fill_between(x, low, high, color=palette[probe], alpha=0.2, lw=0)
            chance = 1.0 / num_classes if metric == "accuracy" else math.log(num_classes)
            ax.axhline(chance, color="0.3", ls="--", lw=1, label="chance")
            ax.set_ylabel(METRICS[metric] if j == 0 else "")
            if i == 0:
                ax.set_title(column)
            if metric == "accuracy":
                ax.set_ylim(-0.02, 1.02)
            _format_x(ax, sub["step"].to_numpy())
            ax.set_xlabel("training step" if i == len(metrics) - 1 else "")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_examples(probe_tables: dict[str, ImageTable], classes: list[str], n_examples: int, style):  # noqa: F821
    """A grid: a block of ``n_examples`` rows per probe, a column per class."""
    names = [p for p in PROBE_LABELS if p in probe_tables]
    k = len(classes)
    rows = len(names) * n_examples
    fig, axes = plt.subplots(rows, k, figsize=(0.9 * k + 1.8, 0.9 * rows + 0.6), squeeze=False)
    for b, name in enumerate(names):
        table = probe_tables[name]
        for c in range(k):
            idx = np.flatnonzero(table.labels == c)[:n_examples]
            for r in range(n_examples):
                ax = axes[b * n_examples + r, c]
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if r < len(idx):
                    img = np.clip(table.pixels[idx[r]].astype(np.float32), 0, 1)
                    img = img / 255.0 if table.pixels.dtype == np.uint8 else img
                    img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
                    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
                if b == 0 and r == 0:
                    ax.set_title(classes[c], fontsize=7)
            axes[b * n_examples, 0].set_ylabel(
                name, rotation=0, ha="right", va="center", fontsize=8
            )
    fig.suptitle("Probe images by class (edits: the target class)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_fidelity(table: pd.DataFrame, style: dict):
    """One panel per fidelity metric, a bar per probe (mean over classes)."""
    ids = {"dataset", "probe", "class", "label", "target", "source", "order", "kind", "n"}
    metrics = [c for c in table.columns if c not in ids and pd.api.types.is_numeric_dtype(table[c])]
    metrics = [m for m in metrics if table[m].notna().any()]
    summary = table.groupby("probe", sort=False)[metrics].mean()
    sns.set_theme(context=style.get("context", "paper"), style="whitegrid")
    ncols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.8 * nrows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        values = summary[metric].dropna()
        ax.barh(values.index, values.to_numpy(), color=sns.color_palette("tab10")[0])
        ax.set_title(metric.replace("_", " "), fontsize=9)
        ax.invert_yaxis()
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle("Probe fidelity: error of the statistics each probe claims to match")
    fig.tight_layout()
    return fig


def save(fig, png: str | Path, pdf: str | Path, dpi: int) -> None:
    fig.savefig(png, dpi=dpi, bbox_inches="tight")
    fig.savefig(pdf, bbox_inches="tight")
    plt.close(fig)
