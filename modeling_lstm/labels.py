"""Multi-label and regression labels: decide the problem type once, then encode every label as a float vector.

Labels arrive as one label per row (data.py keeps those as a `ClassLabel`), or as
- a list column (JSON/JSONL/Parquet lists of names or of ids; an empty list is a text without labels),
- a string column split on `--label_separator` (`"joy,love"`),
- several columns named by `--label_columns`: 0/1 columns (multi-label) or numbers (regression),
- one numeric column (regression).
The last three shapes leave as `label`: a float vector of length num_labels (multi-hot, or the targets). Every bad
value is a `UserInputError` naming the file, column, row (1-based, as data rows) and value.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import UserInputError

SINGLE_LABEL = "single_label_classification"
MULTI_LABEL = "multi_label_classification"
REGRESSION = "regression"
# Floats with at most this many distinct whole values stay classes (ratings 1-5); more, or any fraction: regression.
MAX_CLASS_LIKE_NUMBERS = 20


@dataclass
class LabelSource:
    """Where the labels of a split sit: one column (maybe split on a separator) or several columns."""

    columns: list[str]
    separator: str | None
    several: bool  # --label_columns: each column is one label or target

    def describe(self) -> str:
        if self.several:
            return f"--label_columns {' '.join(self.columns)}"
        return f"column '{self.columns[0]}'"


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def first_row(values: list, test: Callable) -> int | None:
    return next((row for row, value in enumerate(values) if test(value)), None)


def contradiction(source: str, requested: str, why: str) -> UserInputError:
    return UserInputError(f"{source}: --problem_type {requested} contradicts the data: {why}")


def decide_problem_type(columns: dict[str, list], where: LabelSource, requested: str, source: str):
    """(problem_type, reason) from the train labels; an explicit --problem_type the data contradicts is an error."""
    if where.several:
        if requested == SINGLE_LABEL:
            raise contradiction(source, requested, f"{where.describe()} gives several labels per row")
        for column, values in columns.items():
            bad = first_row(values, lambda value: value is not None and not isinstance(value, (int, float)))
            if bad is not None:
                raise UserInputError(
                    f"{source} row {bad + 1}, column '{column}': {values[bad]!r} is not a number "
                    "(--label_columns hold 0/1 labels or numeric targets)"
                )
        binary = all(
            all(value in (0, 1) for value in values if value is not None) for values in columns.values()
        )
        integers = all(all(not isinstance(value, float) for value in values) for values in columns.values())
        if requested != "auto":
            return requested, f"--problem_type {requested}"
        if binary or integers:
            return MULTI_LABEL, f"{where.describe()}: integer or 0/1 columns, one per label"
        return (
            REGRESSION,
            f"{where.describe()}: numeric columns holding other values than 0/1, one per target",
        )
    column = where.columns[0]
    values = columns[column]
    list_row = first_row(values, lambda value: isinstance(value, (list, tuple)))
    if list_row is not None:
        if requested not in ("auto", MULTI_LABEL):
            raise contradiction(
                source, requested, f"column '{column}' holds lists (row {list_row + 1}: {values[list_row]!r})"
            )
        return MULTI_LABEL, f"column '{column}' holds lists of labels"
    if where.separator is not None:
        if requested not in ("auto", MULTI_LABEL):
            raise contradiction(
                source, requested, f"--label_separator {where.separator!r} is for multi-label data"
            )
        return MULTI_LABEL, f"column '{column}' split on --label_separator {where.separator!r}"
    if requested == MULTI_LABEL:
        raise contradiction(
            source,
            requested,
            f"column '{column}' holds one label per row (row 1: {values[0]!r}); give a list column, "
            "--label_separator or --label_columns",
        )
    if requested != "auto":
        return requested, f"--problem_type {requested}"
    numbers = [value for value in values if is_number(value)]
    if numbers and len(numbers) == len(values):
        fractional = any(not float(value).is_integer() for value in numbers if math.isfinite(value))
        distinct = len(set(numbers))
        if fractional or distinct > MAX_CLASS_LIKE_NUMBERS:
            return REGRESSION, f"column '{column}' holds numbers ({distinct} distinct values)"
    return SINGLE_LABEL, f"column '{column}' holds one label per row"


# ---- multi-label -------------------------------------------------------------------------------------------------


def label_items(value, row: int, column: str, source: str, separator: str | None) -> list:
    """The labels of one row as a list (None and an empty string are no labels)."""
    if value is None:
        return []
    if separator is not None:
        return [part.strip() for part in str(value).split(separator) if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise UserInputError(f"{source} row {row + 1}, column '{column}': {value!r} is not a list of labels")
    return list(value)


def item_kind(items: list, row: int, column: str, source: str) -> str | None:
    """'names' or 'ids' for one row's labels; a mix, or anything else, is an error."""
    kinds = set()
    for item in items:
        if isinstance(item, str):
            kinds.add("names")
        elif isinstance(item, int) and not isinstance(item, bool):
            kinds.add("ids")
        else:
            raise UserInputError(
                f"{source} row {row + 1}, column '{column}': label {item!r} is neither a name nor an integer id"
            )
    if len(kinds) > 1:
        raise UserInputError(
            f"{source} row {row + 1}, column '{column}': {items!r} mixes label names and ids"
        )
    return kinds.pop() if kinds else None


def multi_label_names(values: list, column: str, source: str, separator: str | None) -> list[str]:
    """The train labels, names sorted (ids in numeric order), checking each row on the way."""
    seen, train_kind = set(), None
    for row, value in enumerate(values):
        items = label_items(value, row, column, source, separator)
        kind = item_kind(items, row, column, source)
        if kind and train_kind and kind != train_kind:
            raise UserInputError(
                f"{source} row {row + 1}, column '{column}': {items!r} holds label {kind} where earlier rows "
                f"hold {train_kind}"
            )
        train_kind = train_kind or kind
        seen.update(items)
    if not seen:
        raise UserInputError(f"{source}: no text has a label in column '{column}'; every label list is empty")
    return [str(item) for item in sorted(seen)]


def multi_hot_from_lists(
    values: list, names: list[str], column: str, source: str, separator: str | None, known_as: str
) -> list[list[float]]:
    index = {name: position for position, name in enumerate(names)}
    vectors = []
    for row, value in enumerate(values):
        items = label_items(value, row, column, source, separator)
        item_kind(items, row, column, source)
        vector = [0.0] * len(names)
        for item in items:
            if str(item) not in index:
                raise UserInputError(
                    f"{source} row {row + 1}, column '{column}': label {item!r} is not among the {known_as} labels "
                    f"({', '.join(names)})"
                )
            vector[index[str(item)]] = 1.0
        vectors.append(vector)
    return vectors


def multi_hot_from_columns(columns: dict[str, list], source: str) -> list[list[float]]:
    for column, values in columns.items():
        bad = first_row(values, lambda value: value not in (0, 1))
        if bad is not None:
            raise UserInputError(
                f"{source} row {bad + 1}, column '{column}': {values[bad]!r} is not 0 or 1 (a multi-label column "
                "holds 0/1; pass --problem_type regression for numeric targets)"
            )
    return np.column_stack([np.asarray(values, dtype=np.float32) for values in columns.values()]).tolist()


# ---- regression --------------------------------------------------------------------------------------------------


def as_target(value, row: int, column: str, source: str) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise UserInputError(
            f"{source} row {row + 1}, column '{column}': {value!r} is not a finite number (a regression target)"
        )
    return number


def regression_targets(columns: dict[str, list], source: str) -> list[list[float]]:
    return [
        [as_target(value, row, column, source) for column, value in zip(columns, values, strict=True)]
        for row, values in enumerate(zip(*columns.values(), strict=True))
    ]


# ---- the entry point data.py calls -------------------------------------------------------------------------------


def label_names_for(
    problem_type: str, columns: dict[str, list], where: LabelSource, source: str
) -> list[str]:
    """config.id2label's names: the columns' names (in the order given), or the train labels of a list column."""
    if where.several or problem_type == REGRESSION:
        return list(where.columns)
    return multi_label_names(columns[where.columns[0]], where.columns[0], source, where.separator)


def encode_label_vectors(
    problem_type: str,
    columns: dict[str, list],
    where: LabelSource,
    names: list[str],
    source: str,
    known_as: str = "train",
) -> list[list[float]]:
    """One float vector per row: multi-hot over `names`, or the regression targets."""
    if problem_type == REGRESSION:
        return regression_targets(columns, source)
    if where.several:
        return multi_hot_from_columns(columns, source)
    column = where.columns[0]
    return multi_hot_from_lists(columns[column], names, column, source, where.separator, known_as)


# ---- statistics saved in the config ------------------------------------------------------------------------------


# --class_weights: the power of inverse frequency. balanced_sqrt tempers it: on goemotions (28 labels, the rarest 77
# positives in 43k) full negatives/positives weights (up to 563) gave test macro-F1 0.467, their square root 0.486.
CLASS_WEIGHT_POWERS = {"balanced": 1.0, "balanced_sqrt": 0.5}


def balanced_weights(
    labels: np.ndarray, problem_type: str, num_labels: int, scheme: str = "balanced"
) -> dict:
    """--class_weights balanced|balanced_sqrt: config fields weighting the loss by inverse frequency in train, or by
    its square root (CLASS_WEIGHT_POWERS)."""
    power = CLASS_WEIGHT_POWERS[scheme]
    if problem_type == SINGLE_LABEL:
        counts = np.bincount(labels.astype(int), minlength=num_labels)
        # sklearn's "balanced": n / (k * count); an absent class gets the weight of a single example.
        weights = len(labels) / (num_labels * np.maximum(counts, 1))
        return {"class_weights": [round(float(weight), 6) for weight in weights**power]}
    if problem_type == MULTI_LABEL:
        positives = labels.sum(axis=0)
        pos_weight = (len(labels) - positives) / np.maximum(positives, 1)
        return {"pos_weight": [round(float(weight), 6) for weight in pos_weight**power]}
    raise UserInputError(f"--class_weights {scheme} is for classification, not regression")


def target_statistics(targets: np.ndarray, normalize: bool) -> dict:
    """Regression: the train range (shown next to predictions) and, with --normalize_targets, mean and std."""
    statistics = {
        "target_min": [round(float(value), 6) for value in targets.min(axis=0)],
        "target_max": [round(float(value), 6) for value in targets.max(axis=0)],
    }
    if normalize:
        std = targets.std(axis=0)
        statistics["target_mean"] = [round(float(value), 6) for value in targets.mean(axis=0)]
        statistics["target_std"] = [round(float(value), 6) if value > 0 else 1.0 for value in std]
    return statistics
