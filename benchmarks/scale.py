"""Scale benchmark: how each training phase, and predict.py, grow with the data (issue #16).

python -m benchmarks.scale [--source_dir ../shared/datasets/sst2] [--train_sizes 100000 400000 1600000]
    [--predict_sizes 100000 1000000 4000000] [--parallel_lines 1000000] [--output scale.json]
(`python -m benchmarks --scale ...` is the same command.)

Training sets are the source's train.csv replicated with variation (seeded: scale_data.py), written into a temporary
folder, never the repository. Each size trains one epoch through scripts/train.py in a child process with the
defaults otherwise (one process on the CPU: what `accelerate launch scripts/train.py` runs there), validated and
tested on the source's own validation and test files; the phase timings come from its all_results.json. predict.py
then labels each predict size with the smallest run's model in one process, and the parallel input once under
`accelerate launch` with 1 process and once with 2. A child's peak RSS is polled over its process tree and summed
over the processes (a library's pages count once per process that maps them).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import psutil

from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError

from .report import format_scale_report, print_and_save
from .run import machine_info
from .scale_data import write_predict_input, write_training_set
from .settings import MB, REPO_ROOT, available_cores
from .targets import scale_targets

logger = logging.getLogger(__name__)

ACCELERATE_CONFIGS = {1: "cpu.yaml", 2: "cpu_2proc.yaml"}


@dataclass
class ScaleSettings:
    source_dir: Path
    train_sizes: tuple[int, ...] = (100_000, 400_000, 1_600_000)
    predict_sizes: tuple[int, ...] = (100_000, 1_000_000, 4_000_000)
    parallel_lines: int = 1_000_000
    train_args: tuple[str, ...] = ()  # extra training flags, e.g. smaller sizes for a smoke test
    model_dir: Path | None = None  # predict with this model instead of the smallest training run's
    seed: int = 42


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float


def tree_rss_mb(process: psutil.Process) -> float:
    """Resident memory of a process and all its descendants, summed."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            pass
    return total / MB


def run_measured(command: list[str], log_file: Path, interval: float = 0.1) -> Measured:
    """Run `command` from the repository root, its output into `log_file`; wall seconds and peak tree RSS.

    The child imports modeling_lstm from this source tree, as the parent does, whatever is installed."""
    logger.info("running %s", shlex.join(command))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    start = time.perf_counter()
    peak = 0.0
    with log_file.open("w", encoding="utf-8") as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        watched = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                peak = max(peak, tree_rss_mb(watched))
            except psutil.Error:  # the child itself exited after poll()
                pass
            time.sleep(interval)
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        with log_file.open(encoding="utf-8", errors="replace") as log:
            tail = "".join(deque(log, maxlen=15))
        raise RuntimeError(f"{shlex.join(command)} exited with {child.returncode}; {log_file} ends:\n{tail}")
    logger.info("%s: %.1f s, peak RSS %.0f MB", log_file.stem, seconds, peak)  # kept if a later row fails
    return Measured(seconds, peak)


def training_row(settings: ScaleSettings, size: int, workdir: Path) -> dict:
    """One epoch on `size` rows through scripts/train.py; the phases its all_results.json records."""
    train_file = write_training_set(settings.source_dir / "train.csv", size, settings.seed, workdir)
    output_dir = workdir / f"model-{size}"
    command = [sys.executable, str(REPO_ROOT / "scripts" / "train.py"), "--train_file", str(train_file)]
    for split in ("validation", "test"):
        if (settings.source_dir / f"{split}.csv").is_file():
            command += [f"--{split}_file", str(settings.source_dir / f"{split}.csv")]
    command += ["--output_dir", str(output_dir), "--num_train_epochs", "1", "--report_to", "none"]
    measured = run_measured([*command, *settings.train_args], workdir / f"train-{size}.log")
    train_file.unlink()  # the largest sets take hundreds of MB
    results = json.loads((output_dir / "all_results.json").read_text(encoding="utf-8"))
    phases = results["phase_seconds"]
    return {
        "rows": size,
        "model_dir": str(output_dir),
        "wall_seconds": measured.seconds,
        "phase_seconds": phases,
        "seconds_per_100k": {name: seconds * 100_000 / size for name, seconds in phases.items()},
        # ru_maxrss of the training process itself (exact), and the polled tree (the launcher included)
        "peak_rss_mb": max(peak for peak in results["peak_rss_mb"].values() if peak is not None),
        "tree_peak_rss_mb": measured.peak_rss_mb,
        "train_samples_per_second": results["train_samples_per_second"],
        "validation_accuracy": results.get("validation_accuracy"),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def predict_row(model_dir: Path, input_file: Path, lines: int, processes: int | None, workdir: Path) -> dict:
    """predict.py over `input_file` into a JSONL file: plain `python` (processes None), or `accelerate launch`."""
    label = f"{lines}-{processes or 'python'}"
    output_file = workdir / f"predictions-{label}.jsonl"
    script = [str(REPO_ROOT / "scripts" / "predict.py"), "--model", str(model_dir)]
    script += ["--input_file", str(input_file), "--output_file", str(output_file)]
    if processes is None:
        command = [sys.executable, *script]
    else:
        config = REPO_ROOT / "configs" / "accelerate" / ACCELERATE_CONFIGS[processes]
        command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config)]
        command += ["--main_process_port", str(free_port()), *script]
    measured = run_measured(command, workdir / f"predict-{label}.log")
    with output_file.open("rb") as written:
        answered = sum(1 for _ in written)
    output_file.unlink()
    if answered != lines:
        raise RuntimeError(f"predict.py answered {answered:,} of {lines:,} lines ({shlex.join(command)})")
    return {
        "lines": lines,
        "processes": processes or 1,
        "launcher": "python" if processes is None else "accelerate launch",
        "wall_seconds": measured.seconds,
        "texts_per_second": lines / measured.seconds,
        "peak_rss_mb": measured.peak_rss_mb,
    }


def predict_rows(settings: ScaleSettings, model_dir: Path, workdir: Path) -> tuple[list[dict], list[dict]]:
    """predict.py over each predict size (one process), then the parallel input at 1 and 2 processes."""
    single, parallel = [], []
    for lines in sorted({*settings.predict_sizes, settings.parallel_lines}):
        input_file = write_predict_input(settings.source_dir / "train.csv", lines, settings.seed, workdir)
        if lines in settings.predict_sizes:
            single.append(predict_row(model_dir, input_file, lines, None, workdir))
        if lines == settings.parallel_lines:
            parallel += [predict_row(model_dir, input_file, lines, count, workdir) for count in (1, 2)]
        input_file.unlink()
    return single, parallel


def run_scale_benchmark(settings: ScaleSettings, workdir: Path) -> dict:
    machine = machine_info(threads=available_cores())
    started = time.perf_counter()
    training = [training_row(settings, size, workdir) for size in sorted(settings.train_sizes)]
    model_dir = settings.model_dir or Path(training[0]["model_dir"])
    single, parallel = predict_rows(settings, model_dir, workdir) if settings.predict_sizes else ([], [])
    machine["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    result = {
        "source": str(settings.source_dir),
        "seed": settings.seed,
        "train_args": list(settings.train_args),
        "machine": machine,
        "training": training,
        "predict": single,
        "predict_parallel": parallel,
        "targets": scale_targets(training, single),
        "benchmark_seconds": time.perf_counter() - started,
    }
    result["markdown"] = format_scale_report(result)
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source_dir",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "datasets" / "sst2",
        help="Holds train.csv (text,label) to replicate; validation.csv / test.csv if present.",
    )
    sizes = {
        "--train_sizes": (
            ScaleSettings.train_sizes,
            "Training set sizes in rows (none: skip; give --model_dir).",
        ),
        "--predict_sizes": (
            ScaleSettings.predict_sizes,
            "predict.py inputs in lines (none: skip predict.py).",
        ),
    }
    for flag, (default, description) in sizes.items():
        parser.add_argument(flag, type=int, nargs="*", default=list(default), help=description)
    parser.add_argument(
        "--parallel_lines",
        type=int,
        default=ScaleSettings.parallel_lines,
        help="Lines of the input predict.py labels with 1 and with 2 processes.",
    )
    parser.add_argument("--train_args", default="", help='Extra training flags, e.g. "--hidden_size 32".')
    parser.add_argument(
        "--model_dir", type=Path, help="Predict with this model (default: the smallest run's)."
    )
    parser.add_argument(
        "--workdir", type=Path, help="Keep the data, models and logs here (default: a temp dir)."
    )
    parser.add_argument("--output", type=Path, help="Write the full result as JSON here.")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    if not (args.source_dir / "train.csv").is_file():
        raise UserInputError(f"--source_dir {args.source_dir}: no train.csv there")
    if not args.train_sizes and args.model_dir is None:
        raise UserInputError("--train_sizes is empty: give --model_dir for the predict rows")
    if min([*args.train_sizes, *args.predict_sizes, args.parallel_lines]) < 1:
        raise UserInputError("--train_sizes, --predict_sizes and --parallel_lines must be positive")
    settings = ScaleSettings(
        source_dir=args.source_dir,
        train_sizes=tuple(args.train_sizes),
        predict_sizes=tuple(args.predict_sizes),
        parallel_lines=args.parallel_lines,
        train_args=tuple(shlex.split(args.train_args)),
        model_dir=args.model_dir,
    )
    with tempfile.TemporaryDirectory(prefix="scale-benchmark-") as temporary:
        workdir = args.workdir or Path(temporary)
        if workdir.resolve().is_relative_to(REPO_ROOT):
            raise UserInputError(f"--workdir {workdir}: inside the repository; choose a folder outside it")
        workdir.mkdir(parents=True, exist_ok=True)
        result = run_scale_benchmark(settings, workdir)
    print_and_save(result, args.output)
    return result


if __name__ == "__main__":
    sys.exit(run_cli(main))
