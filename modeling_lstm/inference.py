"""Fast batched prediction for scripts: no datasets, evaluate or training code on this path."""

import os
from collections.abc import Iterable, Iterator

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as transformers_logging

from .errors import UserInputError
from .hardware import cpu_has_native_bf16

DTYPES = ("float32", "bfloat16", "auto")


def resolve_dtype(choice: str) -> torch.dtype:
    """`auto`: bfloat16 on a CPU that computes it natively (batched x1.4-1.5 on emotion, 99.85% of the test
    predictions unchanged; docs/benchmarks.md), float32 elsewhere, where bf16 is emulated and slower."""
    if choice == "auto":
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[choice]


def add_dtype_argument(parser) -> None:
    """`--dtype` for the scripts that load a classifier (predict.py, evaluate.py)."""
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float32",
        help="bfloat16 is 1.4-1.5x faster on CPUs with native bf16 (AVX512-BF16, AMX), with rare changes in the "
        "predicted label; auto picks it there and float32 elsewhere.",
    )


def load_classifier(model: str, revision: str | None = None, dtype: str = "float32"):
    """Model (in eval mode, cast to `dtype`, see `resolve_dtype`) and tokenizer from a local folder or a Hub repo."""
    looks_local = model.startswith(("/", ".", "~")) or os.path.exists(model)
    if looks_local and not os.path.isdir(os.path.expanduser(model)):
        raise UserInputError(f"--model {model}: folder not found")
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


def batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_probabilities(
    model, tokenizer, texts: list[str], batch_size: int = 64, max_length: int | None = None
):
    """Class probabilities (len(texts), num_labels), computed on length-sorted batches to cut padding."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    probabilities = torch.empty(len(texts), model.config.num_labels)
    max_length = max_length or tokenizer.model_max_length
    with torch.inference_mode():
        for positions in batched(order, batch_size):
            encoded = tokenizer(
                [texts[i] for i in positions],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            logits = model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits
            probabilities[positions] = logits.float().softmax(-1)
    return probabilities


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
