"""Gradio Space for an LSTM text classifier trained with modeling-lstm.

Run it locally against a trained folder (or a Hub repo id):

    MODEL_ID=outputs/emotion python space/app.py

Environment:
    MODEL_ID            a Hub repo id or a local folder; default: the first `models:` entry of this folder's README.md
    MODEL_REVISION      commit (or branch, tag) of a Hub repo; push_to_hub.py pins it to the pushed commit
    GRADIO_SERVER_NAME  address to listen on (Gradio's default 127.0.0.1; Spaces set 0.0.0.0)
    GRADIO_SERVER_PORT  port (Gradio's default 7860)

The folder deploys to a Hugging Face Space unchanged: it does not import the `modeling_lstm` package, the model's
code comes with the model (`trust_remote_code=True`).
"""

from __future__ import annotations

import os

# Before gradio and huggingface_hub are imported: the app phones no one.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import csv
import json
import queue
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import pandas as pd
import yaml
from inference import (
    ATTENTION,
    LEAVE_ONE_OUT,
    MAX_CHARS,
    MULTI_LABEL,
    REGRESSION,
    BatchingPredictor,
    InputError,
    ModelLoadError,
    Prediction,
    TextClassifier,
    check_encodable,
    check_text,
)

HERE = Path(__file__).resolve().parent
MAX_BATCH_TEXTS = 1_000
MAX_EXAMPLES = 8
# Batch results are written as CSV files for download (Gradio serves its own copy); only the newest few are kept.
KEPT_PREDICTION_FILES = 8
PREDICT_TIMEOUT_S = 300
METHOD_NAMES = {ATTENTION: "attention weights", LEAVE_ONE_OUT: "leave-one-token-out"}
EXPLANATIONS = {
    ATTENTION: (
        "Token contributions: **attention weights**. The model pools its per-token states with learned weights; "
        "the darker a token, the more it weighed in the prediction (scaled so the heaviest token is 1)."
    ),
    LEAVE_ONE_OUT: (
        "Token contributions: **leave-one-token-out**. Each token is removed in turn and the drop in the "
        "predicted class's probability is shown (scaled so the strongest token is 1 or -1): positive tokens "
        "support the prediction, negative ones argue against it."
    ),
}


@dataclass
class ModelInfo:
    """What the page says about the model: its name, labels, test accuracy and example texts."""

    model_id: str
    revision: str | None
    labels: list[str]
    test_accuracy: float | None = None
    examples: list[str] = field(default_factory=list)
    test_metric: str = "accuracy"  # what test_accuracy holds: accuracy, micro_f1 (multi-label) or pearson

    @property
    def name(self) -> str:
        return f"{self.model_id}@{self.revision}" if self.revision else self.model_id


def model_id_from_readme(readme: Path = HERE / "README.md") -> str | None:
    """The first `models:` entry of the Spaces YAML header (the push script writes the model repo there)."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return None
    if not text.startswith("---"):
        return None
    header = yaml.safe_load(text.split("---", 2)[1]) or {}
    models = header.get("models") or []
    return models[0] if models else None


def resolve_model() -> tuple[str, str | None]:
    model_id = os.environ.get("MODEL_ID") or model_id_from_readme()
    if not model_id:
        raise SystemExit(
            "No model: set MODEL_ID to a Hub repo id or a local folder (or list it under `models:`)."
        )
    return model_id, os.environ.get("MODEL_REVISION") or None


def read_results(model_id: str, revision: str | None) -> dict:
    """all_results.json from the model folder or repo (test accuracy, examples); {} when absent or unreadable."""
    try:
        if Path(model_id).is_dir():
            path = Path(model_id) / "all_results.json"
        else:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(model_id, "all_results.json", revision=revision))
        return json.loads(path.read_text(encoding="utf-8"))
    except Exception as error:  # an optional file: the page works without it
        reason = "absent" if isinstance(error, FileNotFoundError) else f"{type(error).__name__}: {error}"
        print(f"all_results.json not read ({reason}): no test accuracy or examples on the page")
        return {}


def model_info(model_id: str, revision: str | None, labels: list[str], results: dict) -> ModelInfo:
    # The headline test metric of the model's problem type: accuracy, micro-F1 (multi-label) or Pearson r.
    metric = next(
        (name for name in ("accuracy", "micro_f1", "pearson") if f"test_{name}" in results), "accuracy"
    )
    accuracy = results.get(f"test_{metric}")
    examples = [
        text for text in results.get("widget_examples") or [] if isinstance(text, str) and text.strip()
    ]
    return ModelInfo(
        model_id=model_id,
        revision=revision,
        labels=labels,
        test_accuracy=float(accuracy) if isinstance(accuracy, (int, float)) else None,
        examples=examples[:MAX_EXAMPLES],
        test_metric=metric,
    )


def highlight(text: str, prediction: Prediction) -> list[tuple[str, float | None]]:
    """The original text cut into (piece, score) pairs: tokens get a score in [-1, 1], the gaps None."""
    contributions = prediction.contributions or []
    largest = max((abs(score) for _, _, score in contributions), default=0.0) or 1.0
    pieces: list[tuple[str, float | None]] = []
    position = 0
    for start, end, score in contributions:
        if start > position:
            pieces.append((text[position:start], None))
        pieces.append((text[start:end], round(score / largest, 3)))
        position = end
    if position < len(text):
        pieces.append((text[position:], None))  # trailing whitespace, or the part the model did not read
    return pieces


def truncation_note(prediction: Prediction, max_tokens: int) -> str:
    """What the model did not read: the end past the tokenizer's limit, the middle a head_tail model skips."""
    notes = []
    if prediction.used_tokens < prediction.num_tokens:
        notes.append(
            f"⚠️ **Truncated:** the text has {prediction.num_tokens:,} tokens and the model takes in at most "
            f"{max_tokens:,}, so only the first {prediction.used_tokens:,} were kept: the text after character "
            f"{prediction.used_chars:,} was not read."
        )
    if prediction.skipped_chars:
        start, end = prediction.skipped_chars
        notes.append(
            f"⚠️ **Middle skipped:** this model reads the start and the end of what it takes in; the "
            f"{prediction.skipped_tokens:,} tokens from character {start + 1:,} to {end:,} (not highlighted) were "
            "not read."
        )
    return "\n\n".join(notes)


def footer(info: ModelInfo, method: str) -> str:
    title = {"accuracy": "Test accuracy", "micro_f1": "Test micro-F1", "pearson": "Test Pearson r"}[
        info.test_metric
    ]
    if info.test_accuracy is None:
        value = "not recorded"
    else:
        value = f"{info.test_accuracy:.3f}" if info.test_metric == "pearson" else f"{info.test_accuracy:.1%}"
    return (
        f"**Model:** `{info.name}` · **Labels:** {', '.join(info.labels)} · **{title}:** {value} · "
        f"**Token contributions:** {METHOD_NAMES[method]}"
    )


def read_batch(lines: str | None, upload: str | None) -> list[str]:
    """Texts for batch mode: a CSV's `text` column (or its only column), a .txt's lines, or the pasted lines."""
    if upload:
        path = Path(upload)
        if path.suffix.lower() == ".csv":
            try:
                table = pd.read_csv(path, dtype=str, keep_default_na=False)
            except (ValueError, csv.Error, UnicodeDecodeError) as error:
                raise InputError(f"Could not read {path.name} as CSV: {error}") from error
            columns = {str(column).strip().lower(): column for column in table.columns}
            if "text" in columns:
                column = columns["text"]
            elif len(table.columns) == 1:
                column = table.columns[0]
            else:
                raise InputError(
                    f"{path.name} has columns {', '.join(map(str, table.columns))}: name the one to classify `text`."
                )
            texts = table[column].tolist()
        else:
            texts = path.read_text(encoding="utf-8", errors="replace").splitlines()
    else:
        texts = (lines or "").splitlines()
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise InputError("No texts: paste one text per line, or upload a CSV with a `text` column.")
    if len(texts) > MAX_BATCH_TEXTS:
        raise InputError(f"{len(texts):,} texts; batch mode takes at most {MAX_BATCH_TEXTS:,} at a time.")
    for number, text in enumerate(texts, start=1):
        if len(text) > MAX_CHARS:
            raise InputError(f"Text {number} is {len(text):,} characters long; the limit is {MAX_CHARS:,}.")
        check_encodable(text, what=f"Text {number}")
    return texts


def write_predictions(table: pd.DataFrame, folder: Path, keep: int = KEPT_PREDICTION_FILES) -> Path:
    """Write `table` as `folder/predictions-*/predictions.csv` and delete all but the `keep` newest such files."""
    path = Path(tempfile.mkdtemp(prefix="predictions-", dir=folder)) / "predictions.csv"
    table.to_csv(path, index=False)
    written = sorted(folder.glob("predictions-*"), key=lambda entry: entry.stat().st_mtime_ns)
    for old in written[:-keep]:
        shutil.rmtree(old, ignore_errors=True)  # two requests may prune at once
    return path


def classify(
    predictor: BatchingPredictor, texts: list[str], explain: bool, progress: gr.Progress | None = None
) -> list[Prediction]:
    """The predictor's answer, or a gr.Error that says what failed (any other exception reaches the page blank).
    With `progress`, the page shows how many texts are done (Gradio's progress works in this thread only)."""
    steps: queue.SimpleQueue = queue.SimpleQueue()
    deadline = time.monotonic() + PREDICT_TIMEOUT_S
    try:
        future = predictor.submit(texts, explain, on_step=None if progress is None else steps.put)
        while progress is not None and not future.done() and time.monotonic() < deadline:
            try:
                progress((steps.get(timeout=1), len(texts)), desc="Classifying", unit="texts")
            except queue.Empty:
                pass
        return future.result(timeout=max(deadline - time.monotonic(), 0))
    except Exception as error:
        what = "this text" if len(texts) == 1 else f"these {len(texts):,} texts"
        raise gr.Error(f"The model could not classify {what} ({type(error).__name__}: {error}).") from error


def label_display(classifier, prediction: Prediction) -> dict[str, float] | None:
    """The Label component's value: every class's (or label's) probability, labels above their threshold marked
    with ✓; nothing for regression, whose values are not probabilities (the note shows them)."""
    if classifier.problem_type == REGRESSION:
        return None
    if classifier.problem_type == MULTI_LABEL:
        return {
            (f"{label} ✓" if label in prediction.labels else label): p
            for label, p in prediction.scores.items()
        }
    return prediction.scores


def decision_note(classifier, prediction: Prediction) -> str:
    """Multi-label: the labels at or above their threshold; regression: each target's value and training range."""
    if classifier.problem_type == MULTI_LABEL:
        chosen = ", ".join(
            f"**{label}** ({prediction.scores[label]:.2f} ≥ {classifier.thresholds[label]:g})"
            for label in prediction.labels
        )
        return f"**Labels above their threshold:** {chosen or 'none'}"
    if classifier.problem_type == REGRESSION:
        rows = [
            f"| {label} | {value:.3f} | "
            + (
                "{:g} to {:g}".format(*classifier.target_ranges[label])
                if label in classifier.target_ranges
                else "–"
            )
            + " |"
            for label, value in prediction.scores.items()
        ]
        return "\n".join(["| target | predicted | range in training |", "| --- | ---: | --- |", *rows])
    return ""


def one_text_handler(predictor: BatchingPredictor):
    classifier = predictor.classifier

    def predict(text: str):
        """Classify one text: every class's probability, each token's contribution, and a note if truncated."""
        try:
            text = check_text(text)
        except InputError as error:
            raise gr.Error(str(error), print_exception=False) from None
        (prediction,) = classify(predictor, [text], explain=True)
        notes = [decision_note(classifier, prediction), truncation_note(prediction, classifier.max_tokens)]
        return (
            label_display(classifier, prediction),
            highlight(text, prediction),
            "\n\n".join(note for note in notes if note),
        )

    return predict


def predictions_table(classifier, texts: list[str], predictions: list[Prediction]) -> pd.DataFrame:
    """One row per text: the predicted label (none for regression), each class's score, and whether truncated."""
    labels = classifier.labels
    regression = classifier.problem_type == REGRESSION
    score_columns = labels if regression else [f"p({label})" for label in labels]
    return pd.DataFrame(
        [
            [text, *([] if regression else [p.label]), *(round(p.scores[label], 4) for label in labels)]
            + [p.truncated]
            for text, p in zip(texts, predictions, strict=True)
        ],
        columns=["text", *([] if regression else ["label"]), *score_columns, "truncated"],
    )


def batch_handler(predictor: BatchingPredictor, prediction_files: Path):
    def predict_batch(lines: str, upload: str | None, progress=gr.Progress()):  # noqa: B008 - how Gradio asks for it
        """Classify many texts; returns the table and a CSV of it to download."""
        try:
            texts = read_batch(lines, upload)
        except InputError as error:
            raise gr.Error(str(error), print_exception=False) from None
        predictions = classify(predictor, texts, explain=False, progress=progress)
        table = predictions_table(predictor.classifier, texts, predictions)
        return table, str(write_predictions(table, prediction_files))

    return predict_batch


@dataclass
class OneTextTab:
    text: gr.Textbox
    button: gr.Button
    label: gr.Label
    tokens: gr.HighlightedText
    note: gr.Markdown


def one_text_tab(classifier, info: ModelInfo) -> OneTextTab:
    """The single-text tab: a text box with examples beside the prediction and the token contributions."""
    with gr.Tab("One text"), gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=4, placeholder="Type or paste a text", elem_id="text")
            button = gr.Button("Classify", variant="primary", elem_id="classify")
            if info.examples:
                gr.Examples([[example] for example in info.examples], inputs=[text], label="Examples")
        with gr.Column():
            label = gr.Label(label="Prediction", num_top_classes=len(classifier.labels), elem_id="label")
            tokens = gr.HighlightedText(
                label=f"Token contributions ({METHOD_NAMES[classifier.method]})", elem_id="tokens"
            )
            gr.Markdown(EXPLANATIONS[classifier.method])
            note = gr.Markdown(label="Note", elem_id="note")
    return OneTextTab(text, button, label, tokens, note)


@dataclass
class BatchTab:
    lines: gr.Textbox
    upload: gr.File
    button: gr.Button
    table: gr.Dataframe
    download: gr.File


def batch_tab() -> BatchTab:
    """The batch tab: pasted lines or an uploaded file beside the predictions table and its CSV."""
    with gr.Tab("Batch"), gr.Row():
        with gr.Column():
            lines = gr.Textbox(label="One text per line", lines=8, elem_id="lines")
            upload = gr.File(label="…or a CSV with a `text` column (or a .txt)", file_types=[".csv", ".txt"])
            button = gr.Button("Classify all", variant="primary")
        with gr.Column():
            table = gr.Dataframe(label="Predictions", wrap=True)
            download = gr.File(label="Download predictions (CSV)")
    return BatchTab(lines, upload, button, table, download)


def build_demo(predictor: BatchingPredictor, info: ModelInfo) -> gr.Blocks:
    classifier = predictor.classifier
    prediction_files = Path(tempfile.mkdtemp(prefix="space-predictions-"))
    # Gradio's copies of the downloads: every hour, delete those older than an hour.
    with gr.Blocks(title=f"LSTM classifier · {info.model_id}", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            f"# LSTM text classifier\nClassifies English text into: **{', '.join(classifier.labels)}**. "
            f"The model reads up to {classifier.max_tokens:,} tokens; texts up to {MAX_CHARS:,} characters."
        )
        single = one_text_tab(classifier, info)
        batch = batch_tab()
        gr.Markdown(footer(info, classifier.method), elem_id="model-footer")

        # Many requests wait at once in Gradio's worker threads; the predictor turns them into model batches.
        gr.on(
            [single.button.click, single.text.submit],
            one_text_handler(predictor),
            inputs=single.text,
            outputs=[single.label, single.tokens, single.note],
            api_name="predict",
            concurrency_limit=16,
        )
        batch.button.click(
            batch_handler(predictor, prediction_files),
            inputs=[batch.lines, batch.upload],
            outputs=[batch.table, batch.download],
            api_name="predict_batch",
        )
    demo.queue(max_size=512)
    return demo


def main():
    model_id, revision = resolve_model()
    print(f"Loading {model_id}" + (f" at {revision}" if revision else ""))
    try:
        classifier = TextClassifier.from_pretrained(model_id, revision=revision)
    except ModelLoadError as error:
        sys.exit(f"error: {error}")
    info = model_info(model_id, revision, classifier.labels, read_results(model_id, revision))
    demo = build_demo(BatchingPredictor(classifier), info)
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are read by launch(); the default theme's fonts ship with Gradio.
    demo.launch(theme=gr.themes.Default(), footer_links=["api"], max_file_size="10mb")


if __name__ == "__main__":
    main()
