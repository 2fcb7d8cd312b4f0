"""Measuring tools shared by every row: memory, throughput, latency, sizes."""

from __future__ import annotations

import io
import math
import pickle
import statistics
import sys
import threading
import time
from collections.abc import Callable

import torch
from torch import nn

from .settings import MB, BenchmarkSettings, Row


class PeakMemory:
    """Peak resident memory of this process while the block runs, sampled by a background thread.

    tracemalloc sees only Python's allocator (not torch's or numpy's), and ru_maxrss only ever grows over the life of
    the process, so neither can tell the peak of one phase in a process that runs many. Falls back to ru_maxrss when
    psutil (a dependency of accelerate) is missing.
    """

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.start_mb = self.peak_mb = 0.0
        self._stop = threading.Event()
        try:
            import psutil

            self._process = psutil.Process()
        except ImportError:
            self._process = None

    def _rss_mb(self) -> float:
        if self._process is not None:
            return self._process.memory_info().rss / MB
        import resource

        scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MB

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> PeakMemory:
        self.start_mb = self.peak_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())

    @property
    def increase_mb(self) -> float:
        return self.peak_mb - self.start_mb


def batched_throughput(
    predict: Callable[[list[str]], list[str]], texts: list[str], batch_size: int, repeats: int
) -> tuple[float, list[str]]:
    """Texts per second over `texts` in consecutive batches (their given order, as a user's file comes).

    The best of `repeats` passes is kept: other processes on a shared machine only ever slow a pass down, so the
    fastest pass is the least disturbed estimate. Returns it with the predictions.
    """
    predict(texts[:batch_size])  # warm-up: the first calls allocate buffers and pick kernels
    best = math.inf
    predictions: list[str] = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        predictions = []
        for index in range(0, len(texts), batch_size):
            predictions.extend(predict(texts[index : index + batch_size]))
        best = min(best, time.perf_counter() - start)
    return len(texts) / best, predictions


def single_text_latency(predict: Callable[[list[str]], list[str]], texts: list[str]) -> tuple[float, float]:
    """Median and 95th percentile milliseconds to classify one text, tokenisation included."""
    for text in texts[:5]:
        predict([text])
    times = []
    for text in texts:
        start = time.perf_counter()
        predict([text])
        times.append(time.perf_counter() - start)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return statistics.median(times) * 1000, p95 * 1000


def time_inference(row: Row, predict, texts: list[str], settings: BenchmarkSettings) -> list[str]:
    """Fill the row's inference columns; returns the batched predictions of `texts`."""
    row.texts_per_second, predictions = batched_throughput(
        predict, texts, settings.batch_size, settings.repeats
    )
    row.latency_median_ms, row.latency_p95_ms = single_text_latency(
        predict, texts[: settings.latency_samples]
    )
    return predictions


def hf_predictor(model, tokenizer) -> Callable[[list[str]], list[str]]:
    """What a user writes: tokenizer(batch, padding, truncation) + model under inference_mode, argmax -> label."""
    id2label = model.config.id2label

    def predict(texts: list[str]) -> list[str]:
        with torch.inference_mode():
            inputs = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
            logits = model(**inputs).logits
        return [id2label[index] for index in logits.argmax(-1).tolist()]

    return predict


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def model_size_mb(model) -> float:
    """Size of the weights as model.safetensors stores them (float32 here)."""
    return sum(tensor.numel() * tensor.element_size() for tensor in model.state_dict().values()) / MB


def serialized_mb(obj) -> float:
    """Size of a torch state_dict (or any picklable object) as torch.save writes it."""
    buffer = io.BytesIO()
    if isinstance(obj, dict):
        torch.save(obj, buffer)
    else:
        pickle.dump(obj, buffer)
    return buffer.tell() / MB


def time_to_accuracy(epoch_log: list[dict], target: float | None, offset: float = 0.0) -> float | None:
    """Seconds of training (plus `offset`, e.g. the tokenizer) until the first epoch whose validation accuracy
    reaches `target`; `epoch_log` holds the cumulative training seconds at the end of each epoch."""
    if target is None:
        return None
    for entry in epoch_log:
        if entry["validation_accuracy"] >= target:
            return offset + entry["seconds"]
    return None
