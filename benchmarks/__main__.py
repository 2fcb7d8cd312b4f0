"""Benchmark this project's LSTM side by side with classic baselines, a naive LSTM and DistilBERT.

python -m benchmarks --dataset emotion --data_dir ../shared/datasets [--quick] [--output results.json]
python -m benchmarks --scale [flags of python -m benchmarks.scale]: how training and predict.py grow with the data

Prints one Markdown report (table, ratios, targets) on stdout and writes the full result as JSON. Everything runs in
this one process on the same data and machine; see docs/benchmarks.md for the reference numbers.
"""

import argparse
import logging
import shlex
import sys
from pathlib import Path

from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError

from .report import print_and_save
from .run import run_benchmark
from .settings import ROW_NAMES, BenchmarkSettings, split_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        required=True,
        help="Folder name under --data_dir (emotion, sst2, trec, mr; goemotions, emobank: ours and TF-IDF only).",
    )
    parser.add_argument(
        "--data_dir", required=True, type=Path, help="Holds <dataset>/{train,validation,test}.csv."
    )
    parser.add_argument(
        "--config", type=Path, help="Training YAML for our model (default configs/<dataset>.yaml)."
    )
    parser.add_argument(
        "--quick", action="store_true", help="A small subset: a smoke test that each row appears."
    )
    parser.add_argument("--output", type=Path, help="Write the full result as JSON here.")
    parser.add_argument(
        "--model_dir", type=Path, help="Time an already trained model folder instead of training."
    )
    parser.add_argument("--max_train_samples", type=int, help="Keep the first N train rows (quick: 2000).")
    parser.add_argument(
        "--max_eval_samples", type=int, help="Keep the first N validation/test rows (quick: 400)."
    )
    parser.add_argument(
        "--num_train_epochs", type=int, help="Override the config's epochs (quick: at most 2)."
    )
    parser.add_argument(
        "--train_args",
        default="",
        help='Extra flags for our training after the config\'s, e.g. "--hidden_size 128 --num_train_epochs 2"; '
        "the naive LSTM takes the same sizes, batch size and epochs.",
    )
    parser.add_argument(
        "--threads", type=int, help="Torch threads for every row (default: the usable cores)."
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=BenchmarkSettings.repeats,
        help="Batched throughput is the best of N passes (quick: 1).",
    )
    parser.add_argument(
        "--batch_size",
        type=int,
        default=BenchmarkSettings.batch_size,
        help="Batch size of the batched inference figures.",
    )
    parser.add_argument(
        "--target_accuracy", type=float, help="Default 0.92 on emotion, no accuracy target elsewhere."
    )
    parser.add_argument(
        "--naive_max_epochs",
        type=int,
        help="The naive LSTM trains on after our epoch count, up to N epochs in all, until it reaches the target "
        "accuracy, so the time-to-accuracy ratio is measured, not bounded (default 10; quick: no extra epochs).",
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=ROW_NAMES, help="Rows to leave out.")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--scale" in argv:
        from . import scale

        return scale.main([arg for arg in argv if arg != "--scale"])
    args = parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    settings = BenchmarkSettings(
        dataset=args.dataset,
        data_dir=args.data_dir,
        config=args.config,
        quick=args.quick,
        max_train_samples=args.max_train_samples,
        max_eval_samples=args.max_eval_samples,
        num_train_epochs=args.num_train_epochs,
        model_dir=args.model_dir,
        train_args=tuple(shlex.split(args.train_args)),
        batch_size=args.batch_size,
        repeats=args.repeats,
        threads=args.threads,
        target_accuracy=args.target_accuracy,
        naive_max_epochs=args.naive_max_epochs,
        skip=tuple(args.skip),
    )
    if not split_file(settings.data_dir / settings.dataset, "train").is_file():
        raise UserInputError(f"{settings.data_dir / settings.dataset}/train.csv not found: check --data_dir")
    result = run_benchmark(settings)
    print_and_save(result, args.output)
    return result


if __name__ == "__main__":
    sys.exit(run_cli(main))
