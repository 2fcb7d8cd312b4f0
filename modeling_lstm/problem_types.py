"""What depends on the problem type at training and evaluation time: the loss per text, the decisions the
metrics score, the metric names and their direction, and the multi-label thresholds tuned on validation."""

import numpy as np
import torch
from torch.nn import functional as F

from .errors import UserInputError
from .labels import MULTI_LABEL, REGRESSION, SINGLE_LABEL

DEFAULT_METRIC = {SINGLE_LABEL: "accuracy", MULTI_LABEL: "macro_f1", REGRESSION: "pearson"}
METRIC_NAMES = {
    SINGLE_LABEL: ("accuracy", "macro_f1", "macro_precision", "macro_recall", "loss"),
    MULTI_LABEL: (
        "micro_f1",
        "macro_f1",
        "samples_f1",
        "micro_precision",
        "micro_recall",
        "macro_precision",
        "macro_recall",
        "subset_accuracy",
        "hamming_loss",
        "loss",
    ),
    REGRESSION: ("pearson", "spearman", "mae", "rmse", "r2", "loss"),
}
LOWER_IS_BETTER = ("loss", "hamming_loss", "mae", "rmse")
# Multi-label thresholds tried on validation.
THRESHOLD_GRID = np.round(np.arange(0.025, 0.99, 0.025), 3)


def metric_for_best_model(requested: str | None, problem_type: str, label_names: list[str]) -> str:
    """The validation metric that picks the best epoch: the requested one if it exists for this problem type."""
    if requested is None:
        return DEFAULT_METRIC[problem_type]
    known = list(METRIC_NAMES[problem_type])
    if problem_type == REGRESSION and len(label_names) > 1:
        known += [f"{name}_{metric}" for name in label_names for metric in METRIC_NAMES[REGRESSION][:-1]]
    if requested not in known:
        raise UserInputError(
            f"--metric_for_best_model {requested}: not a {problem_type} metric; use one of {', '.join(known)}"
        )
    return requested


def lower_is_better(metric_name: str) -> bool:
    return metric_name.endswith(LOWER_IS_BETTER)


def losses_per_text(logits: torch.Tensor, labels: torch.Tensor, problem_type: str) -> torch.Tensor:
    """The unweighted loss of each text (batch,), as the model's loss without class weights."""
    logits = logits.float()
    if problem_type == SINGLE_LABEL:
        return F.cross_entropy(logits, labels, reduction="none")
    if problem_type == MULTI_LABEL:
        return F.binary_cross_entropy_with_logits(logits, labels.float(), reduction="none").mean(-1)
    return F.mse_loss(logits, labels.float().view(logits.shape), reduction="none").mean(-1)


def label_thresholds(config) -> np.ndarray:
    """Multi-label: the threshold of each label (per-label ones when tuned, else the global one)."""
    return np.asarray(config.thresholds if config.thresholds else [config.threshold] * config.num_labels)


def score_outputs(problem_type: str, scores: np.ndarray, labels: np.ndarray, metric, config) -> dict:
    """The metric module's report for model scores (texts, num_labels; see `inference.scores_from_logits`) and
    references: the argmax class, the labels whose probability reaches their threshold, or the values."""
    label_names = [config.id2label[i] for i in range(config.num_labels)]
    if problem_type == MULTI_LABEL:
        predicted = (scores >= label_thresholds(config)).astype(int)
        return metric.compute(
            predictions=predicted.tolist(), references=labels.astype(int).tolist(), label_names=label_names
        )
    if problem_type == REGRESSION:
        return metric.compute(
            predictions=scores.tolist(), references=labels.tolist(), target_names=label_names
        )
    return metric.compute(
        predictions=scores.argmax(-1).tolist(), references=labels.tolist(), label_names=label_names
    )


def f1_per_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True positives, and predicted plus actual positives, per (threshold, label): F1 = 2 tp / that sum.

    One threshold at a time: a (thresholds, texts, labels) array would take 39 bytes per validation cell, 3.9 GB
    for 100k texts with 1,000 tags, at every epoch."""
    actual = labels > 0.5  # (texts, labels)
    true_positives = np.empty((len(THRESHOLD_GRID), scores.shape[1]), dtype=np.int64)
    predicted_positives = np.empty_like(true_positives)
    for row, threshold in enumerate(THRESHOLD_GRID):
        predicted = scores >= threshold  # (texts, labels)
        true_positives[row] = (predicted & actual).sum(axis=0)
        predicted_positives[row] = predicted.sum(axis=0)
    return true_positives, predicted_positives + actual.sum(axis=0)[None]


def tune_thresholds(probabilities: np.ndarray, labels: np.ndarray, metric_name: str, per_label: bool) -> dict:
    """Config fields: the global threshold maximising the validation metric (micro-F1 unless macro-F1 is chosen),
    and with `per_label` each label's own F1-maximising threshold."""
    true_positives, positives = f1_per_threshold(probabilities, labels)
    if metric_name == "macro_f1":
        objective = (2 * true_positives / np.maximum(positives, 1)).mean(axis=1)
    else:
        objective = 2 * true_positives.sum(axis=1) / np.maximum(positives.sum(axis=1), 1)
    fields = {"threshold": float(THRESHOLD_GRID[objective.argmax()]), "thresholds": None}
    if per_label:
        per_label_f1 = 2 * true_positives / np.maximum(positives, 1)  # (thresholds, labels)
        best = THRESHOLD_GRID[per_label_f1.argmax(axis=0)]
        # A label without positives in validation has F1 0 everywhere: it keeps the global threshold.
        unseen = (labels > 0.5).sum(axis=0) == 0
        fields["thresholds"] = [float(value) for value in np.where(unseen, fields["threshold"], best)]
    return fields
