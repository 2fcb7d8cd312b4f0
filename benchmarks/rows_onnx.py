"""ONNX Runtime rows: the export that scripts/export_onnx.py writes (float32 and int8), run the way users run it."""

from __future__ import annotations

from pathlib import Path

from .measure import batched_throughput, hf_predictor, time_inference
from .settings import MB, BenchmarkSettings, Data, Row, scores


def benchmark_onnx(
    settings: BenchmarkSettings,
    data: Data,
    folder: Path,
    workdir: Path,
    ours: Row,
    predict_row: Row | None,
    quantize: str | None,
) -> Row:
    """Export `folder`, then: file-order batches and single texts as the torch row measures them (tokenizer +
    session), and predict.py's length-sorted path (`--backend onnx`) as a note."""
    from modeling_lstm.inference import load_classifier, predict_probabilities
    from modeling_lstm.onnx import export_onnx

    export = export_onnx(str(folder), workdir / f"onnx-{quantize or 'float32'}", quantize=quantize)
    session, tokenizer = load_classifier(str(export), backend="onnx")
    name = "ours, ONNX Runtime" + (f" {quantize}" if quantize else "")
    row = Row(name, parameters=ours.parameters, size_mb=(export / "model.onnx").stat().st_size / MB)
    predictions = time_inference(row, hf_predictor(session, tokenizer), data.test.texts, settings)
    row.accuracy, row.macro_f1 = scores(data.test.labels, predictions)
    id2label = session.config.id2label

    def predict_sorted(texts: list[str]) -> list[str]:
        probabilities = predict_probabilities(session, tokenizer, texts, settings.batch_size)
        return [id2label[index] for index in probabilities.argmax(-1).tolist()]

    sorted_rate, _ = batched_throughput(
        predict_sorted, data.test.texts, len(data.test.texts), settings.repeats
    )
    row.extra = {"length_sorted_texts_per_second": sorted_rate}
    versus_predict = f" (x{sorted_rate / predict_row.texts_per_second:.2f} torch's)" if predict_row else ""
    row.notes = (
        f"accuracy {100 * (row.accuracy - ours.accuracy):+.2f} pts, file order x"
        f"{row.texts_per_second / ours.texts_per_second:.2f}, latency x"
        f"{ours.latency_median_ms / row.latency_median_ms:.2f} vs torch float32; length-sorted as predict.py "
        f"--backend onnx: {sorted_rate:,.0f} texts/s{versus_predict}; size of model.onnx"
    )
    return row
