"""Evaluate a trained model on a labelled file, whatever its problem type (scripts/evaluate.py's library side)."""

import numpy as np

from .args import DataArguments
from .data import column_values, load_labelled_file, load_labelled_vectors
from .inference import predict_probabilities
from .labels import MULTI_LABEL, REGRESSION, SINGLE_LABEL
from .metrics import load_problem_metric
from .problem_types import label_thresholds, score_outputs


def evaluate_file(
    model, tokenizer, file: str, columns: DataArguments, batch_size: int, chunk_size: int = 4096
) -> dict:
    """The metric module's report on `file` (labels read as at training time) plus num_samples."""
    config = model.config
    problem_type = config.problem_type or SINGLE_LABEL
    label_names = [config.id2label[i] for i in range(config.num_labels)]
    if problem_type == SINGLE_LABEL:
        dataset = load_labelled_file(
            file, label_names, columns.text_column, columns.label_column, columns.drop_empty
        )
    else:
        dataset = load_labelled_vectors(file, problem_type, label_names, columns)
    scores = score_texts(model, tokenizer, dataset, batch_size, chunk_size)
    metric = load_problem_metric(problem_type)
    report = score_outputs(problem_type, scores, np.asarray(column_values(dataset, "label")), metric, config)
    report["num_samples"] = len(dataset)
    if problem_type == MULTI_LABEL:
        report["thresholds"] = dict(zip(label_names, label_thresholds(config).tolist(), strict=True))
    return report


def score_texts(model, tokenizer, dataset, batch_size: int, chunk_size: int) -> np.ndarray:
    """Every text's scores, in order, tokenised `chunk_size` texts at a time: memory holds one chunk's token ids,
    not the file's (the texts stay in the dataset's Arrow file)."""
    parts = [
        predict_probabilities(model, tokenizer, chunk["text"], batch_size).numpy()
        for chunk in dataset.select_columns(["text"]).iter(batch_size=chunk_size)
    ]
    return np.concatenate(parts) if parts else np.empty((0, model.config.num_labels), dtype=np.float32)


def report_lines(report: dict, problem_type: str | None, label_names: list[str]) -> list[str]:
    """The printed summary: headline metrics, then a row per class, label or target."""
    count = f"({report['num_samples']} texts)"
    if problem_type == REGRESSION:
        lines = [
            f"pearson {report['pearson']:.4f}  spearman {report['spearman']:.4f}  mae {report['mae']:.4f}  {count}"
        ]
        lines.append(f"{'target':<20} {'pearson':>9} {'spearman':>9} {'mae':>9} {'rmse':>9} {'r2':>9}")
        for name in label_names:
            values = [report[f"{name}_{metric}"] for metric in ("pearson", "spearman", "mae", "rmse", "r2")]
            lines.append(f"{name:<20} " + " ".join(f"{value:>9.4f}" for value in values))
        return lines
    if problem_type == MULTI_LABEL:
        head = f"micro_f1 {report['micro_f1']:.4f}  macro_f1 {report['macro_f1']:.4f}  "
        head += (
            f"samples_f1 {report['samples_f1']:.4f}  subset_accuracy {report['subset_accuracy']:.4f}  {count}"
        )
    else:
        head = f"accuracy {report['accuracy']:.4f}  macro_f1 {report['macro_f1']:.4f}  {count}"
    lines = [head, f"{'label':<20} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>9}"]
    for name, row in report["per_class"].items():
        lines.append(
            f"{name:<20} {row['precision']:>9.4f} {row['recall']:>9.4f} {row['f1']:>9.4f} {row['support']:>9}"
        )
    return lines
