"""The model card generated from a trained folder: valid Hub metadata, numbers equal to all_results.json, a body
that explains the run without placeholders, and a usage snippet that really runs against the test Hub."""

import json
import re
import shutil

import pytest
import yaml
from hub_fixtures import run_python
from hub_server import validate_metadata
from huggingface_hub import ModelCard

from modeling_lstm.model_card import build_model_card, redact_command

REPO_ID = "test-user/lstm-tiny"
SECTIONS = [
    "## How to use",
    "## Labels",
    "## Model details",
    "## Training data",
    "## Training procedure",
    "## Evaluation results",
    "## Limitations",
    "## Reproduce",
]


@pytest.fixture(scope="module")
def card(trained_model_dir) -> ModelCard:
    return build_model_card(trained_model_dir, REPO_ID)


@pytest.fixture(scope="module")
def results(trained_model_dir) -> dict:
    return json.loads((trained_model_dir / "all_results.json").read_text())


def folder_variant(source, destination, **changes):
    """A copy of `source` with training_args.yaml / all_results.json entries changed (None deletes a key)."""
    shutil.copytree(source, destination)
    for name, loader, dumper in (
        ("training_args.yaml", yaml.safe_load, yaml.safe_dump),
        ("all_results.json", json.loads, json.dumps),
    ):
        content = loader((destination / name).read_text())
        for key, value in changes.get(name, {}).items():
            section, _, field = key.rpartition(".")
            target = content[section] if section else content
            target.pop(field, None) if value is None else target.__setitem__(field, value)
        (destination / name).write_text(dumper(content))
    return destination


def test_metadata_describes_a_transformers_text_classifier(card, results):
    data = card.data
    assert data.library_name == "transformers"
    assert data.pipeline_tag == "text-classification"
    assert data.license == "apache-2.0"
    assert {"text-classification", "lstm", "custom_code"} <= set(data.tags)
    assert data.metrics == ["accuracy", "f1"]
    assert [entry["text"] for entry in data.widget] == results["widget_examples"]
    assert data.datasets is None  # trained on local files: no Hub dataset to link


def test_metadata_passes_the_hubs_validation(card):
    errors, warnings = validate_metadata(str(card), "model")
    assert errors == [] and warnings == []


def test_the_validation_is_not_vacuous(card):
    broken = str(card).replace("pipeline_tag: text-classification", "pipeline_tag: text-clasification")
    broken = broken.replace("  - type: accuracy\n", "  - kind: accuracy\n", 1)
    errors, _ = validate_metadata(broken, "model")
    assert any("pipeline_tag" in error for error in errors)
    assert any("metrics[0].type" in error for error in errors)


def test_model_index_values_equal_all_results(card, results):
    reported = {
        (result.dataset_split, result.metric_type): result.metric_value
        for result in ModelCard(str(card)).data.eval_results
    }
    expected = {}
    for split in ("validation", "test"):
        expected[(split, "accuracy")] = results[f"{split}_accuracy"]
        expected[(split, "f1")] = results[f"{split}_macro_f1"]
    assert reported == expected
    assert all(result.task_type == "text-classification" for result in card.data.eval_results)


def test_only_evaluated_splits_enter_the_model_index(trained_model_dir, tmp_path):
    folder = folder_variant(
        trained_model_dir,
        tmp_path / "run",
        **{
            "all_results.json": {
                key: None for key in ("test_accuracy", "test_macro_f1", "test_loss", "test_per_class")
            }
        },
    )
    card = build_model_card(folder, REPO_ID)
    assert {result.dataset_split for result in card.data.eval_results} == {"validation"}
    assert "on the validation split" in card.text and "| test |" not in card.text


def test_a_hub_dataset_is_linked_in_metadata_and_model_index(trained_model_dir, tmp_path):
    changes = {"data.dataset_name": "dair-ai/emotion", "data.dataset_config_name": "split"}
    folder = folder_variant(trained_model_dir, tmp_path / "run", **{"training_args.yaml": changes})
    card = build_model_card(folder, REPO_ID)
    assert card.data.datasets == ["dair-ai/emotion"]
    assert {(r.dataset_type, r.dataset_config) for r in card.data.eval_results} == {
        ("dair-ai/emotion", "split")
    }
    assert "https://huggingface.co/datasets/dair-ai/emotion" in card.text


def test_body_explains_the_run(card, results, trained_model_dir):
    body = card.text
    positions = [body.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "More information needed" not in body
    assert not re.search(r"\| None |`None`|\bnan\b", body)  # no unfilled values in tables
    for split in ("validation", "test"):
        assert (
            f"| {split} | {100 * results[f'{split}_accuracy']:.2f} | {100 * results[f'{split}_macro_f1']:.2f} |"
            in body
        )
    for label, metrics in results["test_per_class"].items():
        assert f"| {label} | {100 * metrics['precision']:.2f} | {100 * metrics['recall']:.2f} |" in body
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body):
        assert (trained_model_dir / image).is_file()
    assert "![Training curves](training_curves.png)" in body
    assert "| `learning_rate` | `0.02` |" in body
    assert "python scripts/train.py --config configs/tiny.yaml --output_dir out/tiny" in body


def test_the_card_names_pretrained_word_vectors(card, trained_model_dir, tmp_path):
    assert "over learned token embeddings" in card.text
    changes = {"model.pretrained_embeddings": "vectors/glove.6B.50d.txt", "model.freeze_embeddings": True}
    folder = folder_variant(trained_model_dir, tmp_path / "run", **{"training_args.yaml": changes})
    text = build_model_card(folder, REPO_ID).text
    assert "over token embeddings initialised from the word vectors `glove.6B.50d.txt` (kept frozen)" in text


def test_limitations_name_the_weakest_label(card, results):
    weakest = min(results["test_per_class"], key=lambda label: results["test_per_class"][label]["f1"])
    assert f"the weakest on the test split is `{weakest}`" in card.text


def test_the_reproduce_command_drops_credentials(trained_model_dir, tmp_path):
    secret = "hf_" + "s" * 30
    command = f"python scripts/train.py --config c.yaml --hub_token {secret} --push_to_hub"
    folder = folder_variant(
        trained_model_dir, tmp_path / "run", **{"training_args.yaml": {"command": command}}
    )
    card_text = str(build_model_card(folder, REPO_ID))
    assert secret not in card_text
    assert "python scripts/train.py --config c.yaml --push_to_hub" in card_text


def test_redact_command():
    assert redact_command("train.py --hub_token=abc --x 1") == "train.py --x 1"
    assert redact_command("train.py --token abc") == "train.py"
    assert redact_command("HF_TOKEN=hf_abcdefghijklmnopqrstu train.py") == "HF_TOKEN=<redacted> train.py"


def test_a_folder_without_run_files_still_gets_an_honest_card(tiny_model_dir):
    card = build_model_card(tiny_model_dir, REPO_ID)
    assert card.data.eval_results is None and "model-index" not in str(card)
    assert "## Evaluation results" not in card.text and "## Reproduce" not in card.text
    assert "does not record the training data" in card.text
    assert validate_metadata(str(card), "model") == ([], [])


def test_the_cards_code_snippets_run_against_the_hub(pushed_model, hub_server, hub_env):
    readme = hub_server.read_file(pushed_model.repo_id, "README.md").decode()
    snippets = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert len(snippets) == 2 and all(pushed_model.repo_id in snippet for snippet in snippets)
    output = run_python("\n".join(snippets), hub_env).stdout
    assert re.search(r"'label': '(negative|positive)'", output)
    assert re.search(r"(negative|positive)\s+\d\.\d\d\s+what a wonderful lovely film", output)
