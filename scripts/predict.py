"""Predict labels for texts given as arguments, in a file or on stdin; writes JSON lines, CSV or Parquet as it goes.

python scripts/predict.py --model out/emotion "i feel great" "this is awful"
python scripts/predict.py --model user/lstm-emotion --input_file texts.txt --top_k 3
cat texts.txt | python scripts/predict.py --model out/emotion
python scripts/predict.py --model out/emotion --input_file reviews.parquet --text_column review \\
    --output_file predictions.parquet
accelerate launch --config_file configs/accelerate/cpu_2proc.yaml scripts/predict.py --model out/emotion \\
    --input_file reviews.csv --output_file predictions.csv

Input: a .csv, .tsv, .jsonl or .parquet --input_file is a table whose --text_column (default text) holds the texts;
any other file, stdin or the arguments are plain text, one text per line. The input is read --chunk_size rows at a
time and each chunk's predictions are written before the next is read, so memory holds one chunk, not the input.

Output row N answers input row N: an empty or blank text gets "label": null, "score": null and "top_k": [] instead
of a prediction. Multi-label models give the labels whose probability reaches the threshold saved in the model
(tuned on validation) with every label's probability; regression models each target's value.

Without --output_file the rows go to stdout: JSON lines (the input's columns, then the prediction's fields), or with
`--output_format csv` a header and one row per input row: the input's columns, then label, score (single-label); the
labels reaching their threshold joined by ";", then one probability column per label (multi-label); one column per
target (regression). A blank text's prediction cells are empty. An input column named like a prediction column is
written as input_<name>.

`--output_file` (.jsonl, .csv or .parquet; Parquet has the CSV's columns, typed) is written under a temporary name
beside it and renamed when all went well: a failed run leaves no half file. An existing file is refused unless
--overwrite. Under `accelerate launch` with N processes (CPU processes or GPUs), each process predicts its share of
every chunk and the main process writes the one output in input order.
"""

import argparse
import collections
import sys

import torch
from accelerate import PartialState
from tqdm.auto import tqdm

from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.inference import add_runtime_arguments, load_classifier, set_inference_threads
from modeling_lstm.prediction_io import check_output_file, open_input, predicted_chunks, prediction_writer


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("texts", nargs="*", help="Texts to classify (default: --input_file or stdin).")
    parser.add_argument("--model", required=True, help="A model folder or a Hub repo id.")
    parser.add_argument("--revision", default=None, help="Branch, tag or commit of a Hub repo.")
    parser.add_argument(
        "--input_file",
        default=None,
        help="A .csv, .tsv, .jsonl or .parquet table, or any other UTF-8 text file, one text per line.",
    )
    parser.add_argument(
        "--text_column", default="text", help="The column of a table input holding the texts."
    )
    parser.add_argument("--top_k", type=int, default=1, help="How many labels to print per text, best first.")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument(
        "--chunk_size", type=int, default=4096, help="Rows read, predicted and written at once."
    )
    parser.add_argument(
        "--output_format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help="Without --output_file: stdout's format.",
    )
    parser.add_argument(
        "--output_file", default=None, help="A .jsonl, .csv or .parquet file (default: stdout)."
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace an existing --output_file.")
    add_runtime_arguments(parser)
    return parser.parse_args(argv)


def check_arguments(args, num_processes: int) -> None:
    """Every mistake found before the model loads or the input is read."""
    for flag in ("top_k", "chunk_size", "batch_size"):
        if getattr(args, flag) < 1:
            raise UserInputError(f"--{flag} must be at least 1, got {getattr(args, flag)}")
    if args.output_file:
        check_output_file(args.output_file, args.overwrite)
    if num_processes > 1 and not (args.texts or args.input_file):
        raise UserInputError(f"stdin cannot be shared by {num_processes} processes; give --input_file")


def main(argv=None) -> None:
    args = parse_args(argv)
    state = PartialState(cpu=not torch.cuda.is_available())  # without a GPU: CPU processes over gloo
    check_arguments(args, state.num_processes)
    text_input = open_input(args.input_file, args.texts, args.text_column)
    text_input.check_not_empty()
    set_inference_threads()
    model, tokenizer = load_classifier(args.model, args.revision, args.dtype, args.backend)
    if args.backend == "torch":
        model.to(state.device)
    chunks = predicted_chunks(model, tokenizer, text_input, args, state)
    if state.is_main_process:
        write_predictions(chunks, args, model.config, text_input, state.num_processes)
    else:  # it predicts its share of each chunk; the main process writes them all
        collections.deque(chunks, maxlen=0)
    # Tear the process group down once all are done: left to interpreter shutdown, gloo's threads can abort a
    # process that has finished ("terminate called without an active exception", exit -6), failing the launch.
    state.wait_for_everyone()
    state.destroy_process_group()


def write_predictions(chunks, args, config, text_input, num_processes: int) -> None:
    """Each chunk's rows and predictions, written as they come, with a progress bar (rows) on stderr."""
    progress = tqdm(
        total=text_input.total,
        unit=" rows",
        desc=f"predicting on {num_processes} process(es)",
        disable=args.output_file is None,  # stdout holds the output; a bar would only interleave with it
        file=sys.stderr,
    )
    writer = prediction_writer(args.output_file, args.output_format, args.overwrite, config, text_input)
    with progress, writer as output:
        for rows, records in chunks:
            output.write(rows, records)
            progress.update(len(rows))


if __name__ == "__main__":
    sys.exit(run_cli(main))
