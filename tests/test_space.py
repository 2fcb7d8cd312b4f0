"""The Gradio Space: served on 127.0.0.1 by `python space/app.py` with a tiny trained model, used via gradio_client."""

import ast
import csv
import importlib.metadata
import json
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml
from conftest import TINY_TEXTS
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from safetensors.torch import load_file, save_file
from space_helpers import (
    EXAMPLES,
    REPO_ROOT,
    SPACE_DIR,
    load_space_module,
    model_with_results,
    reverse_label_ids,
    running_space,
    subprocess_env,
)

# The Space's model numbers its classes against the alphabet, so that an alphabetical order anywhere shows.
LABELS = sorted(TINY_TEXTS, reverse=True)
TEXTS = [
    "what a wonderful lovely film",
    "i hated every minute of it",
    "great acting but a dull story",
    "Отличный фильм, 素晴らしい映画 😀",
]


@pytest.fixture(scope="module")
def space_model(tiny_model_dir, tmp_path_factory):
    model = model_with_results(tiny_model_dir, tmp_path_factory.mktemp("space") / "model")
    assert reverse_label_ids(model) == LABELS != sorted(LABELS)
    return model


@pytest.fixture(scope="module")
def space_tmp(tmp_path_factory):
    """The app's temporary folder (TMPDIR), to see which files it leaves there."""
    return tmp_path_factory.mktemp("space-tmp")


@pytest.fixture(scope="module")
def space_url(space_model, space_tmp, tmp_path_factory):
    """The app listens where GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say: 127.0.0.1 and a free port."""
    log = tmp_path_factory.mktemp("logs") / "app.log"
    with running_space(space_model, log, TMPDIR=str(space_tmp)) as url:
        yield url


@pytest.fixture(scope="module")
def client(space_url):
    return Client(space_url, verbose=False)


@pytest.fixture(scope="module")
def pipe(space_model):
    from transformers import pipeline

    return pipeline("text-classification", model=str(space_model), trust_remote_code=True, top_k=None)


@pytest.fixture(scope="module")
def inference():
    return load_space_module("inference")


def predict(client, text):
    return client.predict(text, api_name="/predict")


def confidences(label_output) -> dict[str, float]:
    return {item["label"]: item["confidence"] for item in label_output["confidences"]}


def raw_call(space_url: str, api_name: str, body: bytes) -> tuple[str, object]:
    """POST a request as raw JSON bytes (gradio_client cannot send a lone surrogate) and read the answer's event
    ("complete" or "error") and data from the event stream."""
    url = f"{space_url}gradio_api/call/{api_name}"
    posted = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    posted.raise_for_status()
    event = None
    with httpx.stream("GET", f"{url}/{posted.json()['event_id']}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event in ("complete", "error"):
                return event, json.loads(line.removeprefix("data: "))
    raise AssertionError("the event stream ended without an answer")


# --- the running app, through gradio_client ------------------------------------------------------------------


def test_predict_endpoint_takes_text_and_returns_the_label_first(client):
    endpoint = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/predict"]
    assert [p["component"] for p in endpoint["parameters"]] == ["Textbox"]
    assert [r["component"] for r in endpoint["returns"]] == ["Label", "Highlightedtext", "Markdown"]


def test_client_results_equal_pipeline_results(client, pipe):
    expected = pipe(TEXTS)
    for text, scores in zip(TEXTS, expected, strict=True):
        label, _, note = predict(client, text)
        assert label["label"] == scores[0]["label"]
        assert confidences(label) == pytest.approx({s["label"]: s["score"] for s in scores}, abs=1e-5)
        assert note == ""


def test_token_contributions_cover_the_original_text(client):
    text = "  I LOVED every minute,\n of it!  "
    _, pieces, _ = predict(client, text)
    assert "".join(piece["token"] for piece in pieces) == text  # offsets map onto the text as typed
    scored = {p["token"]: p["class_or_confidence"] for p in pieces if p["class_or_confidence"] is not None}
    assert {"I", "LOVED", "every", "minute", ",", "of", "it", "!"} == set(scored)
    # Attention pooling: the weights, scaled so that the heaviest token is 1.
    assert max(scored.values()) == 1.0
    assert all(0 <= score <= 1 for score in scored.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The text is empty"),
        ("  \n\t ", "The text is only whitespace"),
        ("x" * 100_000, "100,000 characters long; the limit is 20,000"),
    ],
    ids=["empty", "whitespace", "100k-chars"],
)
def test_bad_input_is_refused_with_a_message_and_the_server_stays_up(client, text, message):
    with pytest.raises(AppError, match=message):
        predict(client, text)
    assert predict(client, TEXTS[0])[0]["label"] in LABELS


def test_text_longer_than_the_model_reads_is_truncated_and_the_page_says_so(client, pipe):
    limit = pipe.tokenizer.model_max_length  # train_tokenizer's default, 128
    words = ("great acting and a great story " * 60).split()  # 360 tokens, over the limit
    text = " ".join(words)
    label, pieces, note = predict(client, text)
    assert "Truncated" in note and "360 tokens" in note and f"at most {limit}" in note
    assert "".join(piece["token"] for piece in pieces) == text
    assert sum(1 for piece in pieces if piece["class_or_confidence"] is not None) == limit
    unread = pieces[-1]
    assert unread["class_or_confidence"] is None and unread["token"].split() == words[limit:]
    (expected,) = pipe([" ".join(words[:limit])])
    assert confidences(label) == pytest.approx({s["label"]: s["score"] for s in expected}, abs=1e-5)


@pytest.mark.parametrize(
    "text",
    ["Отличный фильм", "素晴らしい映画です", "مرحبا بالعالم", "😀😀🎉", "what a film 👍🏽", "Ünïcödé ñ ß"],
)
def test_non_latin_scripts_and_emoji_get_a_result(client, text):
    label, pieces, _ = predict(client, text)
    assert label["label"] in LABELS
    assert sum(confidences(label).values()) == pytest.approx(1.0, abs=1e-5)
    assert "".join(piece["token"] for piece in pieces) == text


def test_page_footer_shows_model_labels_accuracy_and_examples(space_url, space_model):
    config = httpx.get(f"{space_url}config", timeout=10).text
    assert f"**Model:** `{space_model}`" in config
    assert "**Labels:** positive, negative" in config  # in id2label order
    assert "**Test accuracy:** 87.5%" in config
    assert all(example in config for example in EXAMPLES)


def test_batch_mode_from_pasted_lines(client, pipe):
    table, download = client.predict(
        "\n".join([TEXTS[0], "", "   ", *TEXTS[1:]]), None, api_name="/predict_batch"
    )
    assert table["headers"] == ["text", "label", "p(positive)", "p(negative)", "truncated"]  # id2label order
    assert [row[0] for row in table["data"]] == TEXTS  # blank lines skipped
    assert [row[1] for row in table["data"]] == [scores[0]["label"] for scores in pipe(TEXTS)]
    with open(download, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == table["headers"] and [row[:2] for row in rows[1:]] == [row[:2] for row in table["data"]]
    for row, scores in zip(table["data"], pipe(TEXTS), strict=True):
        by_label = {score["label"]: score["score"] for score in scores}
        assert row[2:4] == pytest.approx([by_label[label] for label in LABELS], abs=1e-4)


def test_batch_mode_from_an_uploaded_csv(client, pipe, tmp_path):
    path = tmp_path / "reviews.csv"
    texts = ['a "quoted", comma text: what a wonderful film', *TEXTS]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(texts))
    table, _ = client.predict("", handle_file(str(path)), api_name="/predict_batch")
    assert [row[0] for row in table["data"]] == texts
    assert [row[1] for row in table["data"]] == [scores[0]["label"] for scores in pipe(texts)]


def test_batch_mode_refuses_no_texts_and_csv_without_a_text_column(client, tmp_path):
    with pytest.raises(AppError, match="No texts"):
        client.predict("\n  \n", None, api_name="/predict_batch")
    path = tmp_path / "bad.csv"
    path.write_text("review,stars\ngood,5\n", encoding="utf-8")
    with pytest.raises(AppError, match="columns review, stars: name the one to classify `text`"):
        client.predict("", handle_file(str(path)), api_name="/predict_batch")


def test_200_requests_from_8_concurrent_clients_complete_without_error(space_url, pipe):
    texts = [f"{TEXTS[i % 3]} {i}" for i in range(200)]
    expected = [scores[0]["label"] for scores in pipe(texts)]
    clients = threading.local()

    def request(text: str) -> str:
        if not hasattr(clients, "client"):
            clients.client = Client(space_url, verbose=False)  # one client per thread, like separate users
        return clients.client.submit(text, api_name="/predict").result(timeout=120)[0]["label"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        labels = list(
            pool.map(request, texts, timeout=600)
        )  # a hang guard; speed is the benchmark's business
    assert labels == expected


def test_an_invalid_character_fails_only_its_own_request(space_url, client, pipe):
    """A lone surrogate (valid JSON, not Unicode) is refused with a message; requests sent with it succeed."""
    bad_body = b'{"data": ["i feel \\udcff happy"]}'
    with ThreadPoolExecutor(max_workers=4) as pool:
        bad = [pool.submit(raw_call, space_url, "predict", bad_body) for _ in range(4)]
        good = [client.submit(text, api_name="/predict") for text in TEXTS * 3]
        bad_batch = pool.submit(
            raw_call, space_url, "predict_batch", b'{"data": ["fine\\nbad \\udcff", null]}'
        )
        answers = [future.result(timeout=120) for future in bad]
        labels = [job.result(timeout=120)[0]["label"] for job in good]
        batch_answer = bad_batch.result(timeout=120)
    assert labels == [scores[0]["label"] for scores in pipe(TEXTS * 3)]
    for event, data in answers:
        assert event == "error"
        assert "invalid character at position 8" in str(data) and "surrogate" in str(data), data
    assert batch_answer[0] == "error" and "Text 2 has an invalid character at position 5" in str(
        batch_answer[1]
    )


def test_a_single_text_does_not_wait_for_a_big_batch(space_url, client):
    """A single text is answered while a batch of long texts (within the documented limits) is still running."""
    long_text = ("great acting and a dull story " * 700)[:19_999]
    batch = client.submit("\n".join([long_text] * 100), None, api_name="/predict_batch")
    for _ in range(1200):  # until the model has run part of the batch (the page shows its progress)
        if batch.status().progress_data or batch.done():
            break
        threading.Event().wait(0.1)
    assert predict(client, TEXTS[0])[0]["label"] in LABELS
    assert not batch.done(), "the single text was answered only after the batch"
    table, _ = batch.result(timeout=600)
    assert len(table["data"]) == 100


def test_batch_prediction_files_are_cleaned_up(client, space_tmp):
    app = load_space_module("app")
    downloads = [client.predict(f"{TEXTS[0]} {i}", None, api_name="/predict_batch")[1] for i in range(12)]
    (folder,) = space_tmp.glob("space-predictions-*")
    assert len(list(folder.glob("predictions-*/predictions.csv"))) == app.KEPT_PREDICTION_FILES
    with open(downloads[-1], encoding="utf-8") as file:  # the newest download is still there
        assert f"{TEXTS[0]} 11" in file.read()


# --- the Space folder itself ---------------------------------------------------------------------------------


def test_space_readme_header_and_requirements_pin_the_tested_versions():
    text = (SPACE_DIR / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(text.split("---", 2)[1])
    assert header["sdk"] == "gradio"
    assert header["sdk_version"] == importlib.metadata.version("gradio")
    assert (SPACE_DIR / header["app_file"]).is_file()
    assert header["models"] and "/" in header["models"][0]
    assert header["title"] and header["emoji"] and header["license"]
    assert 0 < len(header["short_description"]) <= 60  # the Hub's limit
    pins = {}
    for line in (SPACE_DIR / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, version = line.split("==")
            pins[name] = version
    assert {"torch", "transformers", "tokenizers", "safetensors", "huggingface_hub", "gradio"} <= set(pins)
    for name, version in pins.items():
        assert importlib.metadata.version(name).split("+")[0] == version, name


def test_space_code_needs_nothing_from_the_training_package():
    allowed = {"gradio", "pandas", "yaml", "torch", "transformers", "huggingface_hub", "inference"}
    for path in SPACE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in sys.stdlib_module_names, f"{path.name}: {name}"


def test_model_id_defaults_to_the_readme_models_entry(monkeypatch, tmp_path):
    app = load_space_module("app")
    header = yaml.safe_load((SPACE_DIR / "README.md").read_text(encoding="utf-8").split("---", 2)[1])
    monkeypatch.delenv("MODEL_ID", raising=False)
    monkeypatch.setenv("MODEL_REVISION", "v1")
    assert app.resolve_model() == (header["models"][0], "v1")
    monkeypatch.setenv("MODEL_ID", str(tmp_path))
    monkeypatch.delenv("MODEL_REVISION")
    assert app.resolve_model() == (str(tmp_path), None)
    (tmp_path / "README.md").write_text("# no header\n", encoding="utf-8")
    assert app.model_id_from_readme(tmp_path / "README.md") is None
    assert app.read_results(str(tmp_path), None) == {}  # no all_results.json: the page still works


# --- inference, in process -----------------------------------------------------------------------------------


def test_attention_contributions_are_the_models_pooling_weights(inference, space_model):
    import torch

    classifier = inference.TextClassifier.from_pretrained(str(space_model))
    assert classifier.method == inference.ATTENTION
    text = "what a wonderful lovely film"
    (prediction,) = classifier.predict([text], explain=True)
    encoded = classifier.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        weights = classifier.model(**encoded, output_attentions=True).attentions[0][0]
    assert [text[start:end] for start, end, _ in prediction.contributions] == text.split()
    assert [score for _, _, score in prediction.contributions] == pytest.approx(weights.tolist())


def test_predictions_come_back_in_the_order_of_the_texts(inference, space_model):
    """Texts are batched by length; each result still belongs to its own text."""
    classifier = inference.TextClassifier.from_pretrained(str(space_model), batch_size=2)
    texts = [
        "what a wonderful lovely film, i loved every minute of it",
        "dull",
        "i hated every minute of it",
        "great acting",
        "the worst movie this year, awful acting and a dull story",
    ]
    together = classifier.predict(texts)
    alone = [classifier.predict([text])[0] for text in texts]
    assert [p.num_tokens for p in together] == [p.num_tokens for p in alone]
    for mixed, single in zip(together, alone, strict=True):
        assert mixed.label == single.label
        assert mixed.scores == pytest.approx(single.scores, abs=1e-6)


def test_leave_one_out_scores_are_the_drop_when_a_token_is_removed(inference, tiny_texts_and_labels):
    import torch

    from modeling_lstm import LSTMConfig, LSTMForSequenceClassification, train_tokenizer

    texts, _, names = tiny_texts_and_labels
    tokenizer = train_tokenizer(texts, vocab_size=200, kind="wordpiece", min_frequency=1, lowercase=True)
    torch.manual_seed(0)
    config = LSTMConfig(
        vocab_size=len(tokenizer),
        embedding_dim=8,
        hidden_size=8,
        pooling="mean",
        id2label=dict(enumerate(names)),
    )
    classifier = inference.TextClassifier(LSTMForSequenceClassification(config), tokenizer, batch_size=2)
    assert classifier.method == inference.LEAVE_ONE_OUT

    text = "i loved every minute of it"
    (full,) = classifier.predict([text], explain=True)
    words = text.split()
    without = classifier.predict([" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))])
    expected = [full.scores[full.label] - p.scores[full.label] for p in without]
    assert [text[start:end] for start, end, _ in full.contributions] == words
    assert [score for _, _, score in full.contributions] == pytest.approx(expected, abs=1e-6)


class BlockingStub:
    """A classifier whose first call blocks until released, so that the next requests queue up behind it; it
    records the texts of every call and fails any call that holds "boom"."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = []

    def predict(self, texts, explain=False):
        self.calls.append(list(texts))
        if len(self.calls) == 1:
            self.started.set()
            assert self.release.wait(10)
        if "boom" in texts:
            raise RuntimeError("model failed")
        return [f"p({text})" for text in texts]


def test_batching_predictor_merges_waiting_requests_and_fails_only_the_bad_one(inference):
    stub = BlockingStub()
    predictor = inference.BatchingPredictor(stub, max_batch_size=32)
    first = predictor.submit(["first"])
    assert stub.started.wait(10)
    waiting = [predictor.submit([f"t{i}"]) for i in range(2)]
    bad = predictor.submit(["boom"])
    waiting += [predictor.submit([f"t{i}"]) for i in range(2, 5)]
    stub.release.set()
    assert first.result(timeout=10) == ["p(first)"]
    assert [future.result(timeout=10) for future in waiting] == [[f"p(t{i})"] for i in range(5)]
    with pytest.raises(RuntimeError, match="model failed"):
        bad.result(timeout=10)
    merged = ["t0", "t1", "t2", "t3", "t4", "boom"]  # shortest first: the six waiting requests as one batch
    assert stub.calls[:2] == [["first"], merged]
    assert sorted(map(tuple, stub.calls[2:])) == sorted((text,) for text in merged)  # then one by one
    assert predictor.predict(["still", "alive"]) == ["p(still)", "p(alive)"]


def test_batching_predictor_runs_a_single_text_before_the_rest_of_a_big_batch(inference):
    stub = BlockingStub()
    predictor = inference.BatchingPredictor(stub, max_batch_size=4, max_step_chars=25)
    texts = [f"{i}" + "x" * 9 for i in range(6)]  # 10 characters each: 2 per step
    big = predictor.submit(texts)
    assert stub.started.wait(10)
    single = predictor.submit(["single"])
    stub.release.set()
    assert single.result(timeout=10) == ["p(single)"]
    assert big.result(timeout=10) == [f"p({text})" for text in texts]
    # The single text ran in the next step, first, with what the step had room for.
    assert stub.calls == [texts[0:2], ["single", texts[2]], texts[3:5], texts[5:]]


def test_check_text_limits(inference):
    assert inference.check_text("ok") == "ok"
    assert inference.check_text("x" * inference.MAX_CHARS)
    with pytest.raises(inference.InputError, match="limit is 20,000"):
        inference.check_text("x" * (inference.MAX_CHARS + 1))
    with pytest.raises(inference.InputError, match="empty"):
        inference.check_text(None)


def test_highlight_tiles_the_text_and_scales_scores_to_plus_minus_one(inference):
    app = load_space_module("app")
    text = "good, not bad  and more"
    prediction = inference.Prediction(
        label="positive",
        scores={"negative": 0.2, "positive": 0.8},
        num_tokens=6,
        used_tokens=4,
        used_chars=13,
        contributions=[(0, 4, 0.2), (4, 5, 0.0), (6, 9, -0.4), (10, 13, 0.1)],  # leave-one-out drops
    )
    assert app.highlight(text, prediction) == [
        ("good", 0.5),
        (",", 0.0),
        (" ", None),
        ("not", -1.0),
        (" ", None),
        ("bad", 0.25),
        ("  and more", None),  # not read: after the truncation point
    ]
    assert "6 tokens" in app.truncation_note(prediction, max_tokens=4)


def test_app_refuses_a_model_whose_weights_lack_tensors(space_model, tmp_path):
    """A folder saved by another version of the model would load with random weights: the app says so and stops."""
    folder = tmp_path / "old-model"
    shutil.copytree(space_model, folder)
    weights = load_file(folder / "model.safetensors")
    del weights["lstm.encoder.layers.0.weight_hh_l0"]
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})

    app = subprocess.run(
        [sys.executable, str(SPACE_DIR / "app.py")],
        cwd=REPO_ROOT,
        env=subprocess_env(MODEL_ID=str(folder)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert app.returncode == 1
    assert app.stderr.strip().splitlines()[-1] == (
        f"error: {folder}: the saved weights lack 1 of the model's tensors (lstm.encoder.layers.0.weight_hh_l0); "
        "it was saved by another version of the model: retrain it"
    )
    assert "Traceback" not in app.stderr


def head_tail_classifier(inference, space_model, folder, max_tokens=None):
    """The Space's model read as head_tail with max_seq_length 8: 4 tokens at each end."""
    shutil.copytree(space_model, folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config.update(long_text_strategy="head_tail", max_seq_length=8)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return inference.TextClassifier.from_pretrained(str(folder), max_tokens=max_tokens)


HEAD_TAIL_WORDS = "great acting and a great story i loved every minute of it the best movie this year".split()


def test_a_head_tail_model_reports_the_middle_it_skips(inference, space_model, tmp_path):
    """Changing the text inside the reported span leaves the scores as they are; changing the last word before it
    or the first after it does not. The span is not highlighted and the page's note names it."""
    classifier = head_tail_classifier(inference, space_model, tmp_path / "head_tail")
    words, text = HEAD_TAIL_WORDS, " ".join(HEAD_TAIL_WORDS)
    short_text = "great acting and a great story"

    medium_text = " ".join(words[:12])  # padded in the batch beside `text`
    prediction, medium, short = classifier.predict([text, medium_text, short_text], explain=True)
    assert [medium_text[s:e] for s, e, _ in medium.contributions] == words[:4] + words[8:12]
    start, end = prediction.skipped_chars
    assert prediction.truncated and prediction.skipped_tokens == len(words) - 8
    read = [text[s:e] for s, e, _ in prediction.contributions]
    assert text[:start].split() == read[:4] and text[end:].split() == read[4:]
    assert short.skipped_chars is None and not short.truncated
    (alone,) = classifier.predict([text])  # the same alone as in a batch
    assert (alone.skipped_chars, alone.used_chars) == (prediction.skipped_chars, prediction.used_chars)
    assert alone.scores == pytest.approx(prediction.scores, abs=1e-6)

    def scores(changed: str) -> dict:
        return classifier.predict([changed])[0].scores

    assert scores(text[:start] + "awful dull boring" + text[end:]) == pytest.approx(
        prediction.scores, abs=1e-6
    )
    before, after = text[:start].rstrip().rsplit(" ", 1)[0], text[end:].lstrip().split(" ", 1)[1]
    assert scores(f"{text[:end]} awful {after}") != pytest.approx(prediction.scores, abs=1e-6)
    assert scores(f"{before} awful {text[start:]}") != pytest.approx(prediction.scores, abs=1e-6)

    app = load_space_module("app")
    note = app.truncation_note(prediction, classifier.max_tokens)
    assert "Middle skipped" in note and f"{len(words) - 8} tokens" in note and "Truncated" not in note
    assert any(text[start:end] in piece for piece, score in app.highlight(text, prediction) if score is None)
    assert app.truncation_note(short, classifier.max_tokens) == ""


def test_a_head_tail_model_past_the_tokenizers_limit_reads_the_ends_of_what_it_kept(
    inference, space_model, tmp_path
):
    """The tokenizer keeps 12 of the 17 tokens; the model reads the first 4 and the last 4 of those 12."""
    classifier = head_tail_classifier(inference, space_model, tmp_path / "head_tail", max_tokens=12)
    words, text = HEAD_TAIL_WORDS, " ".join(HEAD_TAIL_WORDS)
    (prediction,) = classifier.predict([text], explain=True)
    assert [text[s:e] for s, e, _ in prediction.contributions] == words[:4] + words[8:12]
    start, end = prediction.skipped_chars
    assert text[start:end].split() == words[4:8] and text[: prediction.used_chars].split() == words[:12]
    changed = " ".join(words[:4] + ["awful"] * 4 + words[8:12] + ["dull", "boring"])
    assert classifier.predict([changed])[0].scores == pytest.approx(prediction.scores, abs=1e-6)
    note = load_space_module("app").truncation_note(prediction, classifier.max_tokens)
    assert "Truncated" in note and "17 tokens" in note and "at most 12" in note
    assert (
        f"after character {prediction.used_chars}" in note and "Middle skipped" in note and "4 tokens" in note
    )
