"""This project's rows: the trained model as users load it, through pipeline() and predict.py, int8, bf16, one
thread."""

from __future__ import annotations

import copy
import json
import logging
import math
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from modeling_lstm.hardware import cpu_has_native_bf16

from .measure import (
    PeakMemory,
    batched_throughput,
    hf_predictor,
    model_size_mb,
    parameter_count,
    serialized_mb,
    single_text_latency,
    time_inference,
    time_to_accuracy,
)
from .rows_onnx import benchmark_onnx
from .settings import MB, BenchmarkSettings, Data, Row, scores, split_file

logger = logging.getLogger(__name__)


def training_argv(settings: BenchmarkSettings, data_folder: Path, output_dir: Path) -> list[str]:
    argv = ["--config", str(settings.config), "--train_file", str(split_file(data_folder, "train"))]
    if split_file(data_folder, "validation").is_file():
        argv += ["--validation_file", str(split_file(data_folder, "validation"))]
    argv += ["--test_file", str(split_file(data_folder, "test")), "--output_dir", str(output_dir)]
    argv += ["--overwrite_output_dir", "--report_to", "none"]
    if settings.max_train_samples:
        argv += ["--max_train_samples", str(settings.max_train_samples)]
    if settings.max_eval_samples:
        argv += ["--max_eval_samples", str(settings.max_eval_samples)]
    if settings.num_train_epochs:
        argv += ["--num_train_epochs", str(settings.num_train_epochs)]
    return argv + list(settings.train_args)


def train_ours(settings: BenchmarkSettings, workdir: Path) -> tuple[Path, dict, Row, list[str]]:
    """Train with the dataset's config (or read a trained folder). Returns (folder, all_results, row, argv)."""
    row = Row("modeling-lstm (ours)")
    if settings.model_dir is not None:
        folder = Path(settings.model_dir)
        results = json.loads((folder / "all_results.json").read_text())
        row.train_seconds = results["train_runtime"] + results.get("tokenizer_train_runtime", 0.0)
        row.notes = f"trained earlier ({folder}); wall time = tokenizer + training only"
        return folder, results, row, []

    from modeling_lstm.args import parse_args
    from modeling_lstm.training import (
        main as train_main,
    )  # imported before the clock starts: import time is not training

    folder = workdir / "ours"
    argv = training_argv(settings, settings.data_dir / settings.dataset, folder)
    if settings.quick and not settings.num_train_epochs:
        epochs = parse_args(argv)[3].num_train_epochs
        argv += ["--num_train_epochs", str(min(epochs, 2))]
    logger.info("ours: training %s", " ".join(argv))
    with PeakMemory() as memory:
        start = time.perf_counter()
        results = train_main(argv)
        row.train_seconds = time.perf_counter() - start
    torch.set_num_threads(settings.threads)  # training sets its own thread count; every row gets the same
    row.peak_rss_mb, row.rss_increase_mb = memory.peak_mb, memory.increase_mb
    return folder, results, row, argv


def benchmark_ours(settings: BenchmarkSettings, data: Data, workdir: Path) -> tuple[dict[str, Row], dict]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    import modeling_lstm  # noqa: F401  registers the classes, so the local code (not a remote copy) is used

    folder, results, row, argv = train_ours(settings, workdir)
    epochs = results.get("epoch") or len(results.get("epoch_log", [])) or 1
    row.epoch_seconds = results["train_runtime"] / epochs
    row.train_samples_per_second = results.get("train_samples_per_second")
    row.train_tokens_per_second = results.get("train_tokens_per_second")

    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
    row.parameters = parameter_count(model)
    row.size_mb = (folder / "model.safetensors").stat().st_size / MB

    predictions = time_inference(row, hf_predictor(model, tokenizer), data.test.texts, settings)
    row.accuracy, row.macro_f1 = scores(data.test.labels, predictions)
    offset = results.get("tokenizer_train_runtime", 0.0)
    info = {
        "model_dir": str(folder),
        "train_argv": argv,
        "all_results": {key: value for key, value in results.items() if "confusion" not in key},
        "epochs": epochs,
        "time_to_target_seconds": time_to_accuracy(
            results.get("epoch_log", []), settings.target_accuracy, offset
        ),
        "config": {
            key: getattr(model.config, key)
            for key in (
                "vocab_size",
                "embedding_dim",
                "hidden_size",
                "num_layers",
                "bidirectional",
                "pooling",
            )
        },
    }
    row.notes = (
        f"{epochs:g} epoch{'s' if epochs != 1 else ''}, mixed precision {results.get('mixed_precision', 'no')}; "
        f"tokenizer {offset:.1f} s, model training {results['train_runtime']:.1f} s; "
        f"accuracy from the reloaded folder (training reported {results.get('test_accuracy', float('nan')):.4f})"
    )
    row.extra = {"training_reported_test_accuracy": results.get("test_accuracy")}
    rows = {"ours": row}
    if "pipeline" not in settings.skip:
        rows["pipeline"] = benchmark_pipeline(settings, data, model, tokenizer)
    if "predict" not in settings.skip:
        rows["predict"] = benchmark_predict_script(settings, data, model, tokenizer)
    if "int8" not in settings.skip:
        rows["int8"] = benchmark_int8(settings, data, model, tokenizer, row)
    if "bf16" not in settings.skip:
        rows["bf16"] = benchmark_bf16(settings, data, model, tokenizer, row)
    if "one_thread" not in settings.skip and settings.threads > 1:
        rows["one_thread"] = benchmark_one_thread(settings, data, model, tokenizer, row)
    for key, quantize in (("onnx", None), ("onnx_int8", "int8")):
        if key not in settings.skip:
            rows[key] = benchmark_onnx(settings, data, folder, workdir, row, rows.get("predict"), quantize)
    return rows, info


def benchmark_pipeline(settings: BenchmarkSettings, data: Data, model, tokenizer) -> Row:
    """The same model as `pipeline("text-classification")` users get it, batched."""
    from transformers import pipeline

    classifier = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")

    def predict(texts: list[str]) -> list[str]:
        with torch.inference_mode():
            outputs = classifier(texts, batch_size=settings.batch_size, truncation=True)
        return [output["label"] for output in outputs]

    row = Row("ours via pipeline()", parameters=parameter_count(model), size_mb=model_size_mb(model))
    # One call over all texts with batch_size, as users batch a pipeline (not one call per batch).
    predict(data.test.texts[: settings.batch_size])
    best = math.inf
    for _ in range(settings.repeats):
        start = time.perf_counter()
        predictions = predict(data.test.texts)
        best = min(best, time.perf_counter() - start)
    row.texts_per_second = len(data.test.texts) / best
    row.latency_median_ms, row.latency_p95_ms = single_text_latency(
        predict, data.test.texts[: settings.latency_samples]
    )
    row.accuracy, row.macro_f1 = scores(data.test.labels, predictions)
    row.notes = f'pipeline("text-classification", batch_size={settings.batch_size}) over the whole list'
    return row


def benchmark_predict_script(settings: BenchmarkSettings, data: Data, model, tokenizer) -> Row:
    """The path of scripts/predict.py and evaluate_model.py: the whole list tokenised in one call, batched by token
    count (so batches carry almost no padding), the order restored afterwards."""
    from modeling_lstm.inference import predict_probabilities

    id2label = model.config.id2label

    def predict(texts: list[str]) -> list[str]:
        probabilities = predict_probabilities(model, tokenizer, texts, settings.batch_size)
        return [id2label[index] for index in probabilities.argmax(-1).tolist()]

    row = Row(
        "ours via predict.py (one tokenizer call, length-sorted)",
        parameters=parameter_count(model),
        size_mb=model_size_mb(model),
    )
    # One call over the whole list, as predict.py makes it.
    row.texts_per_second, predictions = batched_throughput(
        predict, data.test.texts, len(data.test.texts), settings.repeats
    )
    row.latency_median_ms, row.latency_p95_ms = single_text_latency(
        predict, data.test.texts[: settings.latency_samples]
    )
    row.accuracy, row.macro_f1 = scores(data.test.labels, predictions)
    row.notes = (
        f"modeling_lstm.inference.predict_probabilities: one tokenizer call, batches of {settings.batch_size}"
        " by token count"
    )
    return row


def benchmark_one_thread(settings: BenchmarkSettings, data: Data, model, tokenizer, ours: Row) -> Row:
    """The float model with one torch thread: small matrices gain little from a second thread, and every OpenMP
    hand-off waits for a core, which on a busy machine can take a scheduler time slice."""
    row = Row("ours, 1 torch thread", parameters=ours.parameters, size_mb=ours.size_mb)
    torch.set_num_threads(1)
    try:
        predictions = time_inference(row, hf_predictor(model, tokenizer), data.test.texts, settings)
    finally:
        torch.set_num_threads(settings.threads)
    row.accuracy, row.macro_f1 = scores(data.test.labels, predictions)
    row.notes = (
        f"batched x{row.texts_per_second / ours.texts_per_second:.2f}, "
        f"latency x{ours.latency_median_ms / row.latency_median_ms:.2f} vs {settings.threads} threads"
    )
    return row


def benchmark_variant(
    settings: BenchmarkSettings,
    data: Data,
    tokenizer,
    ours: Row,
    name: str,
    variant,
    size_mb: float,
    note: str,
) -> Row:
    """Our model transformed for inference (quantised, cast): speed and accuracy next to the float32 model."""
    row = Row(name, parameters=ours.parameters, size_mb=size_mb)
    predictions = time_inference(row, hf_predictor(variant, tokenizer), data.test.texts, settings)
    row.accuracy, row.macro_f1 = scores(data.test.labels, predictions)
    speedup = row.texts_per_second / ours.texts_per_second
    row.notes = (
        f"accuracy {100 * (row.accuracy - ours.accuracy):+.2f} pts, batched x{speedup:.2f}, "
        f"latency x{ours.latency_median_ms / row.latency_median_ms:.2f} vs float32: "
        + ("helps" if speedup > 1.05 else "does not help")
        + f"; {note}"
    )
    return row


def with_zero_biases(lstm: nn.LSTM) -> nn.LSTM:
    """The same function as a bias-free LSTM, with (zero) biases: the quantised LSTM module requires them."""
    biased = nn.LSTM(lstm.input_size, lstm.hidden_size, lstm.num_layers, bias=True, batch_first=lstm.batch_first,
                     bidirectional=lstm.bidirectional)  # fmt: skip
    with torch.no_grad():
        for name, parameter in biased.named_parameters():
            parameter.copy_(getattr(lstm, name) if name.startswith("weight") else torch.zeros_like(parameter))
    return biased


def benchmark_int8(settings: BenchmarkSettings, data: Data, model, tokenizer, ours: Row) -> Row:
    """int8 dynamic quantisation of the LSTM and Linear weights (activations stay float)."""
    from torch.ao.quantization import quantize_dynamic

    float_model = copy.deepcopy(model)
    for layers in (module for module in float_model.modules() if isinstance(module, nn.ModuleList)):
        for index, lstm in enumerate(layers):
            if isinstance(lstm, nn.LSTM) and not lstm.bias:
                layers[index] = with_zero_biases(lstm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantize_dynamic is deprecated in favour of torchao, still works
        quantized = quantize_dynamic(float_model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)
    size_mb = serialized_mb(quantized.state_dict())
    name = "ours, int8 dynamic quantisation"
    return benchmark_variant(
        settings, data, tokenizer, ours, name, quantized, size_mb, "size from torch.save"
    )


def benchmark_bf16(settings: BenchmarkSettings, data: Data, model, tokenizer, ours: Row) -> Row:
    """bf16 weights and activations (`predict.py --dtype bfloat16`): fast where the CPU computes bf16 natively."""
    cast = copy.deepcopy(model).to(torch.bfloat16)
    native = "native" if cpu_has_native_bf16() else "emulated (no AVX512-BF16/AMX)"
    note = f"bf16 {native} on this CPU; size from torch.save"
    return benchmark_variant(
        settings, data, tokenizer, ours, "ours, bf16", cast, serialized_mb(cast.state_dict()), note
    )
