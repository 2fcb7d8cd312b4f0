"""A saved folder loads through the Auto classes and pipeline as remote code, in a process that never imports us."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import REPO_ROOT, subprocess_env
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from modeling_lstm import LSTMForSequenceClassification

PROBES = [
    "what a wonderful lovely film",
    "awful acting and a dull story",
    "i loved it",
    "the worst, most TERRIBLE movie of this year and every other year",
    "zebra",
]

CHILD = textwrap.dedent(
    """
    import json, sys

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    folder, texts = sys.argv[1], json.loads(sys.argv[2])
    model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded).logits
    classifier = pipeline("text-classification", model=folder, trust_remote_code=True, top_k=None)
    print(json.dumps({
        "input_ids": encoded["input_ids"].tolist(),
        "logits": logits.tolist(),
        "pipeline": classifier(texts),
        "model_module": type(model).__module__,
        "config_module": type(model.config).__module__,
        "pipeline_model_module": type(classifier.model).__module__,
        "our_modules": sorted(name for name in sys.modules if name.split(".")[0] == "modeling_lstm"),
        "sys_path_has_repo": any(p and p.rstrip("/") == sys.argv[3] for p in sys.path),
    }))
    """
)


@pytest.fixture(scope="module")
def child(tiny_model_dir, tmp_path_factory) -> dict:
    """Load the folder in a fresh interpreter, from a directory outside the repository."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tiny_model_dir), json.dumps(PROBES), str(REPO_ROOT)],
        cwd=cwd,
        env=subprocess_env(OMP_NUM_THREADS="1"),  # tiny tensors: threads only add hand-off costs
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def parent(tiny_model_dir) -> dict:
    model = LSTMForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, trust_remote_code=True)
    encoded = tokenizer(PROBES, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded).logits
    return {"model": model, "tokenizer": tokenizer, "input_ids": encoded["input_ids"], "logits": logits}


def test_folder_contents(tiny_model_dir):
    files = {path.name for path in tiny_model_dir.iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "configuration_lstm.py",
        "modeling_lstm.py",
        "tokenizer.json",
    } <= files
    assert "pytorch_model.bin" not in files
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["model_type"] == "lstm_classifier"
    assert config["auto_map"] == {
        "AutoConfig": "configuration_lstm.LSTMConfig",
        "AutoModel": "modeling_lstm.LSTMModel",
        "AutoModelForSequenceClassification": "modeling_lstm.LSTMForSequenceClassification",
    }
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    # The shipped code is today's code, not a stale copy.
    package = REPO_ROOT / "modeling_lstm"
    for name in ("configuration_lstm.py", "modeling_lstm.py"):
        assert (tiny_model_dir / name).read_text() == (package / name).read_text()


def test_saved_model_is_trained(parent, tiny_texts_and_labels):
    """Non-trivial weights: the fixture's few training steps fit the tiny texts."""
    texts, labels, _ = tiny_texts_and_labels
    batch = parent["tokenizer"](texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        predictions = parent["model"](**batch).logits.argmax(-1)
    assert predictions.tolist() == labels


def test_child_used_remote_code_and_never_imported_the_package(child):
    assert child["our_modules"] == []
    assert not child["sys_path_has_repo"]
    for key in ("model_module", "config_module", "pipeline_model_module"):
        assert child[key].startswith("transformers_modules."), child[key]
    assert child["model_module"].endswith(".modeling_lstm")
    assert child["config_module"].endswith(".configuration_lstm")


def test_child_gives_identical_ids_and_logits(child, parent):
    assert child["input_ids"] == parent["input_ids"].tolist()
    torch.testing.assert_close(torch.tensor(child["logits"]), parent["logits"], rtol=0, atol=1e-6)


def test_pipeline_returns_every_label_with_probabilities(child, parent):
    labels = set(parent["model"].config.id2label.values())
    assert labels == {"negative", "positive"}
    expected = parent["logits"].softmax(-1)
    id_of = parent["model"].config.label2id
    assert len(child["pipeline"]) == len(PROBES)
    for row, scores in enumerate(child["pipeline"]):
        assert {item["label"] for item in scores} == labels
        assert sum(item["score"] for item in scores) == pytest.approx(1.0, abs=1e-6)
        # Texts go through the pipeline one by one: equal to the padded batch's probabilities.
        for item in scores:
            assert item["score"] == pytest.approx(expected[row, id_of[item["label"]]].item(), abs=1e-5)


def test_in_process_auto_classes_load_our_class(tiny_model_dir, parent):
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    assert type(model) is LSTMForSequenceClassification
    encoded = parent["tokenizer"](PROBES, padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(model(**encoded).logits, parent["logits"], rtol=0, atol=0)


def test_tokenizer_round_trips_left_padding(tiny_model_dir, parent):
    """The model is padding-side agnostic: a tokenizer switched to left padding gives the same logits."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, trust_remote_code=True, padding_side="left")
    encoded = tokenizer(PROBES, padding=True, return_tensors="pt")
    assert (encoded["attention_mask"][:, 0] == 0).any()
    with torch.no_grad():
        logits = parent["model"](**encoded).logits
    torch.testing.assert_close(logits, parent["logits"], rtol=0, atol=1e-5)


@pytest.mark.parametrize("loader", ["our_class", "auto_class"])
def test_folder_without_weights_raises_oserror(tiny_model_dir, tmp_path, loader):
    for name in ("config.json", "configuration_lstm.py", "modeling_lstm.py"):
        shutil.copy(tiny_model_dir / name, tmp_path / name)
    with pytest.raises(OSError, match=r"model\.safetensors"):
        if loader == "our_class":
            LSTMForSequenceClassification.from_pretrained(tmp_path)
        else:
            AutoModelForSequenceClassification.from_pretrained(tmp_path, trust_remote_code=True)
