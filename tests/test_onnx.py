"""ONNX export and the ONNX Runtime backend: parity with torch on real texts, int8, no-torch use, bad input."""

import csv
import importlib.util
import json
import subprocess
import sys

import pytest
import torch
from conftest import REPO_ROOT, subprocess_env
from test_training import run_python, train_command

from modeling_lstm import LSTMConfig, LSTMForSequenceClassification, train_tokenizer
from modeling_lstm.cli import run_cli
from modeling_lstm.inference import load_classifier, predict_probabilities
from modeling_lstm.onnx import export_onnx, find_onnx_folder


@pytest.fixture(scope="module")
def trained_dir(emotion_dir, tmp_path_factory):
    """The end-to-end test's small emotion model (about 87% on test): trained weights, real tokenizer."""
    output_dir = tmp_path_factory.mktemp("onnx-train") / "emotion"
    run_python(train_command(emotion_dir, output_dir))
    return output_dir


@pytest.fixture(scope="module")
def exported(trained_dir, tmp_path_factory):
    return export_onnx(str(trained_dir), tmp_path_factory.mktemp("export") / "onnx")


@pytest.fixture(scope="module")
def exported_int8(trained_dir, tmp_path_factory):
    return export_onnx(str(trained_dir), tmp_path_factory.mktemp("export") / "int8", quantize="int8")


@pytest.fixture(scope="module")
def test_texts(emotion_dir) -> tuple[list[str], list[str]]:
    """The test split's texts and label names."""
    with open(emotion_dir / "test.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return [row["text"] for row in rows], [row["label"] for row in rows]


@pytest.mark.parametrize("side", ["right", "left"])
def test_onnx_logits_equal_torch_on_1000_real_texts(trained_dir, exported, test_texts, side):
    model, tokenizer = load_classifier(str(trained_dir))
    session, _ = load_classifier(str(exported), backend="onnx")
    tokenizer.padding_side = side
    texts = test_texts[0][:1000]
    worst, same = 0.0, 0
    for start in range(0, len(texts), 50):  # file order: batches padded to their longest text
        batch = tokenizer(texts[start : start + 50], padding=True, return_tensors="pt")
        with torch.inference_mode():
            expected = model(**batch).logits  # length bucketing on, as users run it
        logits = session(batch["input_ids"], batch["attention_mask"]).logits
        worst = max(worst, float((logits - expected).abs().max()))
        same += int((logits.argmax(-1) == expected.argmax(-1)).sum())
    assert worst <= 1e-4
    assert same == len(texts)


def test_int8_accuracy_is_within_half_a_point(trained_dir, exported_int8, test_texts):
    texts, labels = test_texts
    model, tokenizer = load_classifier(str(trained_dir))
    quantized, _ = load_classifier(str(exported_int8), backend="onnx")
    label_ids = torch.tensor([model.config.label2id[label] for label in labels])
    accuracy = {
        name: float((predict_probabilities(m, tokenizer, texts).argmax(-1) == label_ids).float().mean())
        for name, m in (("float32", model), ("int8", quantized))
    }
    assert accuracy["float32"] > 0.8  # a trained model, or the comparison means nothing
    assert abs(accuracy["int8"] - accuracy["float32"]) <= 0.005
    assert (exported_int8 / "model.onnx").stat().st_size < 0.5 * (
        trained_dir / "model.safetensors"
    ).stat().st_size


NO_TORCH_CLIENT = """
import json, sys
sys.modules["torch"] = None  # any import of torch now fails
import numpy as np, onnxruntime
from tokenizers import Tokenizer

folder, side, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
config = json.load(open(f"{folder}/config.json"))
tokenizer = Tokenizer.from_file(f"{folder}/tokenizer.json")
tokenizer.enable_padding(pad_id=config["pad_token_id"], direction=side)
encodings = tokenizer.encode_batch(texts)
session = onnxruntime.InferenceSession(f"{folder}/model.onnx")
(logits,) = session.run(None, {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                               "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)})
print(json.dumps({"logits": logits.tolist(), "labels": [config["id2label"][str(i)] for i in logits.argmax(-1)]}))
"""


@pytest.mark.parametrize("side", ["left", "right"])
def test_the_export_runs_with_onnxruntime_and_tokenizers_alone(trained_dir, exported, test_texts, side):
    texts = test_texts[0][:40]
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH_CLIENT, str(exported), side, json.dumps(texts)],
        capture_output=True, text=True, env=subprocess_env(), timeout=300, check=True,
    )  # fmt: skip
    answer = json.loads(result.stdout)
    model, tokenizer = load_classifier(str(trained_dir))
    with torch.inference_mode():
        expected = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    assert torch.tensor(answer["logits"]).sub(expected).abs().max() <= 1e-4
    assert answer["labels"] == [model.config.id2label[int(i)] for i in expected.argmax(-1)]
    assert "auto_map" not in json.loads((exported / "config.json").read_text())  # no model code in the folder


@pytest.mark.parametrize(
    "pooling, bidirectional, num_layers", [("last", True, 2), ("mean", False, 1), ("attention", True, 1)]
)
def test_every_pooling_exports_with_padding_on_either_side(tmp_path, pooling, bidirectional, num_layers):
    texts = ["a good film", "a bad film and a long dull story", "good", "bad acting in a dull long film"]
    tokenizer = train_tokenizer(texts, vocab_size=100, kind="wordpiece", min_frequency=1, lowercase=True)
    config = LSTMConfig(vocab_size=len(tokenizer), embedding_dim=8, hidden_size=8, pooling=pooling,
                        bidirectional=bidirectional, num_layers=num_layers)  # fmt: skip
    torch.manual_seed(0)
    model = LSTMForSequenceClassification(config).eval()
    with torch.no_grad():  # non-zero biases: padding that leaked into the state would show (STACK_NOTES.md)
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    session, _ = load_classifier(str(export_onnx(str(tmp_path / "model"), tmp_path / "onnx")), backend="onnx")
    alone = torch.cat([model(**tokenizer([text], return_tensors="pt")).logits for text in texts]).detach()
    for side in ("left", "right"):
        tokenizer.padding_side = side
        batch = tokenizer(texts * 5, padding=True, return_tensors="pt")  # 20 rows: torch buckets by length
        assert (
            session(batch["input_ids"], batch["attention_mask"]).logits.sub(alone.repeat(5, 1)).abs().max()
            < 1e-5
        )


def test_predict_and_evaluate_scripts_with_the_onnx_backend(trained_dir, exported, emotion_dir, test_texts):
    texts = test_texts[0][:5]
    outputs = {
        backend: [json.loads(line) for line in run_python(
            ["scripts/predict.py", "--model", model, "--backend", backend, "--top_k", "2", *texts]).stdout.splitlines()]
        for backend, model in (("torch", str(trained_dir)), ("onnx", str(exported)))
    }  # fmt: skip
    for torch_row, onnx_row in zip(outputs["torch"], outputs["onnx"], strict=True):
        assert [label["label"] for label in onnx_row["top_k"]] == [
            label["label"] for label in torch_row["top_k"]
        ]
        assert onnx_row["score"] == pytest.approx(torch_row["score"], abs=2e-6)
    metrics = {
        backend: run_python(
            [
                "scripts/evaluate_model.py",
                "--model",
                model,
                "--backend",
                backend,
                "--test_file",
                str(emotion_dir / "test.csv"),
            ]
        ).stdout.splitlines()[0]  # fmt: skip
        for backend, model in (("torch", str(trained_dir)), ("onnx", str(exported)))
    }
    assert metrics["onnx"] == metrics["torch"]  # "accuracy 0.8xxx  macro_f1 0.8xxx  (2000 texts)"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one_line_error(capsys, script: str, argv: list[str]) -> str:
    assert run_cli(load_script(script).main, argv) == 2
    message = capsys.readouterr().err
    assert message.startswith("error: ") and message.count("\n") == 1, message
    return message


def test_bad_input_is_one_line_and_exit_2(capsys, tiny_model_dir, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not a model")
    message = one_line_error(capsys, "export_onnx", ["--model", str(tmp_path / "notes"), "--output", "x"])
    assert "notes" in message
    assert not (tmp_path / "x").exists()
    assert "--backend 'tensorflow'" in one_line_error(
        capsys, "predict", ["--model", str(tiny_model_dir), "--backend", "tensorflow", "a text"]
    )
    exported = export_onnx(str(tiny_model_dir), tmp_path / "onnx")
    (exported / "tokenizer.json").unlink()
    assert "lacks tokenizer.json" in one_line_error(
        capsys, "predict", ["--model", str(exported), "--backend", "onnx", "a text"]
    )
    assert "no model.onnx" in one_line_error(
        capsys, "predict", ["--model", str(tiny_model_dir), "--backend", "onnx", "a text"]
    )
    assert "already exists" in one_line_error(
        capsys, "export_onnx", ["--model", str(tiny_model_dir), "--output", str(exported)]
    )
    assert (exported / "model.onnx").is_file()  # an existing export is left as it was
    assert "--quantize 'int4'" in one_line_error(
        capsys,
        "export_onnx",
        ["--model", str(tiny_model_dir), "--output", str(tmp_path / "q"), "--quantize", "int4"],
    )


def test_export_without_onnxruntime_says_what_to_install(capsys, monkeypatch, tiny_model_dir, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails
    message = one_line_error(
        capsys, "export_onnx", ["--model", str(tiny_model_dir), "--output", str(tmp_path / "x")]
    )
    assert "pip install" in message
    assert list(tmp_path.iterdir()) == []  # neither the export nor a half-written one


def test_a_model_folder_with_an_onnx_subfolder_is_found(tmp_path):
    (tmp_path / "onnx").mkdir()
    for name in ("model.onnx", "config.json", "tokenizer.json"):
        (tmp_path / "onnx" / name).write_text("{}")
    assert find_onnx_folder(str(tmp_path)) == tmp_path / "onnx"
