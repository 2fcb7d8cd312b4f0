"""Evaluate a trained model on a labelled file: prints the metrics and saves them as JSON.

python scripts/evaluate_model.py --model out/emotion --test_file test.csv [--output metrics.json]
"""

import argparse
import json
import sys
from pathlib import Path

from modeling_lstm.args import DataArguments
from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.evaluation import evaluate_file, report_lines
from modeling_lstm.inference import add_runtime_arguments, load_classifier, set_inference_threads


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True, help="A model folder or a Hub repo id.")
    parser.add_argument("--revision", default=None, help="Branch, tag or commit of a Hub repo.")
    parser.add_argument(
        "--test_file", required=True, help="CSV, TSV, JSON/JSONL or Parquet with texts and labels."
    )
    parser.add_argument("--text_column", default=None)
    parser.add_argument("--label_column", default=None)
    parser.add_argument(
        "--label_columns",
        nargs="+",
        default=None,
        help="One column per label or target (default: the model's).",
    )
    parser.add_argument(
        "--label_separator", default=None, help="Multi-label: split the label column on this."
    )
    parser.add_argument("--drop_empty", action="store_true", help="Skip empty texts instead of failing.")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--chunk_size", type=int, default=4096, help="Texts tokenised and scored at once.")
    add_runtime_arguments(parser)
    parser.add_argument("--output", default=None, help="JSON file for the metrics (default: print only).")
    return parser.parse_args(argv)


def check_output_path(output: str) -> None:
    """Before any work: a missing folder or a folder given as the file is one line, not a traceback at the end."""
    path = Path(output)
    if path.is_dir():
        raise UserInputError(f"--output {output}: is a folder; give a file name such as metrics.json")
    if not path.parent.is_dir():
        raise UserInputError(f"--output {output}: folder {path.parent} not found; create it first")


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.chunk_size < 1:
        raise UserInputError(f"--chunk_size must be at least 1, got {args.chunk_size}")
    if args.output:
        check_output_path(args.output)
    set_inference_threads()
    model, tokenizer = load_classifier(args.model, args.revision, args.dtype, args.backend)
    columns = DataArguments(
        text_column=args.text_column,
        label_column=args.label_column,
        label_columns=args.label_columns,
        label_separator=args.label_separator,
        drop_empty=args.drop_empty,
    )
    scores = evaluate_file(model, tokenizer, args.test_file, columns, args.batch_size, args.chunk_size)
    label_names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    print("\n".join(report_lines(scores, model.config.problem_type, label_names)))
    if args.output:
        output = Path(args.output)
        partial = output.with_name(output.name + ".partial")  # never leave a half-written file
        partial.write_text(json.dumps(scores, indent=2), encoding="utf-8")
        partial.replace(output)
    return scores


if __name__ == "__main__":
    sys.exit(run_cli(main))
