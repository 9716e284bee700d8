"""Summary numbers of the probe curves, with bootstrap confidence intervals over seeds.

For every (architecture, probe): the peak accuracy, the step of the peak, the final accuracy and
the area under the accuracy curve on the log2-step axis (normalised by its length, so it is the
mean accuracy over log-time). Each is computed per seed; the estimate is the mean over seeds and
its interval the percentile bootstrap of that mean, resampling seeds with replacement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dsb.plots import log2_step

METRICS = ["peak_accuracy", "peak_log2_step", "final_accuracy", "auc"]


def curve_numbers(curve: pd.DataFrame) -> dict[str, float]:
    """The summary numbers of one seed's accuracy curve (rows: steps)."""
    curve = curve.sort_values("step")
    x, acc = log2_step(curve["step"].to_numpy()), curve["accuracy"].to_numpy()
    peak = int(np.argmax(acc))
    span = x[-1] - x[0]
    auc = float(np.trapezoid(acc, x) / span) if span > 0 else float(acc[0])
    return {
        "peak_accuracy": float(acc[peak]),
        "peak_log2_step": float(x[peak]),
        "final_accuracy": float(acc[-1]),
        "auc": auc,
    }


def bootstrap_mean(values: np.ndarray, n_boot: int, level: float, rng) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    if len(values) == 1 or np.all(values == values[0]):
        return float(values[0]), float(values[0])
    means = rng.choice(values, size=(n_boot, len(values)), replace=True).mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def summarise(table: pd.DataFrame, n_boot: int = 10_000, level: float = 0.95, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for (dataset, arch, probe), group in table.groupby(["dataset", "arch", "probe"], sort=False):
        per_seed = pd.DataFrame(
            [curve_numbers(curve) | {"seed": s} for s, curve in group.groupby("seed")]
        )
        row = {"dataset": dataset, "arch": arch, "probe": probe, "n_seeds": len(per_seed)}
        for metric in METRICS:
            values = per_seed[metric].to_numpy()
            low, high = bootstrap_mean(values, n_boot, level, rng)
            estimate = values[0] if np.all(values == values[0]) else values.mean()
            row |= {metric: estimate, f"{metric}_low": low, f"{metric}_high": high}
        row["peak_step"] = 2.0 ** row["peak_log2_step"] if row["peak_log2_step"] >= 0 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def readable(summary: pd.DataFrame) -> str:
    """A Markdown table: estimate [low, high] for each number."""

    def cell(row, metric, fmt="{:.3f}"):
        est, low, high = row[metric], row[f"{metric}_low"], row[f"{metric}_high"]
        return f"{fmt.format(est)} [{fmt.format(low)}, {fmt.format(high)}]"

    lines = [
        "| arch | probe | seeds | peak accuracy | log2 step of peak | final accuracy | AUC |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in summary.iterrows():
        lines.append(
            f"| {row['arch']} | {row['probe']} | {row['n_seeds']} | {cell(row, 'peak_accuracy')} | "
            f"{cell(row, 'peak_log2_step', '{:.1f}')} | {cell(row, 'final_accuracy')} | "
            f"{cell(row, 'auc')} |"
        )
    return "\n".join(lines) + "\n"
