"""Inference for the Space: predictions with every class's probability, per-token contributions, batching.

Self-contained on purpose (torch + transformers only): the Space folder deploys unchanged and never imports the
`modeling_lstm` package; the model's own code arrives with the model through `trust_remote_code=True`.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

# Longer texts are refused outright: the model reads a few hundred tokens, and tokenizing megabytes per request
# would let one user stall the queue for everyone.
MAX_CHARS = 20_000
# Used when the tokenizer does not say how many tokens the model reads (transformers' "no limit" is ~1e30).
DEFAULT_MAX_TOKENS = 512
ATTENTION = "attention"
LEAVE_ONE_OUT = "leave-one-out"
SINGLE_LABEL, MULTI_LABEL, REGRESSION = (
    "single_label_classification",
    "multi_label_classification",
    "regression",
)


class InputError(ValueError):
    """A text the app refuses; the message is written for the person who typed it."""


class ModelLoadError(RuntimeError):
    """The model cannot be served as it is; the message says which model and why."""


def check_text(text: str | None, max_chars: int = MAX_CHARS) -> str:
    """Return `text` if the model can take it, else raise InputError with a message that says what to do."""
    if text is None or not text.strip():
        what = "empty" if not text else "only whitespace"
        raise InputError(f"The text is {what}: type or paste some text to classify.")
    check_encodable(text)
    if len(text) > max_chars:
        raise InputError(
            f"The text is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Paste a shorter passage: the model only reads its beginning anyway."
        )
    return text


def check_encodable(text: str, what: str = "The text") -> None:
    """Refuse a lone UTF-16 surrogate (JSON's "\\udcff" decodes to one): the tokenizer cannot read it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(
            f"{what} has an invalid character at position {error.start + 1:,} ({text[error.start]!r}, a lone "
            "surrogate, not a Unicode character): remove it, or copy the text again from its source."
        ) from None


@dataclass
class Prediction:
    """The model's answer for one text.

    `contributions` holds `(start, end, score)` for each token the model read, with character offsets into the
    original text: attention weights (non-negative, summing to 1) or leave-one-token-out drops in the predicted
    class's probability (negative when removing the token makes the prediction more confident).
    """

    label: str  # the decision as text: the class, the labels above their thresholds, or the values
    scores: dict[str, float]  # every class / label / target, in label-id order (probabilities, or values)
    num_tokens: int  # tokens in the whole text
    used_tokens: int  # tokens the tokenizer kept (at most max_tokens)
    used_chars: int  # the kept tokens end at text[:used_chars]
    contributions: list[tuple[int, int, float]] | None = None
    labels: list[str] = field(default_factory=list)  # multi-label: the labels at or above their threshold
    skipped_tokens: int = 0  # head_tail models: kept tokens in the middle the model did not read
    skipped_chars: tuple[int, int] | None = None  # ... from text[start] to text[end - 1]

    @property
    def truncated(self) -> bool:
        """The model did not read the whole text: its end was cut, or its middle skipped."""
        return self.used_tokens < self.num_tokens or self.skipped_tokens > 0


class TextClassifier:
    """A sequence classifier and its tokenizer, run in batches without gradients."""

    def __init__(self, model, tokenizer, max_tokens: int | None = None, batch_size: int = 64):
        self.model = model.eval()
        self.tokenizer = tokenizer
        if max_tokens is None:
            limit = getattr(tokenizer, "model_max_length", None)
            max_tokens = limit if isinstance(limit, int) and 0 < limit <= 100_000 else DEFAULT_MAX_TOKENS
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        config = model.config
        self.labels = [config.id2label[index] for index in range(config.num_labels)]
        self.problem_type = getattr(config, "problem_type", None) or SINGLE_LABEL
        # Multi-label: a label applies at or above its threshold (tuned on validation, saved in the config).
        thresholds = (
            getattr(config, "thresholds", None) or [getattr(config, "threshold", 0.5)] * config.num_labels
        )
        self.thresholds = dict(zip(self.labels, thresholds, strict=True))
        # Regression: each target's range in the training data, shown beside the value.
        low, high = getattr(config, "target_min", None), getattr(config, "target_max", None)
        self.target_ranges = (
            dict(zip(self.labels, zip(low, high, strict=True), strict=True)) if low and high else {}
        )
        self.method = ATTENTION if getattr(config, "pooling", None) == "attention" else LEAVE_ONE_OUT
        # head_tail models read the first and last tokens of a longer text, max_seq_length in all.
        head_tail = getattr(config, "long_text_strategy", "truncate") == "head_tail"
        self.head_tail_length = config.max_seq_length if head_tail else None

    @classmethod
    def from_pretrained(cls, model_id: str, revision: str | None = None, **kwargs) -> TextClassifier:
        """Load from a local folder or a Hub repo id; the model's code comes with it (trust_remote_code)."""
        tokenizer = AutoTokenizer.from_pretrained(model_id, revision=revision, trust_remote_code=True)
        model, loading = AutoModelForSequenceClassification.from_pretrained(
            model_id, revision=revision, trust_remote_code=True, output_loading_info=True
        )
        # Weights the repo lacks would be random: the page would show confident labels that mean nothing.
        missing = sorted(loading["missing_keys"])
        if missing:
            raise ModelLoadError(
                f"{model_id}: the saved weights lack {len(missing)} of the model's tensors ({', '.join(missing[:3])}"
                f"{', ...' if len(missing) > 3 else ''}); it was saved by another version of the model: retrain it"
            )
        return cls(model, tokenizer, **kwargs)

    @torch.inference_mode()
    def predict(self, texts: Sequence[str], explain: bool = False) -> list[Prediction]:
        """Classify `texts` (already checked); with `explain`, add per-token contributions. Results come in the
        order of `texts`; batches are made of texts of similar length, so they carry little padding."""
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        predictions: list[Prediction | None] = [None] * len(texts)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            for row, prediction in zip(
                rows, self._predict_batch([texts[i] for i in rows], explain), strict=True
            ):
                predictions[row] = prediction
        return predictions

    def _predict_batch(self, texts: list[str], explain: bool) -> list[Prediction]:
        encoded = self.tokenizer(
            texts,
            truncation=True,
            max_length=self.max_tokens,
            padding=True,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping")  # (batch, seq, 2)
        special = encoded.pop("special_tokens_mask").bool()  # (batch, seq)
        # The whole length, to tell the user when the model did not read everything.
        full_lengths = [
            len(ids) for ids in self.tokenizer(texts, return_attention_mask=False, verbose=False)["input_ids"]
        ]

        want_attention = explain and self.method == ATTENTION
        output = self.model(**encoded, output_attentions=want_attention)
        probabilities = self.scores_from_logits(output.logits.float())  # (batch, labels)
        predicted = probabilities.argmax(dim=-1)  # (batch,)

        # Tokens that stand for text and that the model reads: real (not padding), not [CLS]-like, covering at least
        # one character, and for head_tail not in the skipped middle (those are `skipped`).
        text_tokens = encoded["attention_mask"].bool() & ~special & (offsets[..., 1] > offsets[..., 0])
        read = self.read_mask(encoded["attention_mask"])  # (batch, seq)
        mask, skipped = text_tokens & read, text_tokens & ~read
        if not explain:
            scores = None
        elif want_attention:
            scores = output.attentions[0]  # (batch, seq), aligned with input_ids
        else:
            scores = self._leave_one_out(encoded, mask, probabilities, predicted)
        kept_tokens = encoded["attention_mask"].sum(dim=1).tolist()  # (batch,)
        return [
            Prediction(
                num_tokens=full_lengths[row],
                used_tokens=kept_tokens[row],
                **self._prediction_fields(
                    probabilities[row],
                    mask[row],
                    skipped[row],
                    offsets[row],
                    None if scores is None else scores[row],
                ),
            )
            for row in range(len(texts))
        ]

    def _prediction_fields(self, probabilities, mask, skipped, offsets, scores) -> dict:
        """One text's Prediction fields but its token counts, from its (labels,) probabilities, (seq,) read and skipped
        text tokens, (seq, 2) offsets and (seq,) contribution scores (None: not explained)."""
        positions = mask.nonzero().flatten().tolist()
        skipped_positions = skipped.nonzero().flatten().tolist()
        contributions = None
        if scores is not None:
            contributions = [(int(offsets[p, 0]), int(offsets[p, 1]), float(scores[p])) for p in positions]
        row_scores = {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}
        above = [label for label, score in row_scores.items() if score >= self.thresholds[label]]
        return {
            "label": self.decision(row_scores, above, self.labels[int(probabilities.argmax())]),
            "labels": above if self.problem_type == MULTI_LABEL else [],
            "scores": row_scores,
            "used_chars": int(offsets[positions[-1], 1]) if positions else 0,
            "contributions": contributions,
            "skipped_tokens": len(skipped_positions),
            "skipped_chars": (int(offsets[skipped_positions[0], 0]), int(offsets[skipped_positions[-1], 1]))
            if skipped_positions
            else None,
        }

    def read_mask(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """(batch, seq) the tokens the model reads: all the kept ones, or for head_tail the first
        `length - length // 2` and the last `length // 2` (modeling_lstm's head_tail_order)."""
        kept = attention_mask.bool()
        if self.head_tail_length is None:
            return kept
        index = kept.cumsum(dim=1) - 1  # (batch, seq): the position among the kept tokens
        tail = self.head_tail_length // 2
        return kept & (
            (index < self.head_tail_length - tail) | (index >= kept.sum(dim=1, keepdim=True) - tail)
        )

    def scores_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """What the pipeline gives for the config's problem type: softmax, sigmoid per label, or the values."""
        if self.problem_type == MULTI_LABEL:
            return logits.sigmoid()
        if self.problem_type == REGRESSION:
            return logits
        return torch.softmax(logits, dim=-1)

    def decision(self, scores: dict[str, float], above: list[str], best: str) -> str:
        if self.problem_type == MULTI_LABEL:
            return ", ".join(sorted(above, key=lambda label: -scores[label])) or "(none)"
        if self.problem_type == REGRESSION:
            return ", ".join(f"{label} {value:.3f}" for label, value in scores.items())
        return best

    def _leave_one_out(
        self, encoded, mask: torch.Tensor, probabilities: torch.Tensor, predicted: torch.Tensor
    ) -> torch.Tensor:
        """Drop in the predicted class's probability when each token is masked out, run as batches of variants."""
        rows, positions = mask.nonzero(as_tuple=True)  # one variant per (text, token)
        scores = torch.zeros(mask.shape, dtype=probabilities.dtype)
        pad_id = self.tokenizer.pad_token_id or 0
        chunk = self.batch_size * 4
        for start in range(0, len(rows), chunk):
            r, p = rows[start : start + chunk], positions[start : start + chunk]
            input_ids = encoded["input_ids"][r].clone()
            attention_mask = encoded["attention_mask"][r].clone()
            index = torch.arange(len(r))
            input_ids[index, p] = pad_id
            attention_mask[index, p] = 0
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
            without = self.scores_from_logits(logits)[index, predicted[r]]
            scores[r, p] = probabilities[r, predicted[r]] - without
        return scores


@dataclass
class _Job:
    """One caller's request: its texts, the predictions made so far, and the future the caller waits on."""

    texts: list[str]
    explain: bool
    on_step: Callable[[int], None] | None = None  # called with the number of texts done after each step
    future: Future = field(default_factory=Future)
    done: list[Prediction] = field(default_factory=list)

    @property
    def remaining_chars(self) -> int:
        return sum(len(text) for text in self.texts[len(self.done) :])


class BatchingPredictor:
    """Runs a TextClassifier in one worker thread and merges requests that wait together into one batch.

    Gradio's own `batch=True` fails every request in a batch when one of them raises, so one user's bad input would
    error out everyone batched with it. Here each request keeps its own result or error: the worker takes everything
    that queued up while the model was busy (no added wait) and runs it in steps of at most `max_batch_size` texts
    and `max_step_chars` characters, shortest requests first, so a single text never waits behind a big batch for
    more than one step. When a step fails, its requests are retried one by one: only the one at fault fails.
    """

    def __init__(self, classifier: TextClassifier, max_batch_size: int = 32, max_step_chars: int = 100_000):
        self.classifier = classifier
        self.max_batch_size = max_batch_size
        self.max_step_chars = max_step_chars
        self.batch_sizes: Counter[int] = Counter()  # texts per model run -> how many runs
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._work, name="model-worker", daemon=True)
        self._worker.start()

    def submit(
        self, texts: Sequence[str], explain: bool = False, on_step: Callable[[int], None] | None = None
    ) -> Future:
        """Queue `texts`; the future's result is their predictions, in order. `on_step(texts done)` is called from
        the worker thread after each step that ran some of them."""
        job = _Job(list(texts), explain, on_step)
        self._jobs.put(job)
        return job.future

    def predict(
        self, texts: Sequence[str], explain: bool = False, timeout: float | None = 300
    ) -> list[Prediction]:
        return self.submit(texts, explain).result(timeout=timeout)

    def _work(self):
        pending: list[_Job] = []
        while True:
            if not pending:
                pending.append(self._jobs.get())
            while True:
                try:
                    pending.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            step = self._next_step(pending)
            # Explained and plain requests run apart: leave-one-out costs a forward pass per token.
            for explain in (True, False):
                group = [(job, texts) for job, texts in step if job.explain == explain]
                if group:
                    self._run(group, explain)
            pending = [job for job in pending if not job.future.done()]

    def _next_step(self, pending: list[_Job]) -> list[tuple[_Job, list[str]]]:
        """The texts to run next: the requests with the least left to do first, within the step's limits."""
        step, count, chars = [], 0, 0
        for job in sorted(pending, key=lambda job: job.remaining_chars):
            start = end = len(job.done)
            while (
                end < len(job.texts)
                and count < self.max_batch_size
                and (count == 0 or chars + len(job.texts[end]) <= self.max_step_chars)
            ):
                chars += len(job.texts[end])
                count += 1
                end += 1
            if end > start:
                step.append((job, job.texts[start:end]))
        return step

    def _run(self, group: list[tuple[_Job, list[str]]], explain: bool):
        texts = [text for _, chunk in group for text in chunk]
        self.batch_sizes[len(texts)] += 1
        try:
            predictions = self.classifier.predict(texts, explain=explain)
        except Exception as error:  # the worker lives on; only the request at fault sees the failure
            if len(group) > 1:
                for item in group:
                    self._run([item], explain)
            else:
                group[0][0].future.set_exception(error)
            return
        start = 0
        for job, chunk in group:
            job.done += predictions[start : start + len(chunk)]
            start += len(chunk)
            if len(job.done) == len(job.texts):
                job.future.set_result(job.done)
            elif job.on_step is not None:
                job.on_step(len(job.done))
