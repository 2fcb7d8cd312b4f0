"""One benchmark run: every row not skipped, in this one process, then the ratios, targets and report."""

from __future__ import annotations

import logging
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

from modeling_lstm.labels import MULTI_LABEL, REGRESSION

from .report import format_report
from .rows_baselines import benchmark_fasttext, benchmark_tfidf
from .rows_distilbert import benchmark_distilbert
from .rows_naive import benchmark_naive_lstm
from .rows_ours import benchmark_ours, training_argv
from .rows_problem_types import config_fields, run_problem_type_benchmark
from .settings import BenchmarkSettings, Row, available_cores, load_data
from .targets import check_targets, compute_ratios

logger = logging.getLogger(__name__)


def machine_info(threads: int) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import transformers

    return {
        "cpu": cpu,
        "cores_available": available_cores(),
        "torch_threads": threads,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        # The settings that change CPU speed the most (docs/benchmarks.md), as this process saw them.
        "environment": {
            name: os.environ.get(name)
            for name in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM")
        },
    }


def run_benchmark(settings: BenchmarkSettings, workdir: Path | None = None) -> dict:
    """Run every row not skipped and return the JSON-able result (rows, ratios, targets, machine, markdown)."""
    torch.set_num_threads(settings.threads)
    fields = config_fields(settings)
    if fields.get("problem_type") in (MULTI_LABEL, REGRESSION):
        with tempfile.TemporaryDirectory(prefix="benchmark-") as temporary:
            return run_problem_type_benchmark(settings, fields, Path(workdir or temporary))
    data = load_data(settings)
    machine = machine_info(settings.threads)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="benchmark-") as temporary:
        workdir = Path(workdir or temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        rows: dict[str, Row] = {}
        ours_info: dict = {}
        naive_info: dict = {}
        if "ours" not in settings.skip:
            our_rows, ours_info = benchmark_ours(settings, data, workdir)
            rows.update(our_rows)
        if "tfidf" not in settings.skip:
            logger.info("TF-IDF + logistic regression")
            rows["tfidf"] = benchmark_tfidf(settings, data)
        if "fasttext" not in settings.skip:
            logger.info("fastText")
            fasttext_row = benchmark_fasttext(settings, data, workdir)
            if fasttext_row is not None:
                rows["fasttext"] = fasttext_row
        if "naive" not in settings.skip:
            sizes, training, epochs = naive_settings(settings, ours_info)
            logger.info("naive LSTM: %d epochs", epochs)
            rows["naive"], naive_info = benchmark_naive_lstm(settings, data, sizes, training, epochs)
        if "distilbert" not in settings.skip:
            logger.info("DistilBERT")
            rows["distilbert"] = benchmark_distilbert(settings, data, workdir)
    ratios = compute_ratios(rows, ours_info, naive_info)
    targets = check_targets(rows, ratios, settings.target_accuracy, settings.batch_size)
    machine["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    result = {
        "dataset": settings.dataset,
        "quick": settings.quick,
        "settings": {
            key: str(value) if isinstance(value, Path) else value for key, value in asdict(settings).items()
        },
        "data": {
            "train": len(data.train.texts),
            "validation": len(data.validation.texts) if data.validation else None,
            "test": len(data.test.texts),
        },
        "machine": machine,
        "rows": {key: asdict(row) for key, row in rows.items()},
        "ratios": ratios,
        "targets": targets,
        "ours": ours_info,
        "naive": naive_info,
        "benchmark_seconds": time.perf_counter() - started,
    }
    result["markdown"] = format_report(result)
    return result


def naive_settings(settings: BenchmarkSettings, ours_info: dict) -> tuple[dict, dict, int]:
    """Sizes, batch size and epochs for the naive LSTM: those our run used (from the same config)."""
    from modeling_lstm.args import parse_args

    argv = ours_info.get("train_argv") or training_argv(
        settings, settings.data_dir / settings.dataset, Path(tempfile.gettempdir()) / "unused"
    )
    data_args, _, model_args, train_args = parse_args(argv)
    sizes = ours_info.get("config") or {
        key: getattr(model_args, key)
        for key in ("embedding_dim", "hidden_size", "num_layers", "bidirectional")
    }
    training = {
        "batch_size": train_args.per_device_train_batch_size,
        "dropout": model_args.dropout,
        "max_seq_length": data_args.max_seq_length or 512,  # auto: at most 512
    }
    epochs = int(ours_info.get("epochs") or train_args.num_train_epochs)
    return sizes, training, epochs
