"""Multi-label (goemotions) and regression (emobank) side by side: ours trained with the dataset's config, against
TF-IDF + one-vs-rest logistic regression and fastText's one-vs-all mode (where fasttext is installed), each with a
threshold tuned on validation, or TF-IDF + ridge regression. Each row
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

from .rows_baselines import fasttext_label, fasttext_notes, fasttext_text, import_fasttext, train_fasttext
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


def label_names(splits: dict) -> list[str]:
    return sorted({name for _, labels in splits.values() for row in labels for name in row})


def predict_with_tuned_threshold(
    row: Row, predict_proba, splits: dict, binarizer, started: float
) -> np.ndarray:
    """Test predictions above one threshold for every label, the best micro-F1 on validation (tuning is timed)."""
    from modeling_lstm.problem_types import tune_thresholds

    validation = predict_proba(splits["validation"][0])
    threshold = tune_thresholds(validation, binarizer.transform(splits["validation"][1]), "micro_f1", False)
    row.train_seconds = time.perf_counter() - started
    row.notes += f", threshold {threshold['threshold']:g} (best validation micro-F1), tuning included"
    return (predict_proba(splits["test"][0]) >= threshold["threshold"]).astype(int)


def multi_label_baseline(splits: dict) -> tuple[Row, np.ndarray, np.ndarray]:
    """TF-IDF + one-vs-rest logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    names = label_names(splits)
    binarizer = MultiLabelBinarizer(classes=names)
    row = Row("TF-IDF + one-vs-rest logistic regression", notes="C=10")
    classifier = make_pipeline(tfidf(), OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=2000)))
    start = time.perf_counter()
    classifier.fit(splits["train"][0], binarizer.fit_transform(splits["train"][1]))
    predicted = predict_with_tuned_threshold(row, classifier.predict_proba, splits, binarizer, start)
    return row, predicted, binarizer.transform(splits["test"][1])


def fasttext_multi_label_baseline(
    settings: BenchmarkSettings, splits: dict, workdir: Path
) -> tuple[Row, np.ndarray, np.ndarray] | None:
    """fastText's multi-label mode: one-vs-all loss, an independent sigmoid per label (None without fasttext)."""
    from sklearn.preprocessing import MultiLabelBinarizer

    fasttext = import_fasttext()
    if fasttext is None:
        return None
    names = label_names(splits)
    binarizer = MultiLabelBinarizer(classes=names).fit([names])
    columns = {fasttext_label(name): index for index, name in enumerate(names)}
    row = Row("fastText supervised, one-vs-all", notes=fasttext_notes(settings))
    start = time.perf_counter()
    model = train_fasttext(fasttext, settings, zip(*splits["train"], strict=True), workdir, loss="ova")

    def predict_proba(texts: list[str]) -> np.ndarray:
        # The binding's own per-line call: fasttext-wheel 0.9.2's `predict` fails on one text under NumPy 2
        # (`np.array(copy=False)`) and, on a list with k > 1, repeats each text's top probability for every label.
        probabilities = np.zeros((len(texts), len(names)))
        for index, text in enumerate(texts):
            for score, label in model.f.predict(fasttext_text(text) + "\n", -1, 0.0, "strict"):
                probabilities[index, columns[label]] = score
        return probabilities

    predicted = predict_with_tuned_threshold(row, predict_proba, splits, binarizer, start)
    return row, predicted, binarizer.transform(splits["test"][1])


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


def read_splits(settings: BenchmarkSettings, label_columns: list[str] | None) -> dict:
    folder = settings.data_dir / settings.dataset
    return {
        name: read_targets(
            split_file(folder, name),
            settings.max_eval_samples if name != "train" else settings.max_train_samples,
            label_columns,
        )
        for name in ("train", "validation", "test")
    }


def scored(
    row: Row, predicted: np.ndarray, references: np.ndarray, problem_type: str, names: list[str]
) -> Row:
    """The row with the problem type's test metrics (names: the labels, or the regression targets)."""
    metric = load_problem_metric(problem_type)
    names_field = "label_names" if problem_type == MULTI_LABEL else "target_names"
    report = metric.compute(
        predictions=predicted.tolist(), references=references.tolist(), **{names_field: names}
    )
    row.extra = {key: value for key, value in report.items() if key != "per_class"}
    return row


def baseline_rows(
    settings: BenchmarkSettings, problem_type: str, label_columns: list[str] | None, workdir: Path
) -> dict[str, Row]:
    """The TF-IDF row, and for multi-label the fastText row where fasttext is installed (each unless skipped)."""
    if problem_type == REGRESSION:
        baselines = {"tfidf": regression_baseline}
    else:
        baselines = {
            "tfidf": multi_label_baseline,
            "fasttext": lambda splits: fasttext_multi_label_baseline(settings, splits, workdir),
        }
    baselines = {key: baseline for key, baseline in baselines.items() if key not in settings.skip}
    if not baselines:
        return {}
    splits = read_splits(settings, label_columns)
    names = label_columns if problem_type == REGRESSION else label_names(splits)
    rows = {}
    for key, baseline in baselines.items():
        logger.info("%s baseline", key)
        result = baseline(splits)
        if result is not None:
            rows[key] = scored(*result, problem_type, names)
    return rows


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
    rows.update(baseline_rows(settings, problem_type, label_columns, workdir))
    columns = metric_columns(problem_type, label_columns)
    return {
        "dataset": settings.dataset,
        "problem_type": problem_type,
        "quick": settings.quick,
        "rows": {key: asdict(row) for key, row in rows.items()},
        "load_average": list(os.getloadavg()),
        "markdown": format_rows(rows, columns),
    }
