"""Multi-label (goemotions) and regression (emobank) side by side: ours trained with the dataset's config, against
TF-IDF + one-vs-rest logistic regression with a threshold tuned on validation, or TF-IDF + ridge regression. Each row
gets the problem type's metrics (micro/macro-F1; per-target Pearson, Spearman, MAE) and its training seconds."""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import yaml

from modeling_lstm.errors import UserInputError
from modeling_lstm.labels import MULTI_LABEL, REGRESSION
from modeling_lstm.metrics import load_problem_metric

from .rows_ours import train_ours
from .settings import BenchmarkSettings, Row, split_file

logger = logging.getLogger(__name__)
SHOWN_METRICS = {MULTI_LABEL: ("micro_f1", "macro_f1"), REGRESSION: ("pearson", "spearman", "mae")}


def config_fields(settings: BenchmarkSettings) -> dict:
    return yaml.safe_load(Path(settings.config).read_text(encoding="utf-8")) or {}


def check_vectors(settings: BenchmarkSettings, fields: dict) -> None:
    vectors = fields.get("pretrained_embeddings")
    if vectors and not Path(vectors).is_file():
        raise UserInputError(
            f"{settings.config}: pretrained_embeddings {vectors} not found; run `make vectors`"
        )


def read_targets(path: Path, limit: int | None, label_columns: list[str] | None) -> tuple[list[str], list]:
    """Texts and their targets: the `labels` list of each JSON line, or the `label_columns` values of each CSV row."""
    with path.open(newline="", encoding="utf-8") as file:
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in file if line.strip()]
            pairs = [(row["text"], row["labels"]) for row in rows]
        else:
            pairs = [
                (row["text"], [float(row[name]) for name in label_columns]) for row in csv.DictReader(file)
            ]
    pairs = pairs[:limit] if limit else pairs
    return [text for text, _ in pairs], [target for _, target in pairs]


def tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)  # as the single-label baseline


def multi_label_baseline(splits: dict) -> tuple[Row, np.ndarray, np.ndarray, list[str]]:
    """TF-IDF + one-vs-rest logistic regression; one threshold for every label, the best micro-F1 on validation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    from modeling_lstm.problem_types import tune_thresholds

    names = sorted({name for _, labels in splits.values() for row in labels for name in row})
    binarizer = MultiLabelBinarizer(classes=names)
    row = Row("TF-IDF + one-vs-rest logistic regression")
    classifier = make_pipeline(tfidf(), OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=2000)))
    start = time.perf_counter()
    classifier.fit(splits["train"][0], binarizer.fit_transform(splits["train"][1]))
    validation = classifier.predict_proba(splits["validation"][0])
    threshold = tune_thresholds(validation, binarizer.transform(splits["validation"][1]), "micro_f1", False)
    row.train_seconds = time.perf_counter() - start
    row.notes = f"C=10, threshold {threshold['threshold']:g} (best validation micro-F1), tuning included"
    predicted = (classifier.predict_proba(splits["test"][0]) >= threshold["threshold"]).astype(int)
    return row, predicted, binarizer.transform(splits["test"][1]), names


def regression_baseline(splits: dict) -> tuple[Row, np.ndarray, np.ndarray]:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    row = Row("TF-IDF + ridge regression")
    regressor = make_pipeline(tfidf(), Ridge(alpha=1.0))
    start = time.perf_counter()
    regressor.fit(splits["train"][0], np.asarray(splits["train"][1]))
    row.train_seconds = time.perf_counter() - start
    row.notes = "alpha=1, one model for every target"
    return row, regressor.predict(splits["test"][0]), np.asarray(splits["test"][1])


def baseline_row(settings: BenchmarkSettings, problem_type: str, label_columns: list[str] | None) -> Row:
    folder = settings.data_dir / settings.dataset
    splits = {
        name: read_targets(
            split_file(folder, name),
            settings.max_eval_samples if name != "train" else settings.max_train_samples,
            label_columns,
        )
        for name in ("train", "validation", "test")
    }
    metric = load_problem_metric(problem_type)
    if problem_type == MULTI_LABEL:
        row, predicted, references, names = multi_label_baseline(splits)
        report = metric.compute(
            predictions=predicted.tolist(), references=references.tolist(), label_names=names
        )
    else:
        row, predicted, references = regression_baseline(splits)
        report = metric.compute(
            predictions=predicted.tolist(), references=references.tolist(), target_names=label_columns
        )
    row.extra = {key: value for key, value in report.items() if key != "per_class"}
    return row


def metric_columns(problem_type: str, label_columns: list[str] | None) -> list[str]:
    shown = SHOWN_METRICS[problem_type]
    if problem_type == REGRESSION:
        return [f"{target}_{metric}" for target in label_columns for metric in shown]
    return list(shown)


def format_rows(rows: dict[str, Row], columns: list[str]) -> str:
    header = "| Model | " + " | ".join(columns) + " | Train wall (s) | Notes |"
    lines = [header, "|" + "---|" * (len(columns) + 3)]
    for row in rows.values():
        cells = [f"{row.extra[column]:.3f}" for column in columns]
        lines.append(f"| {row.name} | " + " | ".join(cells) + f" | {row.train_seconds:,.1f} | {row.notes} |")
    return "\n".join(lines)


def run_problem_type_benchmark(settings: BenchmarkSettings, fields: dict, workdir: Path) -> dict:
    """Ours and the baseline for a multi-label or regression dataset: the JSON-able result with its Markdown."""
    problem_type, label_columns = fields["problem_type"], fields.get("label_columns")
    rows = {}
    if "ours" not in settings.skip:
        check_vectors(settings, fields)
        _, results, rows["ours"], argv = train_ours(settings, workdir)
        rows["ours"].extra = {
            key.removeprefix("test_"): value for key, value in results.items() if key.startswith("test_")
        }
        rows[
            "ours"
        ].notes = f"configs/{Path(settings.config).name}, {results.get('epoch', 0):g} epochs; metrics as training reported"
    if "tfidf" not in settings.skip:
        logger.info("TF-IDF baseline")
        rows["tfidf"] = baseline_row(settings, problem_type, label_columns)
    columns = metric_columns(problem_type, label_columns)
    return {
        "dataset": settings.dataset,
        "problem_type": problem_type,
        "quick": settings.quick,
        "rows": {key: asdict(row) for key, row in rows.items()},
        "load_average": list(os.getloadavg()),
        "markdown": format_rows(rows, columns),
    }
