import csv
import io
import json
import runpy

import pytest
import torch
from conftest import REPO_ROOT
from safetensors.torch import load_file, save_file

from modeling_lstm import LSTMConfig, LSTMForSequenceClassification, train_tokenizer
from modeling_lstm.batching import pad_rows
from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.inference import load_classifier, predict_probabilities

TEXTS = ["a good film", "a bad film", "good fun", "bad acting"]


@pytest.fixture
def saved_folder(tmp_path):
    tokenizer = train_tokenizer(TEXTS, vocab_size=50, kind="wordlevel", min_frequency=1)
    config = LSTMConfig(
        vocab_size=len(tokenizer), embedding_dim=8, hidden_size=8, id2label={0: "neg", 1: "pos"}
    )
    LSTMForSequenceClassification(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    return tmp_path


def test_load_classifier_casts_to_the_asked_dtype(saved_folder):
    model, _ = load_classifier(str(saved_folder), dtype="bfloat16")
    assert next(model.parameters()).dtype == torch.bfloat16 and not model.training


def test_weights_missing_from_the_folder_are_a_clear_error(saved_folder):
    weights = load_file(saved_folder / "model.safetensors")
    del weights["lstm.encoder.layers.0.weight_hh_l0"]  # as in a folder saved by another version of the model
    save_file(weights, saved_folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(
        UserInputError, match=r"lack 1 of the model's tensors \(lstm.encoder.layers.0.weight_hh_l0\)"
    ):
        load_classifier(str(saved_folder))


@pytest.mark.parametrize("left", [False, True])
def test_pad_rows_places_each_text_on_its_side(left):
    flat_ids = torch.tensor([5, 6, 7, 8, 9])  # texts [5, 6, 7], [], [8, 9]
    input_ids, attention_mask = pad_rows(flat_ids, torch.tensor([0, 3, 3]), torch.tensor([3, 0, 2]), 0, left)
    if left:
        assert input_ids.tolist() == [[5, 6, 7], [0, 0, 0], [0, 8, 9]]
    else:
        assert input_ids.tolist() == [[5, 6, 7], [0, 0, 0], [8, 9, 0]]
    assert attention_mask.tolist() == (input_ids != 0).long().tolist()


def test_pad_rows_of_only_empty_texts():
    input_ids, attention_mask = pad_rows(
        torch.tensor([], dtype=torch.long), torch.tensor([0, 0]), torch.tensor([0, 0]), 0, False
    )
    assert input_ids.tolist() == [[0], [0]] and attention_mask.tolist() == [[0], [0]]


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_predict_probabilities_equal_one_text_at_a_time(saved_folder, padding_side):
    """Tokenised in one call, sorted by token count and batched: the probabilities of each text alone, in order."""
    model, tokenizer = load_classifier(str(saved_folder))
    tokenizer.padding_side = padding_side
    texts = ["a good film", "", "bad", "good fun " * 40, "a bad film a good film", "acting", "good good bad"]
    expected = torch.cat(
        [
            model(**tokenizer([text], truncation=True, max_length=16, return_tensors="pt")).logits.softmax(-1)
            for text in texts
        ]
    )
    probabilities = predict_probabilities(model, tokenizer, texts, batch_size=3, max_length=16)
    torch.testing.assert_close(probabilities, expected.detach(), atol=1e-6, rtol=0)
    assert predict_probabilities(model, tokenizer, [], batch_size=3).shape == (0, 2)


def test_batch_size_below_one_is_a_clear_error(saved_folder):
    model, tokenizer = load_classifier(str(saved_folder))
    with pytest.raises(UserInputError, match=r"^--batch_size must be at least 1, got 0$"):
        predict_probabilities(model, tokenizer, ["a good film"], batch_size=0)


@pytest.mark.parametrize("removed", ["tokenizer.json", "config.json"])
def test_a_model_folder_without_its_tokenizer_or_config_is_one_line(saved_folder, removed):
    (saved_folder / removed).unlink()
    with pytest.raises(UserInputError, match=rf"^--model {saved_folder}: no {removed} in the folder"):
        load_classifier(str(saved_folder))


def script_main(name: str):
    """A script's main(), run in this process as the script runs it (without paying a new interpreter's imports)."""
    return runpy.run_path(str(REPO_ROOT / "scripts" / name))["main"]


def test_predict_keeps_line_n_for_input_line_n(tiny_model_dir, tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("i loved every minute of it\n\n   \nthe worst movie this year\n", encoding="utf-8")
    code = run_cli(script_main("predict.py"), ["--model", str(tiny_model_dir), "--input_file", str(texts)])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == [
        "i loved every minute of it",
        "",
        "   ",
        "the worst movie this year",
    ]
    assert [line["label"] for line in lines] == ["positive", None, None, "negative"]
    assert lines[1]["score"] is None and lines[1]["top_k"] == []


def test_evaluate_checks_the_output_folder_before_any_work(tiny_model_dir, tmp_path, capsys):
    test_file = tmp_path / "test.csv"
    test_file.write_text("text,label\ni loved it,positive\nawful film,negative\n", encoding="utf-8")
    evaluate_main = script_main("evaluate_model.py")
    missing = tmp_path / "missing" / "metrics.json"
    # A model that does not exist: the --output error comes first, so nothing was loaded or computed.
    code = run_cli(evaluate_main, ["--model", str(tmp_path / "no-model"), "--test_file", str(test_file),
                                   "--output", str(missing)])  # fmt: skip
    stderr = capsys.readouterr().err
    assert (
        code == 2
        and stderr == f"error: --output {missing}: folder {missing.parent} not found; create it first\n"
    )
    assert not missing.parent.exists()
    written = tmp_path / "metrics.json"
    argv = ["--model", str(tiny_model_dir), "--test_file", str(test_file), "--output", str(written)]
    assert run_cli(evaluate_main, argv) == 0
    assert json.loads(written.read_text())["num_samples"] == 2
    assert [path.name for path in tmp_path.iterdir() if "metrics" in path.name] == ["metrics.json"]


CSV_INPUT = 'a good film\n\nbad, "really" bad acting\ngood fun\n'
CSV_PROBLEMS = {  # labels never alphabetical, so that a column put under the wrong label shows
    "single_label_classification": {"id2label": {0: "pos", 1: "neg"}},
    "multi_label_classification": {
        "id2label": {0: "zeta", 1: "alpha", 2: "mid"},
        "thresholds": [0.001, 0.999, 0.5],  # zeta always chosen, alpha never
    },
    "regression": {
        "id2label": {0: "valence", 1: "arousal"},
        "target_mean": [3.0, -2.0],
        "target_std": [1.0, 1.0],
    },
}


def predict_output(model_dir, input_file, capsys, *flags) -> str:
    argv = ["--model", str(model_dir), "--input_file", str(input_file), *flags]
    assert run_cli(script_main("predict.py"), argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("problem_type", list(CSV_PROBLEMS))
def test_predict_csv_has_the_json_lines_predictions_row_by_row(problem_type, tmp_path, capsys):
    tokenizer = train_tokenizer(TEXTS, vocab_size=50, kind="wordlevel", min_frequency=1)
    fields = CSV_PROBLEMS[problem_type]
    config = LSTMConfig(
        vocab_size=len(tokenizer), embedding_dim=8, hidden_size=8, problem_type=problem_type, **fields
    )
    LSTMForSequenceClassification(config).save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    input_file = tmp_path / "texts.txt"
    input_file.write_text(CSV_INPUT, encoding="utf-8")
    lines = [json.loads(line) for line in predict_output(tmp_path / "model", input_file, capsys).splitlines()]
    rows = list(
        csv.DictReader(
            io.StringIO(predict_output(tmp_path / "model", input_file, capsys, "--output_format", "csv"))
        )
    )
    names = list(fields["id2label"].values())
    assert [row["text"] for row in rows] == CSV_INPUT.splitlines()
    assert all(value == "" for key, value in rows[1].items() if key != "text")  # the blank line
    del rows[1], lines[1]
    if problem_type == "single_label_classification":
        assert list(rows[0]) == ["text", "label", "score"]
        assert [(row["label"], float(row["score"])) for row in rows] == [
            (line["label"], line["score"]) for line in lines
        ]
        return
    multi_label = problem_type == "multi_label_classification"
    assert list(rows[0]) == ["text", *(["labels"] if multi_label else []), *names]
    for row, line in zip(rows, lines, strict=True):
        assert {name: float(row[name]) for name in names} == line["scores"]
        if multi_label:
            assert (
                row["labels"].split(";") == line["labels"]
                and "zeta" in line["labels"]
                and "alpha" not in line["labels"]
            )
