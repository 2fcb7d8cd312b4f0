"""Training curves, the confusion matrix, per-label F1 and predicted-vs-true plots as PNG files (matplotlib, no
display needed).

The figures are `matplotlib.figure.Figure` objects saved directly, without pyplot: no global backend switch and no
pyplot state, so training inside a notebook leaves the user's backend and open figures as they were.
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def plot_training_curves(
    history: list[dict],
    path: Path,
    metric: str = "accuracy",
    shown: tuple[str, ...] = ("accuracy", "macro_f1"),
) -> Path:
    """Loss (train and validation) and the validation metrics per epoch (`shown` and `metric`)."""
    epochs = [entry["epoch"] for entry in history]
    figure = Figure(figsize=(10, 4))
    loss_axes, metric_axes = figure.subplots(1, 2)
    loss_axes.plot(epochs, [entry["train_loss"] for entry in history], marker="o", label="train")
    loss_axes.plot(epochs, [entry["validation_loss"] for entry in history], marker="o", label="validation")
    loss_axes.set(title="Loss", xlabel="epoch", ylabel="loss")
    loss_axes.legend()
    for name in dict.fromkeys([*shown, metric]):
        key = f"validation_{name}"
        if all(key in entry for entry in history):
            metric_axes.plot(epochs, [entry[key] for entry in history], marker="o", label=name)
    metric_axes.set(title="Validation metrics", xlabel="epoch")
    metric_axes.legend()
    for axes in (loss_axes, metric_axes):
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def plot_confusion_matrix(matrix: list[list[int]], labels: list[str], path: Path, title: str) -> Path:
    """Counts, with each row (true class) shaded by its recall so that small classes stay readable."""
    counts = np.asarray(matrix)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.6 * len(labels) + 2)
    figure = Figure(figsize=(size + 1, size))
    axes = figure.subplots()
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set(
        xticks=range(len(labels)),
        yticks=range(len(labels)),
        xlabel="predicted",
        ylabel="true",
        title=title,
    )
    axes.set_xticklabels(labels, rotation=45, ha="right")
    axes.set_yticklabels(labels)
    for row in range(len(labels)):
        for column in range(len(labels)):
            color = "white" if rates[row, column] > 0.5 else "black"
            axes.text(
                column, row, str(counts[row, column]), ha="center", va="center", color=color, fontsize=8
            )
    figure.colorbar(image, ax=axes, label="share of the true class")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def plot_label_f1(per_label: dict[str, dict], path: Path, title: str) -> Path:
    """Multi-label: one horizontal bar per label, its F1, best at the top, with the label's support."""
    ranked = sorted(per_label.items(), key=lambda item: item[1]["f1"])
    figure = Figure(figsize=(7, max(3.0, 0.28 * len(ranked) + 1)))
    axes = figure.subplots()
    positions = np.arange(len(ranked))
    axes.barh(positions, [row["f1"] for _, row in ranked], color="tab:blue")
    axes.set_yticks(positions, [f"{name} ({row['support']})" for name, row in ranked])
    axes.set(title=title, xlabel="F1 (support in brackets)", xlim=(0, 1))
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def plot_predicted_vs_true(
    predicted: np.ndarray, true: np.ndarray, target_names: list[str], path: Path, split: str
) -> Path:
    """Regression: one scatter plot per target, the diagonal marking perfect predictions."""
    figure = Figure(figsize=(4 * len(target_names), 4))
    all_axes = figure.subplots(1, len(target_names), squeeze=False)
    for index, (name, axes) in enumerate(zip(target_names, all_axes[0], strict=True)):
        axes.scatter(true[:, index], predicted[:, index], s=6, alpha=0.4)
        low = min(true[:, index].min(), predicted[:, index].min())
        high = max(true[:, index].max(), predicted[:, index].max())
        axes.plot([low, high], [low, high], color="grey", linewidth=1)
        axes.set(title=f"{name} ({split})", xlabel="true", ylabel="predicted")
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path
