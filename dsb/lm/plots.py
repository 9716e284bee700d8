"""Figures of the language-model branch. Steps go on a log2 axis; step 0 sits one unit left of
step 1 (tick label "0")."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402


def log2_step(step) -> np.ndarray:
    step = np.asarray(step, dtype=np.float64)
    return np.where(step > 0, np.log2(np.maximum(step, 1)), -1.0)


def _step_axis(ax, steps) -> None:
    ticks = sorted(set(log2_step(steps).round().astype(int)))
    ax.set_xticks(ticks, ["0" if t < 0 else f"$2^{{{t}}}$" for t in ticks], fontsize=7)
    ax.set_xlabel("training step")


def _order_title(name: str) -> str:
    return "held-out text" if name == "real" else f"{name.removeprefix('ngram')}-gram sequences"


def plot_ngram_loss(loss: pd.DataFrame, entropy: dict) -> plt.Figure:
    """One panel per sequence set: loss against log2(step), a line per model size (mean over
    seeds and variants), and the n-gram entropy rate as a dashed reference."""
    sets = sorted(loss["sequences"].unique(), key=lambda s: (s == "real", s))
    fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets), 3.4), squeeze=False)
    data = loss.assign(x=log2_step(loss["step"]))
    for ax, name in zip(axes[0], sets, strict=True):
        sns.lineplot(data=data[data["sequences"] == name], x="x", y="loss", hue="size", ax=ax,
                     marker="o", markersize=3, errorbar=None)  # fmt: skip
        order = name.removeprefix("ngram")
        if order in entropy:
            ax.axhline(entropy[order]["nats_per_token"], ls="--", c="k", lw=1, label="entropy")
        ax.set_title(_order_title(name))
        ax.set_ylabel("loss (nats / token)")
        _step_axis(ax, data["step"])
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_kl(kl: pd.DataFrame) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.4), squeeze=False)
    data = kl.assign(x=log2_step(kl["step"]))
    for ax, order in zip(axes[0], (1, 2), strict=True):
        sns.lineplot(data=data[data["order"] == order], x="x", y="kl", hue="size", ax=ax,
                     marker="o", markersize=3, errorbar=None)  # fmt: skip
        ax.set_title(f"KL({order}-gram model || LM), held-out text")
        ax.set_ylabel("KL (nats / token)")
        _step_axis(ax, data["step"])
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_by(loss: pd.DataFrame, column: str, title: str) -> plt.Figure:
    """Seed or warm-up comparison: a line per value of ``column``, a panel per (size, set)."""
    data = loss[loss["sequences"] != "real"]
    data = data.assign(x=log2_step(data["step"]))
    grid = sns.relplot(data=data, x="x", y="loss", hue=column, col="sequences", row="size",
                       kind="line", height=2.8, aspect=1.2,
                       facet_kws={"sharey": False})  # fmt: skip
    for ax in grid.axes.flat:
        _step_axis(ax, data["step"])
        ax.set_ylabel("loss (nats / token)")
    grid.figure.suptitle(title)
    grid.figure.tight_layout()
    return grid.figure


def plot_loss_by_position(position: pd.DataFrame, steps: list[int]) -> plt.Figure:
    chosen = [s for s in steps if s in set(position["step"])] or sorted(position["step"].unique())
    data = position[position["step"].isin(chosen)]
    sets = sorted(data["sequences"].unique(), key=lambda s: (s == "real", s))
    fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets), 3.4), squeeze=False)
    for ax, name in zip(axes[0], sets, strict=True):
        sns.lineplot(data=data[data["sequences"] == name], x="position", y="loss", hue="step",
                     palette="viridis", ax=ax, errorbar=None)  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_title(_order_title(name))
        ax.set_xlabel("position in context")
        ax.set_ylabel("loss (nats / token)")
        ax.legend(title="step", fontsize=7)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, png: str, pdf: str, dpi: int) -> None:
    fig.savefig(png, dpi=dpi)
    fig.savefig(pdf)
    plt.close(fig)
