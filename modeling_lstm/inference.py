"""Fast batched prediction for scripts: no datasets, evaluate or training code on this path."""

import os

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as transformers_logging

from .batching import length_sorted_batches
from .errors import UserInputError
from .hardware import cpu_has_native_bf16

DTYPES = ("float32", "bfloat16", "auto")
MODEL_FOLDER_FILES = ("config.json", "tokenizer.json")
BACKENDS = ("torch", "onnx")


def resolve_dtype(choice: str) -> torch.dtype:
    """`auto`: bfloat16 on a CPU that computes it natively (batched x1.29-1.55 on emotion, 99.85% of the test
    predictions unchanged; docs/benchmarks.md), float32 elsewhere, where bf16 is emulated and slower."""
    if choice == "auto":
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[choice]


def add_runtime_arguments(parser) -> None:
    """`--dtype` and `--backend` for the scripts that load a classifier (predict.py, evaluate_model.py); `load_classifier`
    checks `--backend`, so a bad value is one error line."""
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float32",
        help="bfloat16 is 1.29-1.55x faster in batches on CPUs with native bf16 (AVX512-BF16, AMX), with rare changes in the "
        "predicted label; auto picks it there and float32 elsewhere.",
    )
    parser.add_argument(
        "--backend",
        default="torch",
        help="torch (the model folder) or onnx (an export from scripts/export_onnx.py, run by ONNX Runtime: "
        "the folder itself, a model folder holding it under onnx/, or a Hub repo with onnx/).",
    )


def load_classifier(model: str, revision: str | None = None, dtype: str = "float32", backend: str = "torch"):
    """Model (in eval mode, cast to `dtype`, see `resolve_dtype`) and tokenizer from a local folder or a Hub repo.

    `backend="onnx"` gives an ONNX Runtime session behind the same call interface (modeling_lstm.onnx)."""
    if backend not in BACKENDS:
        raise UserInputError(f"--backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "onnx":
        if dtype != "float32":
            raise UserInputError(
                f"--dtype {dtype} applies to --backend torch; an ONNX export has its own precision"
            )
        from .onnx import load_onnx_classifier

        return load_onnx_classifier(model, revision)
    folder = os.path.expanduser(model)
    looks_local = model.startswith(("/", ".", "~")) or os.path.exists(model)
    if looks_local and not os.path.isdir(folder):
        raise UserInputError(f"--model {model}: folder not found")
    missing = [name for name in MODEL_FOLDER_FILES if not os.path.isfile(os.path.join(folder, name))]
    if looks_local and missing:  # without tokenizer.json, transformers fails with a long ValueError
        raise UserInputError(
            f"--model {model}: no {' or '.join(missing)} in the folder; give a folder train.py wrote"
        )
    transformers_logging.disable_progress_bar()  # scripts print results on stdout; keep the terminal clean
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            os.path.expanduser(model), revision=revision, trust_remote_code=True
        )
        classifier, loading = AutoModelForSequenceClassification.from_pretrained(
            os.path.expanduser(model), revision=revision, trust_remote_code=True, output_loading_info=True
        )
    except OSError as error:
        raise UserInputError(f"--model {model}: {str(error).splitlines()[0]}") from None
    # Weights the folder lacks would be random: predictions would look fine and mean nothing.
    missing = sorted(loading["missing_keys"])
    if missing:
        raise UserInputError(
            f"--model {model}: the saved weights lack {len(missing)} of the model's tensors ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}); it was saved by another version of the model: retrain it"
        )
    return classifier.eval().to(resolve_dtype(dtype)), tokenizer


def set_inference_threads() -> None:
    """One intra-op thread on a busy machine, where idle OpenMP threads sleep (modeling_lstm/hardware.py): waking a
    second thread for each of the LSTM's small products there cost 3.4x in single-text latency and gained nothing in
    batches. On an idle machine torch's default threads are as fast for one text and 1.5x faster for batches
    (docs/benchmarks.md). OMP_NUM_THREADS, when set, always wins."""
    if "OMP_NUM_THREADS" not in os.environ and os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        torch.set_num_threads(1)


def predict_probabilities(
    model, tokenizer, texts: list[str], batch_size: int = 64, max_length: int | None = None
) -> torch.Tensor:
    """Scores (len(texts), num_labels) in the order of `texts`: class probabilities, or per-label probabilities
    (multi-label), or predicted values (regression), see `scores_from_logits`.

    The whole list is tokenised in one call: the Rust tokenizer then works on all of it in parallel, and
    transformers' per-call cost (Python lists, then tensors) is paid once, not per batch. The texts are then batched
    by token count, so batches carry almost no padding. 1.4-1.6x the throughput of tokenising each batch on its own
    (docs/benchmarks.md), with the same probabilities.
    """
    if batch_size < 1:
        raise UserInputError(f"--batch_size must be at least 1, got {batch_size}")
    if not texts:
        return torch.empty(0, model.config.num_labels)
    max_length = max_length or tokenizer.model_max_length
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    left = tokenizer.padding_side == "left"
    probabilities = torch.empty(len(texts), model.config.num_labels)
    device = getattr(
        model, "device", torch.device("cpu")
    )  # a GPU under accelerate launch; ONNX sessions: CPU
    with torch.inference_mode():
        for rows, input_ids, attention_mask in length_sorted_batches(
            ids, batch_size, tokenizer.pad_token_id, left
        ):
            logits = model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device)).logits
            probabilities[rows] = scores_from_logits(logits.float(), model.config.problem_type).cpu()
    return probabilities


def scores_from_logits(logits: torch.Tensor, problem_type: str | None) -> torch.Tensor:
    """What the text-classification pipeline returns for the config's problem type: class probabilities (softmax),
    independent label probabilities (sigmoid, multi-label) or the predicted values (regression)."""
    if problem_type == "multi_label_classification":
        return logits.sigmoid()
    if problem_type == "regression":
        return logits
    return logits.softmax(-1)


def top_labels(probabilities: torch.Tensor, id2label: dict, top_k: int) -> list[list[dict]]:
    """Per text, the `top_k` labels with their scores, best first (the pipeline's output shape)."""
    scores, indices = probabilities.topk(min(top_k, probabilities.size(1)), dim=-1)
    return [
        [
            {"label": id2label[int(i)], "score": round(float(s), 6)}
            for s, i in zip(row_scores, row_indices, strict=True)
        ]
        for row_scores, row_indices in zip(scores, indices, strict=True)
    ]


def prediction_records(scores: torch.Tensor, config, top_k: int) -> list[dict]:
    """Per text, what predict.py prints: the top classes (single-label), the labels whose probability reaches their
    threshold with every label's probability (multi-label), or each target's value (regression)."""
    names = [config.id2label[i] for i in range(config.num_labels)]
    if config.problem_type == "regression":
        return [{"scores": dict(zip(names, row.tolist(), strict=True))} for row in scores.float()]
    if config.problem_type == "multi_label_classification":
        thresholds = torch.tensor(config.thresholds or [config.threshold] * config.num_labels)
        records = []
        for row in scores.float():
            chosen = [(names[i], row[i].item()) for i in (row >= thresholds).nonzero().flatten().tolist()]
            records.append(
                {
                    "labels": [name for name, _ in sorted(chosen, key=lambda pair: -pair[1])],
                    "scores": {
                        name: round(value, 6) for name, value in zip(names, row.tolist(), strict=True)
                    },
                }
            )
        return records
    return [
        {"label": labels[0]["label"], "score": labels[0]["score"], "top_k": labels}
        for labels in top_labels(scores, config.id2label, top_k)
    ]


def blank_record(config) -> dict:
    """What an empty or blank text gets in place of `prediction_records`' record: the same fields, empty."""
    if config.problem_type == "multi_label_classification":
        return {"labels": [], "scores": None}
    if config.problem_type == "regression":
        return {"scores": None}
    return {"label": None, "score": None, "top_k": []}
