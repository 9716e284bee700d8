import numpy as np
import pandas as pd

from dsb.summary import curve_numbers, summarise

STEPS = [0, 1, 2, 4, 8, 16]


def table_of(curves: dict[int, list[float]]) -> pd.DataFrame:
    rows = [
        {"dataset": "d", "arch": "cnn", "probe": "gaussian", "seed": seed, "step": s, "accuracy": a}
        for seed, accs in curves.items()
        for s, a in zip(STEPS, accs)
    ]
    return pd.DataFrame(rows)


def test_curve_numbers_on_a_known_curve():
    curve = pd.DataFrame({"step": STEPS, "accuracy": [0.1, 0.3, 0.7, 0.5, 0.4, 0.2]})
    got = curve_numbers(curve)
    assert got["peak_accuracy"] == 0.7 and got["peak_log2_step"] == 1.0
    assert got["final_accuracy"] == 0.2
    x = np.array([-1, 0, 1, 2, 3, 4.0])
    assert np.isclose(got["auc"], np.trapezoid(curve["accuracy"], x) / 5)


def test_identical_seeds_give_zero_width_intervals():
    accs = [0.1, 0.3, 0.7, 0.5, 0.4, 0.2]
    summary = summarise(table_of({0: accs, 1: accs, 2: accs}))
    for metric in ["peak_accuracy", "peak_log2_step", "final_accuracy", "auc"]:
        assert summary[f"{metric}_low"].iloc[0] == summary[f"{metric}_high"].iloc[0]
        assert summary[f"{metric}_low"].iloc[0] == summary[metric].iloc[0]


def test_disagreeing_seeds_give_intervals_that_cover_them():
    two = summarise(
        table_of({0: [0.1, 0.3, 0.7, 0.5, 0.4, 0.2], 1: [0.1, 0.2, 0.5, 0.6, 0.5, 0.4]})
    )
    row = two.iloc[0]
    # With two seeds, resamples (a, a) and (b, b) each come up a quarter of the time, so the
    # 95% percentile interval of the mean reaches both seeds' values.
    assert row["final_accuracy_low"] <= 0.2 and row["final_accuracy_high"] >= 0.4
    assert row["peak_accuracy_low"] <= 0.6 and row["peak_accuracy_high"] >= 0.7
    rng = np.random.default_rng(0)
    curves = {s: list(rng.uniform(0, 1, 6)) for s in range(5)}
    row = summarise(table_of(curves)).iloc[0]
    finals = [c[-1] for c in curves.values()]
    assert row["final_accuracy_low"] < np.mean(finals) < row["final_accuracy_high"]
    assert min(finals) <= row["final_accuracy_low"] and row["final_accuracy_high"] <= max(finals)
