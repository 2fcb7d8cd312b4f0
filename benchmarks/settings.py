"""What a benchmark run is given (settings, data) and what each row records."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .targets import TARGETS

MB = 1_000_000  # sizes are in decimal megabytes (the 15 MB target is read the stricter way)
REPO_ROOT = Path(__file__).resolve().parent.parent  # benchmarks/ sits beside configs/ in the source tree
ROW_NAMES = (
    "ours",
    "pipeline",
    "predict",
    "int8",
    "bf16",
    "one_thread",
    "onnx",
    "onnx_int8",
    "tfidf",
    "fasttext",
    "naive",
    "distilbert",
)


@dataclass
class BenchmarkSettings:
    dataset: str
    data_dir: Path
    config: Path | None = None  # default: configs/<dataset>.yaml
    quick: bool = False
    max_train_samples: int | None = None  # default: all (quick: 2000)
    max_eval_samples: int | None = None  # default: all (quick: 400)
    num_train_epochs: int | None = None  # default: the config's (quick: at most 2)
    model_dir: Path | None = None  # benchmark an already trained folder instead of training one
    train_args: tuple[str, ...] = ()  # extra training flags after the config's, e.g. ("--hidden_size", "128")
    batch_size: int = 64
    # Batched throughput is the best of this many passes (quick: 1): short passes, and a noisy machine only slows some.
    repeats: int = 5
    latency_samples: int = 300  # texts timed one at a time (quick: 50)
    distilbert_texts: int = 512  # DistilBERT is ~100x slower: time it on fewer texts (quick: 128)
    threads: int | None = None  # torch threads for every row; default: the cores this process may use
    target_accuracy: float | None = None  # default: 0.92 for emotion, none elsewhere
    # The naive LSTM trains our epoch count for its row, then on (up to this many epochs in all) until it reaches the
    # target accuracy, so that the time-to-accuracy ratio is measured rather than bounded (quick: no extra epochs).
    naive_max_epochs: int | None = None  # default: 10
    skip: tuple[str, ...] = ()
    seed: int = 42

    def __post_init__(self):
        self.data_dir = Path(self.data_dir)
        unknown = set(self.skip) - set(ROW_NAMES)
        if unknown:
            raise ValueError(
                f"unknown row(s) to skip: {', '.join(sorted(unknown))}; known: {', '.join(ROW_NAMES)}"
            )
        if self.config is None:
            self.config = REPO_ROOT / "configs" / f"{self.dataset}.yaml"
        if self.threads is None:
            self.threads = available_cores()
        if self.quick:
            self.max_train_samples = self.max_train_samples or 2000
            self.max_eval_samples = self.max_eval_samples or 400
            self.repeats = 1
            self.latency_samples = min(self.latency_samples, 50)
            self.distilbert_texts = min(self.distilbert_texts, 128)
            self.naive_max_epochs = self.naive_max_epochs or 0
        self.naive_max_epochs = 10 if self.naive_max_epochs is None else self.naive_max_epochs
        if self.target_accuracy is None and self.dataset == "emotion":
            self.target_accuracy = TARGETS["accuracy"].goal


@dataclass
class Split:
    texts: list[str]
    labels: list[str]  # label names as written in the files; every model's predictions are compared as names


@dataclass
class Data:
    train: Split
    validation: Split | None
    test: Split


@dataclass
class Row:
    """One line of the table; None renders as a dash."""

    name: str
    accuracy: float | None = None
    macro_f1: float | None = None
    train_seconds: float | None = (
        None  # wall time of everything training needs (tokenizer/vocabulary included)
    )
    epoch_seconds: float | None = None
    train_samples_per_second: float | None = None
    train_tokens_per_second: float | None = None
    peak_rss_mb: float | None = None  # process RSS at the peak of this row's heaviest phase
    rss_increase_mb: float | None = None  # that peak minus the RSS when the phase began
    texts_per_second: float | None = None  # batches of `batch_size`, tokenisation included
    latency_median_ms: float | None = None  # one text at a time, tokenisation included
    latency_p95_ms: float | None = None
    parameters: int | None = None
    size_mb: float | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def split_file(folder: Path, split: str) -> Path:
    """A split's file: <split>.csv, or <split>.jsonl where only that exists (goemotions)."""
    jsonl = folder / f"{split}.jsonl"
    return jsonl if jsonl.is_file() and not (folder / f"{split}.csv").is_file() else folder / f"{split}.csv"


def read_split(path: Path, limit: int | None) -> Split:
    with path.open(newline="", encoding="utf-8") as file:
        rows = [(row["text"], row["label"]) for row in csv.DictReader(file)]
    rows = rows[:limit] if limit else rows
    return Split([text for text, _ in rows], [label for _, label in rows])


def load_data(settings: BenchmarkSettings) -> Data:
    """The CSV splits, cut like training cuts them (`--max_*_samples` keep the first rows)."""
    folder = settings.data_dir / settings.dataset
    if not (folder / "train.csv").is_file():
        raise FileNotFoundError(
            f"{folder / 'train.csv'} not found (expected {folder}/{{train,validation,test}}.csv)"
        )
    validation = folder / "validation.csv"
    return Data(
        train=read_split(folder / "train.csv", settings.max_train_samples),
        validation=read_split(validation, settings.max_eval_samples) if validation.is_file() else None,
        test=read_split(folder / "test.csv", settings.max_eval_samples),
    )


def scores(labels: Sequence[str], predictions: Sequence[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(labels, predictions)), float(f1_score(labels, predictions, average="macro"))
