"""Predict labels for texts given as arguments, in a file (one per line) or on stdin; prints JSON lines or CSV.

python scripts/predict.py --model out/emotion "i feel great" "this is awful"
python scripts/predict.py --model user/lstm-emotion --input_file texts.txt --top_k 3
cat texts.txt | python scripts/predict.py --model out/emotion

Output line N answers input line N: an empty or blank line gets "label": null, "score": null and "top_k": []
instead of a prediction. Multi-label models print the labels whose probability reaches the threshold saved in the
model (tuned on validation) with every label's probability; regression models each target's value.

`--output_format csv` prints a header and one row per input line instead: text, label, score (single-label); text,
the labels reaching their threshold joined by ";", then one probability column per label (multi-label); text, then
one column per target (regression). A blank line's row has empty cells after its text.
"""

import argparse
import csv
import json
import sys
from pathlib import Path

from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.inference import (
    add_runtime_arguments,
    load_classifier,
    predict_probabilities,
    prediction_records,
    set_inference_threads,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("texts", nargs="*", help="Texts to classify (default: --input_file or stdin).")
    parser.add_argument("--model", required=True, help="A model folder or a Hub repo id.")
    parser.add_argument("--revision", default=None, help="Branch, tag or commit of a Hub repo.")
    parser.add_argument(
        "--input_file", default=None, help="A UTF-8 text file, one text per line; empty lines get label null."
    )
    parser.add_argument("--top_k", type=int, default=1, help="How many labels to print per text, best first.")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument(
        "--output_format", choices=("jsonl", "csv"), default="jsonl", help="JSON lines (default) or CSV."
    )
    add_runtime_arguments(parser)
    return parser.parse_args(argv)


def read_texts(args) -> list[str]:
    if args.texts:
        return args.texts
    if args.input_file:
        path = Path(args.input_file)
        if not path.is_file():
            raise UserInputError(f"--input_file {path}: file not found")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise UserInputError(f"--input_file {path}: not valid UTF-8 at byte {error.start}") from None
    else:
        lines = sys.stdin.read().splitlines()
    return lines


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.top_k < 1:
        raise UserInputError(f"--top_k must be at least 1, got {args.top_k}")
    texts = read_texts(args)
    # Blank lines are answered with nulls, not dropped, so that output line N is input line N.
    kept = [index for index, text in enumerate(texts) if text.strip()]
    if not kept:
        raise UserInputError(f"no texts to classify in {args.input_file or 'stdin'}")
    set_inference_threads()
    model, tokenizer = load_classifier(args.model, args.revision, args.dtype, args.backend)
    scores = predict_probabilities(model, tokenizer, [texts[index] for index in kept], args.batch_size)
    predicted = dict(zip(kept, prediction_records(scores, model.config, args.top_k), strict=True))
    records = [
        {"text": text, **predicted.get(index, blank_record(model.config))} for index, text in enumerate(texts)
    ]
    if args.output_format == "csv":
        write_csv(records, model.config)
    else:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))


def write_csv(records: list[dict], config) -> None:
    """One header, then one row per record: the columns of the module docstring; empty cells for a blank line."""
    names = [config.id2label[index] for index in range(config.num_labels)]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if config.problem_type in ("multi_label_classification", "regression"):
        multi_label = config.problem_type == "multi_label_classification"
        writer.writerow(["text", *(["labels"] if multi_label else []), *names])
        for record in records:
            chosen = [";".join(record["labels"])] if multi_label else []
            values = [record["scores"][name] for name in names] if record["scores"] else [""] * len(names)
            writer.writerow([record["text"], *chosen, *values])
        return
    writer.writerow(["text", "label", "score"])
    for record in records:
        writer.writerow(
            [record["text"], record["label"] or "", "" if record["score"] is None else record["score"]]
        )


def blank_record(config) -> dict:
    """What a blank input line gets: the fields of a prediction, empty."""
    if config.problem_type == "multi_label_classification":
        return {"labels": [], "scores": None}
    if config.problem_type == "regression":
        return {"scores": None}
    return {"label": None, "score": None, "top_k": []}


if __name__ == "__main__":
    sys.exit(run_cli(main))
