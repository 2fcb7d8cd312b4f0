"""Fast batched prediction for scripts: no datasets, evaluate or training code on this path."""

import itertools
import os

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as transformers_logging

from .errors import UserInputError
from .hardware import cpu_has_native_bf16

DTYPES = ("float32", "bfloat16", "auto")
MODEL_FOLDER_FILES = ("config.json", "tokenizer.json")


def resolve_dtype(choice: str) -> torch.dtype:
    """`auto`: bfloat16 on a CPU that computes it natively (batched x1.29-1.55 on emotion, 99.85% of the test
    predictions unchanged; docs/benchmarks.md), float32 elsewhere, where bf16 is emulated and slower."""
    if choice == "auto":
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[choice]


def add_dtype_argument(parser) -> None:
    """`--dtype` for the scripts that load a classifier (predict.py, evaluate_model.py)."""
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float32",
        help="bfloat16 is 1.29-1.55x faster in batches on CPUs with native bf16 (AVX512-BF16, AMX), with rare changes in the "
        "predicted label; auto picks it there and float32 elsewhere.",
    )


def load_classifier(model: str, revision: str | None = None, dtype: str = "float32"):
    """Model (in eval mode, cast to `dtype`, see `resolve_dtype`) and tokenizer from a local folder or a Hub repo."""
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


def pad_rows(
    flat_ids: torch.Tensor, starts: torch.Tensor, lengths: torch.Tensor, pad_token_id: int, left: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded (input_ids, attention_mask) of shape (rows, longest) for the texts whose token ids sit at
    `flat_ids[starts[i] : starts[i] + lengths[i]]`: a few tensor operations instead of a Python loop over rows."""
    width = max(int(lengths.max()), 1)
    position = torch.arange(width).unsqueeze(0)  # (1, width)
    if left:
        position = position - (width - lengths).unsqueeze(1)  # (rows, width): negative on the padding
    is_token = (position >= 0) & (position < lengths.unsqueeze(1))  # (rows, width)
    if flat_ids.numel() == 0:  # only empty texts
        return torch.full(is_token.shape, pad_token_id), is_token.long()
    # (rows, width): where each position's id sits in flat_ids, clamped on the padding (masked out below)
    index = (starts.unsqueeze(1) + position).clamp(0, flat_ids.numel() - 1)
    return torch.where(is_token, flat_ids[index], pad_token_id), is_token.long()


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
    lengths = torch.tensor([len(text_ids) for text_ids in ids], dtype=torch.long)  # (texts,)
    starts = lengths.cumsum(0) - lengths  # (texts,)
    flat_ids = torch.tensor(list(itertools.chain.from_iterable(ids)), dtype=torch.long)  # (total tokens,)
    # Padding positions are masked, so any id does where a tokenizer has no pad token.
    pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    left = tokenizer.padding_side == "left"
    probabilities = torch.empty(len(texts), model.config.num_labels)
    with torch.inference_mode():
        for rows in lengths.argsort(stable=True).split(batch_size):
            input_ids, attention_mask = pad_rows(flat_ids, starts[rows], lengths[rows], pad_token_id, left)
            logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
            probabilities[rows] = scores_from_logits(logits.float(), model.config.problem_type)
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
