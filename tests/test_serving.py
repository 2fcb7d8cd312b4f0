"""The serving files shipped in every model folder: the fast pipeline, the Inference Endpoints handler, and the
ONNX export pushed under onnx/. Each runs in a fresh process that cannot import this package."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, TINY_TEXTS, subprocess_env
from hub_fixtures import hub_subprocess_env, run_push_script, run_python

from modeling_lstm.serving import CUSTOM_PIPELINES, SERVING_FILES, add_serving_files

WITHOUT_PACKAGE = 'import sys\nsys.modules["modeling_lstm"] = None  # the folder must not need this package\n'
TEXTS = [
    *TINY_TEXTS["positive"][:4],
    "",
    "an unseen sentence about something else entirely, much longer",
    "bad",
]


@pytest.fixture(scope="module")
def served_dir(tiny_model_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("served") / "model"
    shutil.copytree(tiny_model_dir, path)
    add_serving_files(path)
    return path


def test_serving_files_are_added_and_the_pipeline_registered(served_dir):
    assert all((served_dir / name).is_file() for name in SERVING_FILES)
    config = json.loads((served_dir / "config.json").read_text())
    assert config["custom_pipelines"] == CUSTOM_PIPELINES
    assert config["auto_map"]  # the rest of the config is kept


PIPELINES = (
    WITHOUT_PACKAGE
    + """
import json
from transformers import TextClassificationPipeline, pipeline

folder, texts = sys.argv[1], json.loads(sys.argv[2])
fast = pipeline("text-classification", model=folder, trust_remote_code=True)
stock = pipeline("text-classification", model=folder, trust_remote_code=True, pipeline_class=TextClassificationPipeline)
calls = [((texts,), {}), ((texts,), {"top_k": None}), ((texts,), {"top_k": 2, "batch_size": 3}),
         ((texts,), {"function_to_apply": "sigmoid", "top_k": None}), ((texts[0],), {})]
print(json.dumps({"class": type(fast).__name__, "empty": fast([]),  # the stock pipeline raises IndexError
                  "fast": [fast(*args, **kwargs) for args, kwargs in calls],
                  "stock": [stock(*args, **kwargs) for args, kwargs in calls]}))
"""
)


def assert_same_results(actual, expected):
    """Nested lists/dicts of {"label", "score"}: same structure and labels, scores within 1e-5."""
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same_results(a, e)
    else:
        assert actual["label"] == expected["label"]
        assert actual["score"] == pytest.approx(expected["score"], abs=1e-5)


def test_the_shipped_pipeline_gives_the_stock_pipelines_results(served_dir, tmp_path):
    result = run_python(PIPELINES, subprocess_env(), args=[str(served_dir), json.dumps(TEXTS)], cwd=tmp_path)
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["class"] == "LSTMTextClassificationPipeline"
    assert answer["empty"] == []
    for fast, stock in zip(answer["fast"], answer["stock"], strict=True):
        assert_same_results(fast, stock)


HANDLER = (
    WITHOUT_PACKAGE
    + """
import importlib.util, json, traceback
from transformers import pipeline

folder = sys.argv[1]
spec = importlib.util.spec_from_file_location("handler", f"{folder}/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
handler = module.EndpointHandler(path=folder)
reference = pipeline("text-classification", model=folder, trust_remote_code=True)
good = [({"inputs": "a great film"}, reference("a great film")),
        ({"inputs": ["a great film", "awful"], "parameters": {"top_k": 2}}, reference(["a great film", "awful"], top_k=2)),
        ({"inputs": ["awful"], "parameters": {"top_k": None}}, reference(["awful"], top_k=None))]
answers = [[handler(data), expected] for data, expected in good]
errors = []
for data in ({}, "a text", {"inputs": 5}, {"inputs": ["fine", 3]}, {"inputs": ["a text"] * 10000},
             {"inputs": "a", "parameters": {"top_k": 0}}, {"inputs": "a", "parameters": {"top_k": True}},
             {"inputs": "a", "parameters": {"colour": "red"}}, {"inputs": "a", "parameters": "top_k=2"},
             {"inputs": "a", "parameters": {"function_to_apply": "relu"}}):
    try:
        handler(data)
        errors.append(None)
    except ValueError as error:
        errors.append([str(error), traceback.extract_tb(error.__traceback__)[-1].filename])
print(json.dumps({"answers": answers, "errors": errors}))
"""
)


def test_the_handler_answers_like_pipeline_and_rejects_bad_requests_clearly(served_dir, tmp_path):
    result = run_python(HANDLER, subprocess_env(), args=[str(served_dir)], cwd=tmp_path)
    answer = json.loads(result.stdout.splitlines()[-1])
    for actual, expected in answer["answers"]:
        assert_same_results(actual, expected)
    messages = []
    for error in answer["errors"]:
        assert error is not None  # every bad request raised a ValueError...
        message, raised_in = error
        assert (
            raised_in.endswith("handler.py") and "\n" not in message
        )  # ...of one line, from the handler itself
        messages.append(message)
    assert '"inputs"' in messages[0] and "JSON object" in messages[1]
    assert "int" in messages[2] and '"inputs"[1]' in messages[3] and "10000 texts" in messages[4]
    assert all('"top_k"' in message for message in messages[5:7])
    assert "colour" in messages[7] and "str" in messages[8] and "relu" in messages[9]


def onnx_snippet(card: str) -> str:
    """The card's ONNX Runtime example."""
    section = card.split("### Without PyTorch: ONNX Runtime", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_push_with_include_onnx_uploads_the_export_and_the_cards_example_runs_without_torch(
    hub_server, trained_model_dir, tmp_path
):
    repo_id = "test-user/lstm-tiny-onnx"
    env = hub_subprocess_env(hub_server, tmp_path / "hf-home")
    result = run_push_script(
        ["--model_dir", str(trained_model_dir), "--repo_id", repo_id, "--include_onnx"], env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    files = set(hub_server.files(repo_id))
    assert {
        "onnx/model.onnx",
        "onnx/config.json",
        "onnx/tokenizer.json",
        "onnx/tokenizer_config.json",
    } <= files
    assert set(SERVING_FILES) <= files
    assert json.loads(hub_server.read_file(repo_id, "config.json"))["custom_pipelines"] == CUSTOM_PIPELINES
    assert not (trained_model_dir / "handler.py").exists()  # the local folder is only read
    snippet = onnx_snippet(hub_server.read_file(repo_id, "README.md").decode())
    printed = run_python('import sys\nsys.modules["torch"] = None\n' + snippet, env, cwd=tmp_path).stdout
    labels, texts = zip(*(line.split(" ", 1) for line in printed.splitlines()), strict=True)
    expected = run_python(
        "import json, sys\nfrom transformers import pipeline\n"
        f"print(json.dumps(pipeline('text-classification', model={repo_id!r}, trust_remote_code=True)"
        "(json.loads(sys.argv[1]))))",
        env,
        args=[json.dumps(texts)],
    ).stdout
    assert list(labels) == [row["label"] for row in json.loads(expected.splitlines()[-1])]
    predicted = subprocess.run(
        [sys.executable, "scripts/predict.py", "--model", repo_id, "--backend", "onnx", *texts],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    assert [json.loads(line)["label"] for line in predicted.splitlines()] == list(labels)


MULTI_LABELS = ["zeta", "alpha", "mid"]  # not alphabetical: a label order mixed up anywhere shows


def retyped_copy(tiny_model_dir, path, labels, **fields):
    """tiny_model_dir's tokenizer with an untrained model of another problem type, serving files added."""
    import torch

    from modeling_lstm import LSTMConfig, LSTMForSequenceClassification

    shutil.copytree(tiny_model_dir, path)
    vocab_size = LSTMConfig.from_pretrained(tiny_model_dir).vocab_size
    config = LSTMConfig(
        vocab_size=vocab_size, embedding_dim=16, hidden_size=16, id2label=dict(enumerate(labels)), **fields
    )
    torch.manual_seed(0)
    model = LSTMForSequenceClassification(config).eval()
    model.save_pretrained(path)
    add_serving_files(path)
    return model


@pytest.fixture(scope="module")
def multi_label_dir(tiny_model_dir, tmp_path_factory):
    """Thresholds: "zeta" always reached, "alpha" never, "mid" by some texts only."""
    from transformers import AutoTokenizer

    path = tmp_path_factory.mktemp("multi") / "model"
    model = retyped_copy(tiny_model_dir, path, MULTI_LABELS, problem_type="multi_label_classification")
    batch = AutoTokenizer.from_pretrained(path)(TEXTS, padding=True, return_tensors="pt")
    middle = model(**batch).logits.sigmoid()[:, MULTI_LABELS.index("mid")].mean().item()
    model.config.thresholds = [0.001, 0.999, middle]
    model.config.save_pretrained(path)
    add_serving_files(path)
    return path


HANDLER_BY_TYPE = (
    WITHOUT_PACKAGE
    + """
import importlib.util, json
from transformers import pipeline

folder, texts = sys.argv[1], json.loads(sys.argv[2])
spec = importlib.util.spec_from_file_location("handler", f"{folder}/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
handler = module.EndpointHandler(path=folder)
reference = pipeline("text-classification", model=folder, trust_remote_code=True)
try:
    handler({"inputs": "a", "parameters": {"function_to_apply": "softmax"}})
    refused = None
except ValueError as error:
    refused = str(error)
print(json.dumps({"many": handler({"inputs": texts}), "one": handler({"inputs": texts[0]}),
                  "top_2": handler({"inputs": texts, "parameters": {"top_k": 2}}),
                  "reference": reference(texts, top_k=None), "refused": refused}))
"""
)


def test_the_handler_marks_the_labels_at_their_saved_thresholds(multi_label_dir, tmp_path):
    args = [str(multi_label_dir), json.dumps(TEXTS)]
    answer = json.loads(
        run_python(HANDLER_BY_TYPE, subprocess_env(), args=args, cwd=tmp_path).stdout.splitlines()[-1]
    )
    saved = json.loads((multi_label_dir / "config.json").read_text())["thresholds"]
    thresholds = dict(zip(MULTI_LABELS, saved, strict=True))
    assert_same_results(answer["many"], answer["reference"])  # every label, the pipeline's sigmoid scores
    assert_same_results(answer["one"], answer["reference"][0])
    for text_answer in answer["many"]:
        above = {entry["label"] for entry in text_answer if entry["above_threshold"]}
        assert above == {
            entry["label"] for entry in text_answer if entry["score"] >= thresholds[entry["label"]]
        }
        assert "zeta" in above and "alpha" not in above
    mid = [
        entry["above_threshold"]
        for text_answer in answer["many"]
        for entry in text_answer
        if entry["label"] == "mid"
    ]
    assert True in mid and False in mid  # the per-label threshold decides, not one for all
    assert [len(text_answer) for text_answer in answer["top_2"]] == [2] * len(TEXTS)
    assert "sigmoid" in answer["refused"]


def test_the_handler_returns_every_regression_targets_raw_value(tiny_model_dir, tmp_path):
    path = tmp_path / "regression"
    retyped_copy(
        tiny_model_dir,
        path,
        ["valence", "arousal"],
        problem_type="regression",
        target_mean=[3.0, -2.0],
        target_std=[1.0, 1.0],
    )
    args = [str(path), json.dumps(TEXTS)]
    answer = json.loads(
        run_python(HANDLER_BY_TYPE, subprocess_env(), args=args, cwd=tmp_path).stdout.splitlines()[-1]
    )
    assert_same_results(answer["many"], answer["reference"])
    for text_answer in answer["many"]:
        assert {entry["label"] for entry in text_answer} == {"valence", "arousal"}
        assert not all(0 < entry["score"] < 1 for entry in text_answer)  # raw values, no sigmoid
