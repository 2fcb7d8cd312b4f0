"""Multi-label (goemotions) and regression (emobank) end to end on slices of the real data: train, reload with
`pipeline` in a fresh process without the package, predict.py, evaluate.py, the saved threshold."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, subprocess_env
from test_training import results_of, run_python

TINY = ["--embedding_dim", "16", "--hidden_size", "16", "--vocab_size", "2000", "--lowercase",
        "--num_train_epochs", "1", "--learning_rate", "0.01", "--max_train_samples", "1500",
        "--max_eval_samples", "300"]  # fmt: skip
PROBES = ["I love you so much, thank you!", "This is disgusting and I am angry.", "what?"]

PIPELINE_CHILD = """
import json, sys
from transformers import pipeline
classifier = pipeline("text-classification", model=sys.argv[1], trust_remote_code=True, top_k=None)
print(json.dumps({
    "outputs": classifier(json.loads(sys.argv[2])),
    "our_modules": sorted(name for name in sys.modules if name.split(".")[0] == "modeling_lstm"),
}))
"""


def first_lines(source, target, count: int):
    target.write_text("".join(source.read_text(encoding="utf-8").splitlines(keepends=True)[:count]))
    return target


def pipeline_in_fresh_process(model_dir, cwd) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PIPELINE_CHILD, str(model_dir), json.dumps(PROBES)],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def predict_lines(model_dir) -> list[dict]:
    result = run_python(["scripts/predict.py", "--model", str(model_dir), *PROBES])
    return [json.loads(line) for line in result.stdout.strip().splitlines()]


def config_of(model_dir) -> dict:
    return json.loads((model_dir / "config.json").read_text())


def train_on_a_slice(dataset_dir, tmp_path_factory, test_name: str, lines: int, *arguments: str):
    """A tiny model trained on the dataset, evaluated on the first `lines` lines of its test file."""
    folder = tmp_path_factory.mktemp(dataset_dir.name)
    test_file = first_lines(dataset_dir / test_name, folder / test_name, lines)
    output_dir = folder / "model"
    run_python(
        ["scripts/train.py", "--data_dir", str(dataset_dir), "--test_file", str(test_file),
         "--output_dir", str(output_dir), *arguments, *TINY]
    )  # fmt: skip
    return output_dir, test_file


@pytest.fixture(scope="module")
def goemotions_run(goemotions_dir, tmp_path_factory):
    tuned_and_weighted = ("--per_label_thresholds", "--class_weights", "balanced_sqrt")
    return train_on_a_slice(goemotions_dir, tmp_path_factory, "test.jsonl", 300, *tuned_and_weighted)


@pytest.fixture(scope="module")
def emobank_run(emobank_dir, tmp_path_factory):
    targets = ("--label_columns", "valence", "arousal", "dominance", "--normalize_targets")
    return train_on_a_slice(emobank_dir, tmp_path_factory, "test.csv", 301, *targets)


def test_multi_label_folder_config_and_results(goemotions_run):
    model_dir, _ = goemotions_run
    config = config_of(model_dir)
    names = [config["id2label"][str(i)] for i in range(28)]
    assert config["problem_type"] == "multi_label_classification"
    assert names == sorted(names) and "neutral" in names
    assert len(config["thresholds"]) == 28 and 0 < config["threshold"] < 1
    results = results_of(model_dir)
    for metric in ("micro_f1", "macro_f1", "samples_f1", "subset_accuracy", "hamming_loss"):
        assert f"test_{metric}" in results
    assert list(results["test_per_class"]) == names
    assert (model_dir / "label_f1.png").is_file() and not (model_dir / "confusion_matrix.png").exists()


def test_class_weights_balanced_sqrt_saves_each_labels_pos_weight(goemotions_run, goemotions_dir):
    """The square root of negatives / positives over the training rows (--max_train_samples: the first 1500), in the
    config's label order."""
    model_dir, _ = goemotions_run
    config = config_of(model_dir)
    rows = [json.loads(line) for line in (goemotions_dir / "train.jsonl").read_text().splitlines()[:1500]]
    positives = np.array(
        [sum(config["id2label"][str(i)] in row["labels"] for row in rows) for i in range(28)]
    )
    expected = np.sqrt((len(rows) - positives) / np.maximum(positives, 1))
    assert config["pos_weight"] == pytest.approx(expected.tolist(), rel=1e-5)
    assert config.get("class_weights") is None


def test_multi_label_pipeline_gives_sigmoid_scores_and_predict_applies_thresholds(goemotions_run, tmp_path):
    model_dir, _ = goemotions_run
    child = pipeline_in_fresh_process(model_dir, tmp_path)
    assert child["our_modules"] == []
    config = config_of(model_dir)
    thresholds = dict(zip([config["id2label"][str(i)] for i in range(28)], config["thresholds"], strict=True))
    for text_scores, line in zip(child["outputs"], predict_lines(model_dir), strict=True):
        pipeline_scores = {item["label"]: item["score"] for item in text_scores}
        assert len(pipeline_scores) == 28 and all(0 < score < 1 for score in pipeline_scores.values())
        assert abs(sum(pipeline_scores.values()) - 1) > 0.01  # independent sigmoids, not a softmax
        assert line["scores"] == pytest.approx(pipeline_scores, abs=1e-5)
        above = [name for name, score in pipeline_scores.items() if score >= thresholds[name]]
        assert sorted(line["labels"]) == sorted(above)


def evaluate_script(run, tmp_path) -> tuple[dict, dict]:
    """evaluate.py's saved metrics on the run's test file, and the run's all_results.json."""
    model_dir, test_file = run
    output = tmp_path / "metrics.json"
    run_python(["scripts/evaluate_model.py", "--model", str(model_dir), "--test_file", str(test_file),
                "--output", str(output)])  # fmt: skip
    return json.loads(output.read_text()), results_of(model_dir)


@pytest.mark.parametrize(
    "run_fixture, metrics",
    [
        ("goemotions_run", ("micro_f1", "macro_f1", "samples_f1", "hamming_loss")),
        ("emobank_run", ("valence_pearson", "arousal_mae", "pearson", "rmse")),
    ],
)
def test_evaluate_reproduces_the_test_results(run_fixture, metrics, request, tmp_path):
    scores, results = evaluate_script(request.getfixturevalue(run_fixture), tmp_path)
    for metric in metrics:
        assert scores[metric] == pytest.approx(results[f"test_{metric}"], abs=1e-5)


def test_saved_threshold_is_the_one_used(goemotions_run, tmp_path):
    """Thresholds of 0.999 in config.json: no label is predicted any more, and evaluation sees it."""
    import shutil

    model_dir, test_file = goemotions_run
    strict_dir = tmp_path / "strict"
    shutil.copytree(model_dir, strict_dir, ignore=shutil.ignore_patterns("checkpoints"))
    config = config_of(strict_dir)
    config.update(threshold=0.999, thresholds=[0.999] * 28)
    (strict_dir / "config.json").write_text(json.dumps(config))
    assert all(line["labels"] == [] for line in predict_lines(strict_dir))
    from modeling_lstm.args import DataArguments
    from modeling_lstm.evaluation import evaluate_file
    from modeling_lstm.inference import load_classifier

    model, tokenizer = load_classifier(str(strict_dir))
    assert evaluate_file(model, tokenizer, str(test_file), DataArguments(), 64)["micro_f1"] == 0.0


def test_regression_folder_config_and_results(emobank_run):
    model_dir, _ = emobank_run
    config = config_of(model_dir)
    assert config["problem_type"] == "regression"
    assert config["id2label"] == {"0": "valence", "1": "arousal", "2": "dominance"}
    assert len(config["target_mean"]) == len(config["target_std"]) == 3
    assert all(low < high for low, high in zip(config["target_min"], config["target_max"], strict=True))
    results = results_of(model_dir)
    for name in (
        "test_valence_pearson",
        "test_arousal_spearman",
        "test_dominance_mae",
        "test_pearson",
        "test_r2",
    ):
        assert name in results
    assert (model_dir / "predicted_vs_true.png").is_file()


def test_regression_pipeline_gives_values_on_the_targets_scale(emobank_run, tmp_path):
    model_dir, _ = emobank_run
    child = pipeline_in_fresh_process(model_dir, tmp_path)
    assert child["our_modules"] == []
    config = config_of(model_dir)
    for text_scores, line in zip(child["outputs"], predict_lines(model_dir), strict=True):
        values = {item["label"]: item["score"] for item in text_scores}
        assert line["scores"] == pytest.approx(values, abs=1e-5)
        # Standardised targets are mapped back: values sit near the 1-5 scale's training range, not around 0.
        for index, name in enumerate(("valence", "arousal", "dominance")):
            assert config["target_min"][index] - 1 < values[name] < config["target_max"][index] + 1


def test_evaluate_names_a_missing_target_column(emobank_run, tmp_path):
    model_dir, _ = emobank_run
    bad = tmp_path / "bad.csv"
    bad.write_text("text,valence,arousal\nhello,3.0,3.1\n")
    result = subprocess.run(
        [sys.executable, "scripts/evaluate_model.py", "--model", str(model_dir), "--test_file", str(bad)],
        cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {bad}: no column 'dominance'")


def card_of(model_dir):
    from modeling_lstm.model_card import build_model_card

    card = build_model_card(model_dir, "someone/model")
    return card, {
        (entry.metric_name, entry.dataset_split): entry.metric_value for entry in card.data.eval_results
    }


def test_multi_label_card_reports_f1_and_the_thresholds(goemotions_run):
    model_dir, _ = goemotions_run
    card, metrics = card_of(model_dir)
    results, config = results_of(model_dir), config_of(model_dir)
    assert metrics[("Micro F1", "test")] == results["test_micro_f1"]
    assert metrics[("Macro F1", "test")] == results["test_macro_f1"]
    assert "| 20 | neutral |" in card.text and f"| {config['thresholds'][20]:g} |" in card.text
    assert 'threshold_of[s["label"]]' in card.text  # the usage snippet applies the saved thresholds


def test_regression_card_reports_correlations_per_target(emobank_run):
    model_dir, _ = emobank_run
    card, metrics = card_of(model_dir)
    results = results_of(model_dir)
    assert metrics[("Pearson r (mean over targets)", "test")] == results["test_pearson"]
    assert metrics[("Pearson r (arousal)", "test")] == results["test_arousal_pearson"]
    assert metrics[("MAE (mean over targets)", "test")] == results["test_mae"]
    assert "Per-target results (test split)" in card.text and "logits.softmax" not in card.text


# ---- the Space, through gradio_client -----------------------------------------------------------------------------


def space_answers(model_dir, tmp_path) -> tuple[list, list]:
    """(/predict answers for PROBES, the /predict_batch table) from the Space serving `model_dir`."""
    from gradio_client import Client
    from space_helpers import running_space

    with running_space(model_dir, tmp_path / "app.log") as url:
        client = Client(url, verbose=False)
        answers = [client.predict(text, api_name="/predict") for text in PROBES]
        table, _ = client.predict("\n".join(PROBES), None, api_name="/predict_batch")
    return answers, table


def test_space_marks_the_labels_above_their_threshold(goemotions_run, tmp_path):
    model_dir, _ = goemotions_run
    answers, table = space_answers(model_dir, tmp_path)
    for answer, line in zip(answers, predict_lines(model_dir), strict=True):
        label, _, note = answer
        shown = {item["label"]: item["confidence"] for item in label["confidences"]}
        assert len(shown) == 28  # every label's probability
        expected = {
            (f"{name} ✓" if name in line["labels"] else name): score for name, score in line["scores"].items()
        }
        assert shown == pytest.approx(expected, abs=1e-5)
        assert all(f"**{name}**" in note for name in line["labels"])
    assert table["headers"][:3] == ["text", "label", "p(admiration)"] and len(table["data"]) == len(PROBES)


def test_space_shows_each_target_with_its_training_range(emobank_run, tmp_path):
    model_dir, _ = emobank_run
    answers, table = space_answers(model_dir, tmp_path)
    config = config_of(model_dir)
    for (_, _, note), line in zip(answers, predict_lines(model_dir), strict=True):
        for index, (name, value) in enumerate(line["scores"].items()):
            assert (
                f"| {name} | {value:.3f} | {config['target_min'][index]:g} to {config['target_max'][index]:g} |"
                in note
            )
    assert table["headers"] == ["text", "valence", "arousal", "dominance", "truncated"]
