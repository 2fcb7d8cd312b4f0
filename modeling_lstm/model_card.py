"""The model card (README.md) of a trained model folder: Hub metadata plus a body that explains the run.

Everything comes from the files training writes next to the weights (config.json, all_results.json,
training_args.yaml, the plots); the metadata is a `huggingface_hub.ModelCardData` whose `EvalResult`s become the
`model-index`, and the body is the Jinja template `templates/modelcard.md`. Nothing here imports torch.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .errors import UserInputError

TASK = "text-classification"
TAGS = ["text-classification", "lstm", "pytorch", "custom_code", "modeling-lstm"]
SINGLE_LABEL, MULTI_LABEL, REGRESSION = (
    "single_label_classification",
    "multi_label_classification",
    "regression",
)
# Per problem type: (key suffix in all_results.json, model-index metric type, display name, metric args)
METRICS = {
    SINGLE_LABEL: (
        ("accuracy", "accuracy", "Accuracy", None),
        ("macro_f1", "f1", "Macro F1", {"average": "macro"}),
    ),
    MULTI_LABEL: (
        ("micro_f1", "f1", "Micro F1", {"average": "micro"}),
        ("macro_f1", "f1", "Macro F1", {"average": "macro"}),
    ),
    REGRESSION: (
        ("pearson", "pearsonr", "Pearson r (mean over targets)", None),
        ("spearman", "spearmanr", "Spearman rho (mean over targets)", None),
        ("mae", "mae", "MAE (mean over targets)", None),
    ),
}
# The columns of the results table: (key suffix, header, as a percentage)
RESULT_COLUMNS = {
    SINGLE_LABEL: (("accuracy", "accuracy (%)", True), ("macro_f1", "macro F1 (%)", True)),
    MULTI_LABEL: (
        ("micro_f1", "micro F1 (%)", True),
        ("macro_f1", "macro F1 (%)", True),
        ("samples_f1", "samples F1 (%)", True),
        ("subset_accuracy", "exact match (%)", True),
        ("hamming_loss", "Hamming loss", False),
    ),
    REGRESSION: (
        ("pearson", "Pearson r", False),
        ("spearman", "Spearman rho", False),
        ("mae", "MAE", False),
        ("rmse", "RMSE", False),
        ("r2", "R²", False),
    ),
}
SPLIT_ORDER = ("validation", "eval", "test")  # order of the results tables; the headline prefers the last
PLOT_TITLES = {"training_curves.png": "Training curves", "confusion_matrix.png": "Confusion matrix"}
FALLBACK_EXAMPLES = ["I really enjoyed this, it was wonderful.", "This was a complete waste of time."]
# Keys that may hold a credential; they never reach a card or an uploaded file.
SECRET_KEYS = {"hub_token", "token", "hf_token", "use_auth_token", "api_key"}
# Settings that say where files went or how the run was operated, not how the model was made.
OPERATIONAL_KEYS = {
    "output_dir", "overwrite_output_dir", "push_to_hub", "hub_model_id", "hub_private_repo", "resume_from_checkpoint",
    "report_to", "logging_dir", "dataloader_num_workers", "preprocessing_num_workers", "checkpointing_steps",
    "save_total_limit", "use_cpu",
}  # fmt: skip
SECRET_ARGUMENT = re.compile(r"\s*--(?:hub[_-]token|token|hf[_-]token)(?:=|\s+)\S+")
HF_TOKEN_LIKE = re.compile(r"\bhf_[A-Za-z0-9_-]{16,}")


@dataclass
class TrainedRun:
    """What a trained model folder records about its run; optional files read as empty."""

    model_dir: Path
    config: dict
    results: dict
    training_args: dict
    tokenizer_config: dict
    tokenizer_model_type: str | None
    num_parameters: int

    @property
    def labels(self) -> list[str]:
        id2label = self.config.get("id2label") or {}
        return [id2label[key] for key in sorted(id2label, key=int)]

    @property
    def problem_type(self) -> str:
        return self.config.get("problem_type") or SINGLE_LABEL

    @property
    def splits(self) -> list[str]:
        """Evaluated splits (those with the problem type's first metric), validation before test."""
        suffix = f"_{METRICS[self.problem_type][0][0]}"
        found = [
            split
            for key in self.results
            if key.endswith(suffix)
            and (split := key.removesuffix(suffix)) not in ("train", "")
            and not any(
                split.endswith(f"_{label}") for label in self.labels
            )  # regression: <split>_<target>_...
        ]
        return sorted(found, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else -1, s))

    @property
    def plots(self) -> list[str]:
        """PNG files in the folder, the known plots first."""
        names = sorted(path.name for path in self.model_dir.glob("*.png"))
        return sorted(
            names, key=lambda name: list(PLOT_TITLES).index(name) if name in PLOT_TITLES else len(names)
        )

    @property
    def data_args(self) -> dict:
        return self.training_args.get("data") or {}


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserInputError(f"cannot read {path}: {error}") from error
    if not isinstance(value, dict):
        raise UserInputError(f"{path} must hold a JSON object")
    return value


def _read_optional_json(path: Path) -> dict:
    return _read_json(path) if path.is_file() else {}


def _read_optional_yaml(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UserInputError(f"cannot read {path}: {error}".replace("\n", " ")) from error
    return value if isinstance(value, dict) else {}


def count_parameters(safetensors_file: Path) -> int:
    """Parameter count from the safetensors header alone (8-byte length, then JSON), without loading tensors."""
    with open(safetensors_file, "rb") as file:
        header = json.loads(file.read(int.from_bytes(file.read(8), "little")))
    return sum(math.prod(entry["shape"]) for name, entry in header.items() if name != "__metadata__")


def load_run(model_dir: str | Path) -> TrainedRun:
    model_dir = Path(model_dir)
    tokenizer = _read_optional_json(model_dir / "tokenizer.json")
    return TrainedRun(
        model_dir=model_dir,
        config=_read_json(model_dir / "config.json"),
        results=_read_optional_json(model_dir / "all_results.json"),
        training_args=_read_optional_yaml(model_dir / "training_args.yaml"),
        tokenizer_config=_read_optional_json(model_dir / "tokenizer_config.json"),
        tokenizer_model_type=(tokenizer.get("model") or {}).get("type"),
        num_parameters=count_parameters(model_dir / "model.safetensors"),
    )


# --- secrets ---------------------------------------------------------------------------------------------------


def redact_command(command: str) -> str:
    """The command without credentials: `--hub_token X` is dropped (HF_TOKEN or the login does the job)."""
    return HF_TOKEN_LIKE.sub("<redacted>", SECRET_ARGUMENT.sub("", command)).strip()


def redact_secrets(value):
    """A copy of a parsed YAML/JSON value without credential keys, with redacted strings."""
    if isinstance(value, dict):
        return {k: redact_secrets(v) for k, v in value.items() if str(k).lower() not in SECRET_KEYS}
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    if isinstance(value, str):
        return redact_command(value) if ("--" in value or "hf_" in value) else value
    return value


# --- metadata ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetRef:
    hub_id: str | None  # a Hub dataset id when training loaded one by name
    type: str  # model-index `dataset.type`
    name: str  # human-readable name
    config: str | None


def dataset_ref(data_args: dict) -> DatasetRef:
    if data_args.get("dataset_name"):
        name, config = str(data_args["dataset_name"]), data_args.get("dataset_config_name")
        return DatasetRef(name, name, name if not config else f"{name} ({config})", config)
    # Local data is named after its folder (../shared/datasets/emotion/train.csv -> "emotion").
    # One file per split in older records, a list of files or patterns now.
    values = [data_args.get(key) or [] for key in ("train_file", "validation_file", "test_file")]
    files = [Path(str(file)) for value in values for file in ([value] if isinstance(value, str) else value)]
    folder = Path(str(data_args["data_dir"])).name if data_args.get("data_dir") else None
    if files and not folder:
        folder = files[0].parent.name or files[0].stem
    if folder:
        return DatasetRef(None, folder, f"{folder} (local files)", None)
    return DatasetRef(None, "local-data", "local data (not recorded)", None)


def card_metrics(run: TrainedRun) -> list[tuple]:
    """The model-index metrics: the problem type's, and for several regression targets each one's Pearson r."""
    metrics = list(METRICS[run.problem_type])
    if run.problem_type == REGRESSION and len(run.labels) > 1:
        metrics += [(f"{label}_pearson", "pearsonr", f"Pearson r ({label})", None) for label in run.labels]
    return metrics


def eval_results(run: TrainedRun, dataset: DatasetRef) -> list[EvalResult]:
    results = []
    for split in run.splits:
        for suffix, metric_type, metric_name, metric_args in card_metrics(run):
            value = run.results.get(f"{split}_{suffix}")
            if value is None:
                continue
            results.append(
                EvalResult(
                    task_type=TASK,
                    task_name="Text Classification",
                    dataset_type=dataset.type,
                    dataset_name=dataset.name,
                    dataset_config=dataset.config,
                    dataset_split=split,
                    metric_type=metric_type,
                    metric_name=metric_name,
                    metric_value=value,
                    metric_args=metric_args,
                )
            )
    return results


def widget_examples(run: TrainedRun, limit: int = 5) -> list[str]:
    examples = [str(text) for text in run.results.get("widget_examples") or [] if str(text).strip()]
    return examples[:limit]


def card_metadata(run: TrainedRun, repo_id: str, license: str = "apache-2.0") -> ModelCardData:
    dataset = dataset_ref(run.data_args)
    results = eval_results(run, dataset)
    extra = {}
    if examples := widget_examples(run):
        extra["widget"] = [{"text": text} for text in examples]
    return ModelCardData(
        model_name=repo_id.split("/")[-1],
        license=license,
        library_name="transformers",
        pipeline_tag=TASK,
        tags=TAGS,
        datasets=[dataset.hub_id] if dataset.hub_id else None,
        language=run.data_args.get("language"),
        metrics=list(dict.fromkeys(metric_type for _, metric_type, _, _ in METRICS[run.problem_type]))
        if results
        else None,
        eval_results=results or None,
        **extra,
    )


# --- body --------------------------------------------------------------------------------------------------------


def markdown_table(header: list[str], rows: list[list], right_align: tuple[int, ...] = ()) -> str:
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    align = ["---:" if i in right_align else "---" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cell(value) for value in line) + " |" for line in lines)


def _pct(value) -> str:
    return f"{100 * value:.2f}" if isinstance(value, (int, float)) else "–"


def _human(number: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if number >= size:
            return f"{number / size:.1f}{unit}"
    return str(number)


def _scalars(mapping: dict, prefix: str = "", skip_false: bool = False) -> list[list]:
    """Rows for a settings table: set scalar values that shaped the model (None, lists, paths out are noise)."""
    return [
        [f"`{prefix}{key}`", f"`{value}`"]
        for key, value in redact_secrets(mapping).items()
        if isinstance(value, (str, int, float, bool))
        and value != ""
        and key not in OPERATIONAL_KEYS
        and not (skip_false and value is False)
    ]


def _architecture(config: dict) -> str:
    layers = config.get("num_layers", 1)
    kind = "bidirectional LSTM" if config.get("bidirectional", True) else "LSTM"
    return f"{layers}-layer {kind}" if layers > 1 else kind


def truncation_note(max_length: int, run: TrainedRun) -> str:
    """The truncation limitation, with how much of the training texts it cut when the run measured it."""
    strategy, window = run.config.get("long_text_strategy", "truncate"), run.config.get("max_seq_length")
    if strategy == "head_tail":
        note = (
            f"The model reads the first {window - window // 2} and the last {window // 2} tokens of a text (of its "
            f"first {max_length}); the middle of a longer text does not count."
        )
    elif strategy == "chunks":
        note = (
            f"The model reads a text as windows of {window} tokens, pooled, up to {max_length} tokens; the rest of a "
            "longer text does not count."
        )
    else:
        kept = "the end" if run.tokenizer_config.get("truncation_side") == "left" else "the start"
        note = f"Inputs longer than {max_length} tokens are truncated; only {kept} of a long text counts."
    share = run.results.get("train_truncated_share")
    if isinstance(share, float):
        note += (
            f" In training, {share:.1%} of the texts were cut, by "
            f"{run.results.get('train_truncated_mean_tokens_cut', 0):.0f} tokens on average "
            f"(at most {run.results.get('train_truncated_max_tokens_cut', 0)})."
        )
    return note


def _headline_split(run: TrainedRun) -> str | None:
    return run.splits[-1] if run.splits else None


def _headline(run: TrainedRun) -> str | None:
    split = _headline_split(run)
    if split is None:
        return None
    if run.problem_type == MULTI_LABEL:
        micro, macro = run.results.get(f"{split}_micro_f1"), run.results.get(f"{split}_macro_f1")
        return f"micro-F1 {_pct(micro)} %, macro-F1 {_pct(macro)} % on the {split} split"
    if run.problem_type == REGRESSION:
        per_target = ", ".join(
            f"{label} {run.results.get(f'{split}_{label}_pearson', 0):.3f}" for label in run.labels
        )
        text = f"Pearson r {run.results.get(f'{split}_pearson', 0):.3f}"
        return text + (f" ({per_target})" if len(run.labels) > 1 else "") + f" on the {split} split"
    accuracy, macro_f1 = run.results.get(f"{split}_accuracy"), run.results.get(f"{split}_macro_f1")
    text = f"accuracy {_pct(accuracy)} %"
    if macro_f1 is not None:
        text += f", macro-F1 {_pct(macro_f1)} %"
    return f"{text} on the {split} split"


def _thresholds(run: TrainedRun) -> list[float]:
    """Multi-label: each label's decision threshold as saved in config.json."""
    config = run.config
    return list(config.get("thresholds") or [config.get("threshold", 0.5)] * len(run.labels))


def _labels_table(run: TrainedRun) -> str:
    split = _headline_split(run)
    per_class = run.results.get(f"{split}_per_class") or {}
    if run.problem_type == REGRESSION:
        low, high = run.config.get("target_min"), run.config.get("target_max")
        rows = [
            [i, label, f"{low[i]:g} to {high[i]:g}" if low and high else "–"]
            for i, label in enumerate(run.labels)
        ]
        return markdown_table(["id", "target", "range in training"], rows, right_align=(0,))
    if run.problem_type == MULTI_LABEL:
        rows = [
            [i, label, (per_class.get(label) or {}).get("support", "–"), f"{threshold:g}"]
            for i, (label, threshold) in enumerate(zip(run.labels, _thresholds(run), strict=True))
        ]
        return markdown_table(["id", "label", f"{split} examples", "threshold"], rows, right_align=(0, 2, 3))
    if per_class:
        rows = [
            [i, label, (per_class.get(label) or {}).get("support", 0)] for i, label in enumerate(run.labels)
        ]
        return markdown_table(["id", "label", f"{split} examples"], rows, right_align=(0, 2))
    return markdown_table(
        ["id", "label"], [[i, label] for i, label in enumerate(run.labels)], right_align=(0,)
    )


def _embeddings_phrase(run: TrainedRun) -> str:
    model_args = run.training_args.get("model") or {}
    vectors = model_args.get("pretrained_embeddings")
    if not vectors:
        return "learned token embeddings"
    trained = "kept frozen" if model_args.get("freeze_embeddings") else "then trained"
    return f"token embeddings initialised from the word vectors `{Path(vectors).name}` ({trained})"


def _model_table(run: TrainedRun) -> str:
    config = run.config
    max_length = run.tokenizer_config.get("model_max_length")
    rows = [
        ["vocabulary size", f"{config.get('vocab_size', 0):,}"],
        ["tokenizer", run.tokenizer_model_type or "–"],
        ["embedding size", config.get("embedding_dim")],
        ["LSTM hidden size (per direction)", config.get("hidden_size")],
        ["LSTM layers", config.get("num_layers", 1)],
        ["bidirectional", config.get("bidirectional", True)],
        ["pooling", config.get("pooling")],
        ["dropout / embedding dropout", f"{config.get('dropout')} / {config.get('embedding_dropout')}"],
        ["parameters", f"{run.num_parameters:,}"],
    ]
    if isinstance(max_length, int) and max_length < 1_000_000:
        rows.append(["max input length (tokens)", max_length])
    return markdown_table(["setting", "value"], rows)


def _dataset_paragraph(run: TrainedRun, dataset: DatasetRef) -> str:
    if not run.training_args:
        return "The folder this card was generated from does not record the training data (no training_args.yaml)."
    data = run.data_args
    source = (
        f"the Hub dataset [`{dataset.hub_id}`](https://huggingface.co/datasets/{dataset.hub_id})"
        if dataset.hub_id
        else f"local files (`{dataset.type}`)"
    )
    text = f"Trained on {source}"
    if n := run.results.get("num_train_samples"):
        text += f", {n:,} training examples"
    columns = [f"`{data[k]}`" for k in ("text_column", "label_column") if data.get(k)]
    if len(columns) == 2:
        text += f", reading texts from column {columns[0]} and labels from {columns[1]}"
    if run.splits:
        text += f"; evaluated on the {' and '.join(run.splits)} split{'s' if len(run.splits) > 1 else ''}"
    return text + "."


def _training_paragraph(run: TrainedRun) -> str:
    r = run.results
    parts = []
    if r.get("epoch") is not None:
        parts.append(f"{r['epoch']:g} epochs")
    if r.get("train_runtime") is not None:
        speed = (
            f", {r['train_samples_per_second']:.0f} examples/s" if r.get("train_samples_per_second") else ""
        )
        parts.append(f"{r['train_runtime']:.0f} s of training{speed}")
    if r.get("train_loss") is not None:
        parts.append(f"final training loss {r['train_loss']:.4f}")
    recorded = "Training ran " + ", ".join(parts) + ". " if parts else ""
    return recorded + "Hyper-parameters as recorded in `training_args.yaml`:"


def _number(value, percent: bool) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return _pct(value) if percent else f"{value:.4f}"


def _results_table(run: TrainedRun) -> str | None:
    if not run.splits:
        return None
    columns = (*RESULT_COLUMNS[run.problem_type], ("loss", "loss", False))
    rows = [
        [split, *(_number(run.results.get(f"{split}_{key}"), percent) for key, _, percent in columns)]
        for split in run.splits
    ]
    header = ["split", *(title for _, title, _ in columns)]
    return markdown_table(header, rows, right_align=tuple(range(1, len(header))))


def _per_target_tables(run: TrainedRun) -> list[tuple[str, str]]:
    """Regression: one row per target and metric columns, per split."""
    columns = RESULT_COLUMNS[REGRESSION]
    tables = []
    for split in run.splits:
        rows = [
            [label, *(_number(run.results.get(f"{split}_{label}_{key}"), False) for key, _, _ in columns)]
            for label in run.labels
        ]
        header = ["target", *(title for _, title, _ in columns)]
        tables.append((split, markdown_table(header, rows, right_align=tuple(range(1, len(header))))))
    return tables


def _per_class_tables(run: TrainedRun) -> list[tuple[str, str]]:
    if run.problem_type == REGRESSION:
        return _per_target_tables(run)
    tables = []
    for split in run.splits:
        per_class = run.results.get(f"{split}_per_class") or {}
        rows = [
            [label, _pct(m.get("precision")), _pct(m.get("recall")), _pct(m.get("f1")), m.get("support", "–")]
            for label in run.labels
            if isinstance(m := per_class.get(label), dict)
        ]
        if rows:
            header = ["label", "precision (%)", "recall (%)", "F1 (%)", "support"]
            tables.append((split, markdown_table(header, rows, right_align=(1, 2, 3, 4))))
    return tables


def _limitations(run: TrainedRun, dataset: DatasetRef) -> list[str]:
    items = [
        f"It learned from {dataset.name} only: expect lower accuracy on text from other domains, registers or "
        "time periods than the results above.",
    ]
    vocab = run.config.get("vocab_size")
    if run.tokenizer_model_type == "WordLevel":
        items.append(
            f"Its {vocab:,}-token vocabulary comes from the training texts; unseen words become `[UNK]`."
        )
    elif vocab:
        items.append(
            f"Its {vocab:,}-token vocabulary comes from the training texts: rare and unseen words are split into "
            "pieces that carry little meaning, and there is no pre-trained knowledge of language."
        )
    max_length = run.tokenizer_config.get("model_max_length")
    if isinstance(max_length, int) and max_length < 1_000_000:
        items.append(truncation_note(max_length, run))
    split = _headline_split(run)
    per_class = {
        k: v for k, v in (run.results.get(f"{split}_per_class") or {}).items() if isinstance(v, dict)
    }
    if per_class:
        label, weakest = min(per_class.items(), key=lambda item: item[1].get("f1", 1.0))
        items.append(
            f"Quality differs by label: the weakest on the {split} split is `{label}` (F1 {_pct(weakest.get('f1'))} %, "
            f"{weakest.get('support', '?')} examples). Check the per-class table before relying on one label."
        )
    items.append(SCORE_CAVEATS[run.problem_type])
    items.append(
        "It reproduces the labelling choices and biases of its training data; do not use it to make decisions "
        "about people without human review."
    )
    return items


SCORE_CAVEATS = {
    SINGLE_LABEL: "Scores are softmax outputs of a small model, not calibrated probabilities.",
    MULTI_LABEL: "Scores are independent sigmoid outputs per label (they do not sum to 1), not calibrated "
    "probabilities; the thresholds were tuned on the validation split and may not suit other data.",
    REGRESSION: "Predictions are not clipped to the targets' scale and regress towards the training mean: extreme "
    "texts get less extreme values than people gave them.",
}


def _plots(run: TrainedRun) -> list[dict]:
    return [
        {"file": name, "title": PLOT_TITLES.get(name, Path(name).stem.replace("_", " ").capitalize())}
        for name in run.plots
    ]


def _summary(run: TrainedRun, repo_id: str, dataset: DatasetRef) -> str:
    labels = run.labels
    shown = ", ".join(f"`{label}`" for label in labels[:8]) + (", …" if len(labels) > 8 else "")
    task = {
        SINGLE_LABEL: f"text classifier ({_human(run.num_parameters)} parameters) that sorts a text into one of "
        f"{len(labels)} labels ({shown})",
        MULTI_LABEL: f"multi-label text classifier ({_human(run.num_parameters)} parameters) that tags a text with "
        f"any number of {len(labels)} labels ({shown})",
        REGRESSION: f"text regression model ({_human(run.num_parameters)} parameters) that predicts "
        f"{len(labels)} score{'s' if len(labels) > 1 else ''} ({shown}) for a text",
    }[run.problem_type]
    text = f"A {_architecture(run.config)} {task}, trained from scratch on {dataset.name}."
    if headline := _headline(run):
        text += f" It reaches {headline}."
    return text


def render_body(run: TrainedRun, repo_id: str, onnx: bool = False) -> str:
    dataset = dataset_ref(run.data_args)
    # The shortest examples keep the snippet readable; the widget shows them all.
    examples = sorted(widget_examples(run), key=len)[:3] or FALLBACK_EXAMPLES
    data_rows = _scalars(run.data_args, skip_false=True)  # off switches (cleaning not used) only lengthen it
    command = run.training_args.get("command")
    tokenizer_rows = _scalars(run.training_args.get("tokenizer") or {}, prefix="tokenizer.")
    hyperparameter_rows = _scalars(run.training_args.get("training") or {}) + tokenizer_rows
    context = {
        "model_name": repo_id.split("/")[-1],
        "repo_id": repo_id,
        "summary": _summary(run, repo_id, dataset),
        "architecture": _architecture(run.config),
        "num_parameters": f"{run.num_parameters:,}",
        "labels": [f"`{label}`" for label in run.labels],
        "problem_type": run.problem_type,
        "threshold": run.config.get("threshold", 0.5),
        "per_label_thresholds": bool(run.config.get("thresholds")),
        "dataset_description": dataset.name,
        "headline": _headline(run),
        "examples": examples,
        "labels_table": _labels_table(run),
        "architecture_paragraph": (
            f"A {_architecture(run.config)} over {_embeddings_phrase(run)}. Padding never reaches the result (it is "
            "masked, not cut off: the outputs at a text's real tokens are what the text gives alone, padded or not), "
            f"`{run.config.get('pooling')}` pooling turns the outputs into one vector, and a linear layer gives one "
            "logit per label."
        ),
        "model_table": _model_table(run),
        "dataset_paragraph": _dataset_paragraph(run, dataset),
        "data_table": markdown_table(["data setting", "value"], data_rows) if data_rows else None,
        "training_paragraph": _training_paragraph(run),
        "hyperparameters_table": (
            markdown_table(["hyper-parameter", "value"], hyperparameter_rows) if hyperparameter_rows else None
        ),
        "results_table": _results_table(run),
        "per_class_tables": _per_class_tables(run),
        "plots": _plots(run),
        "limitations": _limitations(run, dataset),
        "command": redact_command(str(command)) if command else None,
        "has_results": bool(run.results),
        "onnx": onnx,
    }
    template_text = (
        resources.files("modeling_lstm").joinpath("templates/modelcard.md").read_text(encoding="utf-8")
    )
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    return environment.from_string(template_text).render(**context)


def build_model_card(
    model_dir: str | Path, repo_id: str, license: str = "apache-2.0", onnx: bool = False
) -> ModelCard:
    """The card for `model_dir` as published under `repo_id` (with an onnx/ export: `onnx`); `str(card)` is the
    README.md text."""
    run = load_run(model_dir)
    metadata = card_metadata(run, repo_id, license=license)
    return ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n{render_body(run, repo_id, onnx)}")
