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


def _mark_minima(ax, data: pd.DataFrame) -> None:
    """An open circle on each size's lowest loss, labelled with its step, when the loss rises
    again after it (the trough of the simplicity-bias curve)."""
    colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
    for size, group in data.groupby("size"):
        curve = group.groupby("step")["loss"].mean()
        step = int(curve.idxmin())
        if step == curve.index.max():
            continue
        x, y = log2_step(step), curve[step]
        ax.plot(x, y, "o", mfc="none", ms=9, c=colours.get(str(size), "k"))
        rise = curve.iloc[-1] - y
        ax.annotate(f"min at step {step}\nthen +{rise:.2f}", (x, y), textcoords="offset points",
                    xytext=(0, 12), ha="center", fontsize=7)  # fmt: skip


def plot_ngram_loss(loss: pd.DataFrame, entropy: dict) -> plt.Figure:
    """One panel per sequence set: loss against log2(step), a line per model size (mean over
    seeds and variants), and the n-gram entropy rate as a dashed reference."""
    sets = sorted(loss["sequences"].unique(), key=lambda s: (s == "real", s))
    fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets), 3.4), squeeze=False)
    data = loss.assign(x=log2_step(loss["step"]))
    for ax, name in zip(axes[0], sets, strict=True):
        sns.lineplot(data=data[data["sequences"] == name], x="x", y="loss", hue="size", ax=ax,
                     marker="o", markersize=3, errorbar=None)  # fmt: skip
        _mark_minima(ax, data[data["sequences"] == name])
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
    grid.tight_layout()  # the FacetGrid version keeps room for its legend
    return grid.figure


def plot_loss_by_position(position: pd.DataFrame, steps: list[int]) -> plt.Figure:
    """Loss against position in the context at chosen steps: positions pooled in log2 bins
    (1, 2-3, 4-7, ...) so that the per-position noise of a few sequences averages out."""
    chosen = [s for s in steps if s in set(position["step"])] or sorted(position["step"].unique())
    data = position[position["step"].isin(chosen)]
    low = 2 ** np.floor(np.log2(data["position"])).astype(int)
    high = np.minimum(2 * low - 1, data["position"].max())
    data = data.assign(x=np.sqrt(low * high)).groupby(["sequences", "step", "x"], as_index=False)
    data = data["loss"].mean()
    sets = sorted(data["sequences"].unique(), key=lambda s: (s == "real", s))
    fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets) + 0.8, 3.4), squeeze=False)
    palette = dict(zip(chosen, sns.color_palette("viridis", len(chosen)), strict=True))
    for ax, name in zip(axes[0], sets, strict=True):
        sns.lineplot(data=data[data["sequences"] == name], x="x", y="loss", hue="step",
                     palette=palette, marker="o", markersize=4, ax=ax, errorbar=None,
                     legend=ax is axes[0][-1])  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_title(_order_title(name))
        ax.set_xlabel("position in context (log2 bins)")
        ax.set_ylabel("loss (nats / token)")
    sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.02, 1), title="step", fontsize=7)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, png: str, pdf: str, dpi: int) -> None:
    fig.savefig(png, dpi=dpi)
    fig.savefig(pdf)
    plt.close(fig)
