"""Export a trained classifier to ONNX: a folder that runs with onnxruntime + tokenizers alone (no torch).

python scripts/export_onnx.py --model out/emotion --output out/emotion-onnx
python scripts/export_onnx.py --model user/lstm-emotion --output emotion-int8 --quantize int8
python scripts/predict.py --model out/emotion-onnx --backend onnx "i feel great"
"""

import argparse
import sys

from modeling_lstm.cli import run_cli
from modeling_lstm.onnx import DEFAULT_OPSET, QUANTIZATIONS, export_onnx


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True, help="A model folder or a Hub repo id.")
    parser.add_argument("--revision", default=None, help="Branch, tag or commit of a Hub repo.")
    parser.add_argument("--output", required=True, help="The folder to create (must not hold files yet).")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset version.")
    parser.add_argument(
        "--quantize",
        default=None,
        help=f"{' or '.join(QUANTIZATIONS)}: ONNX Runtime's dynamic quantisation of the weights (smaller, "
        "usually faster, scores change slightly).",
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    output = export_onnx(args.model, args.output, args.opset, args.quantize, args.revision)
    print(f"wrote {output}/model.onnx with its tokenizer and config.json")


if __name__ == "__main__":
    sys.exit(run_cli(main))
