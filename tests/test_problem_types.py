"""Multi-label and regression: label formats, bad inputs, the config fields, losses, metrics and thresholds.

Label fixtures are never in alphabetical order, so that a label order mixed up anywhere shows.
"""

import json
import logging

import numpy as np
import pytest
import torch
from test_data import train_exit, write_csv
from torch.nn import functional as F

from modeling_lstm import LSTMConfig, LSTMForSequenceClassification
from modeling_lstm.args import DataArguments
from modeling_lstm.data import load_problem
from modeling_lstm.errors import UserInputError
from modeling_lstm.labels import balanced_weights, target_statistics
from modeling_lstm.metrics import load_problem_metric
from modeling_lstm.problem_types import tune_thresholds

MULTI, REGRESSION, SINGLE = "multi_label_classification", "regression", "single_label_classification"
# First seen: surprise, joy, anger (not alphabetical); one text without labels.
LIST_ROWS = [
    ("what a shock", ["surprise"]),
    ("so happy and amazed", ["joy", "surprise"]),
    ("this makes me furious", ["anger"]),
    ("just a plain sentence", []),
    ("happy happy day", ["joy"]),
    ("angry and shocked", ["surprise", "anger"]),
] * 3


def write_jsonl(path, rows, label_key="labels"):
    path.write_text("".join(json.dumps({"text": text, label_key: labels}) + "\n" for text, labels in rows))
    return path


def expected_vectors(rows, names):
    return [[float(name in labels) for name in names] for _, labels in rows]


def load(**kwargs):
    return load_problem(DataArguments(**kwargs), seed=0)


# ---- label formats -----------------------------------------------------------------------------------------------


def test_list_of_names_is_multi_label_with_sorted_names_and_counts_empty_lists(tmp_path, caplog):
    train = write_jsonl(tmp_path / "train.jsonl", LIST_ROWS)
    with caplog.at_level(logging.INFO, logger="modeling_lstm.data"):
        data = load(train_file=str(train), validation_file=str(train))
    assert data.problem_type == MULTI
    assert data.label_names == ["anger", "joy", "surprise"]
    assert data.splits["train"]["label"] == expected_vectors(LIST_ROWS, data.label_names)
    assert "holds lists of labels" in caplog.text
    assert "train: 18 texts, 3 without a label, 6 with several" in caplog.text


def test_list_of_ids_from_parquet(tmp_path):
    import pandas as pd

    rows = [("first", [7, 2]), ("second", [2]), ("third", [10]), ("fourth", [])] * 3
    path = tmp_path / "train.parquet"
    pd.DataFrame({"text": [t for t, _ in rows], "labels": [labels for _, labels in rows]}).to_parquet(path)
    data = load(train_file=str(path), validation_file=str(path))
    assert data.problem_type == MULTI
    assert data.label_names == ["2", "7", "10"]  # numeric order, not string order
    assert data.splits["train"]["label"][0] == [1.0, 1.0, 0.0]
    assert data.splits["train"]["label"][2] == [0.0, 0.0, 1.0]


def test_delimited_string_column_with_separator(tmp_path):
    rows = [(text, ";".join(labels)) for text, labels in LIST_ROWS]
    path = write_csv(tmp_path / "train.csv", rows)
    data = load(train_file=str(path), validation_file=str(path), label_separator=";")
    assert data.problem_type == MULTI
    assert data.label_names == ["anger", "joy", "surprise"]
    assert data.splits["train"]["label"] == expected_vectors(LIST_ROWS, data.label_names)


def test_zero_one_columns_keep_the_order_given(tmp_path):
    names = ["surprise", "joy", "anger"]
    rows = [(text, *(int(name in labels) for name in names)) for text, labels in LIST_ROWS]
    path = write_csv(tmp_path / "train.csv", rows, header=("text", *names))
    data = load(train_file=str(path), validation_file=str(path), label_columns=names)
    assert data.problem_type == MULTI
    assert data.label_names == names
    assert data.splits["train"]["label"] == expected_vectors(LIST_ROWS, names)


def test_numeric_columns_are_multi_target_regression(tmp_path):
    rows = [(f"text {i}", 3.0 + i / 10, 2.5 - i / 20, 1.25 * i) for i in range(12)]
    path = write_csv(tmp_path / "train.csv", rows, header=("text", "valence", "arousal", "dominance"))
    columns = ["valence", "arousal", "dominance"]
    data = load(train_file=str(path), validation_file=str(path), label_columns=columns)
    assert data.problem_type == REGRESSION
    assert data.label_names == columns
    assert np.allclose(data.splits["train"]["label"], [row[1:] for row in rows])


def test_auto_decides_from_the_values(tmp_path):
    scores = write_csv(tmp_path / "scores.csv", [(f"text {i}", 1.5 + i / 7) for i in range(12)])
    ratings = write_csv(tmp_path / "ratings.csv", [(f"text {i}", 1 + i % 5) for i in range(12)])
    words = write_csv(tmp_path / "words.csv", [(f"text {i}", ["pos", "neg"][i % 2]) for i in range(12)])
    assert load(train_file=str(scores)).problem_type == REGRESSION
    assert load(train_file=str(ratings)).problem_type == SINGLE
    assert load(train_file=str(words)).problem_type == SINGLE
    forced = load(train_file=str(ratings), problem_type=REGRESSION)
    assert forced.problem_type == REGRESSION and forced.label_names == ["label"]


# ---- bad input: one line, exit 2, nothing written -----------------------------------------------------------------


def bad_jsonl(rows):
    return lambda d: ["--train_file", str(write_jsonl(d / "bad.jsonl", rows))]


def bad_csv(rows, header, *flags):
    return lambda d: ["--train_file", str(write_csv(d / "bad.csv", rows, header=header)), *flags]


def unknown_in_validation(d):
    validation = write_jsonl(d / "validation.jsonl", [("fine", ["joy"]), ("odd", ["joy", "rage"])])
    return [
        "--train_file",
        str(write_jsonl(d / "train.jsonl", LIST_ROWS)),
        "--validation_file",
        str(validation),
    ]


SCORES = [("a", "3.5"), ("b", "high"), ("c", "2.0")]
BAD_LABELS = {
    "names and ids mixed": (bad_jsonl([("a", ["joy"]), ("b", ["joy", 3])]), "bad.jsonl row 2, column 'labels'", "mixes"),
    "neither name nor id": (bad_jsonl([("a", ["joy"]), ("b", [1.5])]), "bad.jsonl row 2, column 'labels'", "1.5"),
    "names then ids": (bad_jsonl([("a", ["joy"]), ("b", [4])]), "bad.jsonl row 2, column 'labels'", "ids"),
    "unknown label in validation": (unknown_in_validation, "validation.jsonl row 2, column 'labels'", "'rage'"),
    "non-numeric target": (
        bad_csv(SCORES, ("text", "score"), "--label_column", "score", "--problem_type", REGRESSION), "bad.csv row 2, column 'score'", "'high'"
    ),
    "NaN target": (
        bad_csv([("a", "1.5"), ("b", "nan")], ("text", "score"), "--label_column", "score", "--problem_type", REGRESSION),
        "bad.csv row 2, column 'score'",
        "'nan'",
    ),
    "empty target": (
        bad_csv([("a", 1.5), ("b", 2.5), ("c", "")], ("text", "score"), "--label_columns", "score"),
        "bad.csv row 3, column 'score'",
        "None",
    ),
    "0/1 column holding 2": (
        bad_csv([("a", 1, 0), ("b", 0, 1), ("c", 2, 0)], ("text", "joy", "anger"), "--label_columns", "joy", "anger"),
        "bad.csv row 3, column 'joy'",
        "2 is not 0 or 1",
    ),
    "label column holding words": (
        bad_csv([("a", 1, "x")], ("text", "joy", "anger"), "--label_columns", "joy", "anger"),
        "bad.csv row 1, column 'anger'",
        "'x' is not a number",
    ),
    "missing --label_columns column": (
        bad_csv([("a", 1, 0)], ("text", "joy", "anger"), "--label_columns", "anger", "fear"),
        "bad.csv: no column 'fear' (--label_columns)",
        "joy",
    ),
    "single-label asked for lists": (
        lambda d: [*bad_jsonl(LIST_ROWS)(d), "--problem_type", SINGLE],
        "bad.jsonl: --problem_type single_label_classification contradicts the data",
        "row 1",
    ),
    "multi-label asked for one label per row": (
        bad_csv([("a", "joy"), ("b", "anger")], ("text", "label"), "--problem_type", MULTI),
        "bad.csv: --problem_type multi_label_classification contradicts the data",
        "'joy'",
    ),
    "regression asked for lists": (
        lambda d: [*bad_jsonl(LIST_ROWS)(d), "--problem_type", REGRESSION],
        "contradicts the data: column 'labels' holds lists",
        "surprise",
    ),
    "all texts without labels": (bad_jsonl([("a", []), ("b", [])]), "bad.jsonl", "every label list is empty"),
    "normalize single-label": (
        bad_csv([("a", "joy"), ("b", "anger")], ("text", "label"), "--normalize_targets"),
        "--normalize_targets is for regression",
        "single_label",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_LABELS, ids=list(BAD_LABELS))
def test_bad_labels_are_one_line_exit_2_and_nothing_written(case, tmp_path, capsys):
    make_argv, *expected = BAD_LABELS[case]
    code, err = train_exit(tmp_path, capsys, *make_argv(tmp_path))
    assert code == 2
    # Progress bars may precede it; the error itself is one line, the last one.
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    for part in expected:
        assert part in errors[0]
    assert not (tmp_path / "out").exists()


# ---- config, losses and the output scale --------------------------------------------------------------------------


def tiny_model(num_labels: int, **fields) -> LSTMForSequenceClassification:
    config = LSTMConfig(
        vocab_size=50,
        embedding_dim=8,
        hidden_size=8,
        id2label={i: name for i, name in enumerate(["surprise", "joy", "anger"][:num_labels])},
        **fields,
    )
    torch.manual_seed(0)
    return LSTMForSequenceClassification(config).eval()


INPUTS = {
    "input_ids": torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]]),
    "attention_mask": torch.tensor([[1] * 4, [1, 1, 0, 0]]),
}


def test_config_fields_round_trip(tmp_path):
    fields = {
        "problem_type": MULTI,
        "threshold": 0.35,
        "thresholds": [0.2, 0.6, 0.45],
        "pos_weight": [3.0, 1.5, 8.0],
    }
    tiny_model(3, **fields).save_pretrained(tmp_path)
    reloaded = LSTMConfig.from_pretrained(tmp_path)
    for name, value in fields.items():
        assert getattr(reloaded, name) == value
    with pytest.raises(ValueError, match="one value per label"):
        LSTMConfig(id2label={0: "a", 1: "b"}, thresholds=[0.5])


def test_standardised_targets_come_out_in_their_own_scale():
    mean, std = [3.0, -1.0], [0.5, 2.0]
    scaled = tiny_model(2, problem_type=REGRESSION, target_mean=mean, target_std=std)
    plain = tiny_model(2, problem_type=REGRESSION)
    plain.load_state_dict(scaled.state_dict())
    raw = plain(**INPUTS).logits
    outputs = scaled(**INPUTS).logits
    assert torch.allclose(outputs, raw * torch.tensor(std) + torch.tensor(mean))
    labels = torch.tensor([[3.5, 1.0], [2.0, -3.0]])
    standardised = (labels - torch.tensor(mean)) / torch.tensor(std)
    assert torch.isclose(scaled(**INPUTS, labels=labels).loss, F.mse_loss(raw, standardised))


def test_class_weights_and_pos_weight_enter_the_loss():
    weights = [0.5, 2.0, 4.0]
    weighted = tiny_model(3, problem_type=SINGLE, class_weights=weights)
    labels = torch.tensor([2, 0])
    logits = weighted(**INPUTS).logits
    expected = F.cross_entropy(logits, labels, weight=torch.tensor(weights))
    assert torch.isclose(weighted(**INPUTS, labels=labels).loss, expected)
    assert not torch.isclose(expected, F.cross_entropy(logits, labels))
    multi = tiny_model(3, problem_type=MULTI, pos_weight=weights)
    hot = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    logits = multi(**INPUTS).logits
    expected = F.binary_cross_entropy_with_logits(logits, hot, pos_weight=torch.tensor(weights))
    assert torch.isclose(multi(**INPUTS, labels=hot).loss, expected)


def test_balanced_weights_and_target_statistics():
    single = balanced_weights(np.array([0, 0, 0, 1, 2, 2]), SINGLE, 3)["class_weights"]
    counts = np.array([3, 1, 2])
    assert np.allclose(
        counts * np.array(single), counts[0] * single[0]
    )  # every class weighs the same in total
    hot = np.array([[1, 0], [1, 0], [1, 1], [0, 0]], dtype=float)
    assert balanced_weights(hot, MULTI, 2)["pos_weight"] == pytest.approx(
        [1 / 3, 3.0]
    )  # negatives / positives
    # balanced_sqrt: the square root of each weight, so the rarest label is pulled less far.
    assert balanced_weights(hot, MULTI, 2, "balanced_sqrt")["pos_weight"] == pytest.approx([3**-0.5, 3**0.5])
    tempered = balanced_weights(np.array([0, 0, 0, 1, 2, 2]), SINGLE, 3, "balanced_sqrt")["class_weights"]
    assert tempered == pytest.approx(np.sqrt(single), abs=1e-6)
    with pytest.raises(UserInputError, match="--class_weights balanced_sqrt is for classification"):
        balanced_weights(np.array([[1.0], [2.0]]), REGRESSION, 1, "balanced_sqrt")
    targets = np.array([[1.0, 10.0], [3.0, 10.0]])
    stats = target_statistics(targets, normalize=True)
    assert stats == {"target_min": [1.0, 10.0], "target_max": [3.0, 10.0], "target_mean": [2.0, 10.0],
                     "target_std": [1.0, 1.0]}  # fmt: skip
    assert "target_mean" not in target_statistics(targets, normalize=False)


# ---- metrics and thresholds ---------------------------------------------------------------------------------------


def test_regression_metric_names_each_target_and_averages():
    true = np.array([[1.0, 5.0], [2.0, 4.0], [3.0, 3.0], [4.0, 1.0]])
    predicted = np.column_stack([true[:, 0] * 2, -true[:, 1]])  # valence: same ranks; arousal: reversed
    scores = load_problem_metric(REGRESSION).compute(
        predictions=predicted.tolist(), references=true.tolist(), target_names=["valence", "arousal"]
    )
    assert scores["valence_pearson"] == pytest.approx(1.0)
    assert scores["arousal_spearman"] == pytest.approx(-1.0)
    assert scores["pearson"] == pytest.approx(0.0)
    assert scores["valence_mae"] == pytest.approx(2.5)
    assert scores["mae"] == pytest.approx((2.5 + 6.5) / 2)


def test_multilabel_metric_per_label_in_label_order():
    names = ["surprise", "joy", "anger"]
    references = [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]]
    predictions = [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]]  # anger never predicted, joy missed once
    scores = load_problem_metric(MULTI).compute(
        predictions=predictions, references=references, label_names=names
    )
    assert list(scores["per_class"]) == names
    assert scores["per_class"]["surprise"]["f1"] == 1.0
    assert scores["per_class"]["anger"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["subset_accuracy"] == 0.5
    assert scores["hamming_loss"] == pytest.approx(2 / 12)
    assert scores["micro_f1"] > scores["macro_f1"]


def test_thresholds_tuned_per_label_and_global():
    rng = np.random.default_rng(0)
    labels = (rng.random((400, 3)) < 0.3).astype(float)
    labels[:, 2] = 0  # a label without positives in validation
    # Label 0 separates at 0.3, label 1 at 0.7.
    scores = np.where(labels > 0, [0.35, 0.75, 0.9], [0.25, 0.65, 0.1]) + rng.uniform(
        -0.02, 0.02, labels.shape
    )
    tuned = tune_thresholds(scores, labels, "micro_f1", per_label=True)
    assert 0.25 < tuned["thresholds"][0] <= 0.35
    assert 0.65 < tuned["thresholds"][1] <= 0.75
    assert tuned["thresholds"][2] == tuned["threshold"]
    assert tune_thresholds(scores, labels, "micro_f1", per_label=False)["thresholds"] is None


def test_threshold_tuning_memory_does_not_grow_with_the_grid():
    """Many texts and labels: the search holds one threshold's predictions at a time, not the whole grid's."""
    import tracemalloc

    rng = np.random.default_rng(0)
    scores = rng.random((20_000, 200), dtype=np.float32)
    labels = (rng.random((20_000, 200)) < 0.05).astype(np.float32)
    one_threshold = scores.size  # bytes of one boolean (texts, labels) array
    tracemalloc.start()
    tuned = tune_thresholds(scores, labels, "macro_f1", per_label=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(tuned["thresholds"]) == 200
    assert peak < 5 * one_threshold  # the whole grid at once: 39 of them, twice
