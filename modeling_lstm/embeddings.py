"""Initialise embedding rows from pretrained word vectors (GloVe or word2vec text format)."""

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from .errors import UserInputError

logger = logging.getLogger(__name__)


def read_word_vectors(path: str, vocabulary: dict[str, int]) -> tuple[dict[int, list[float]], int]:
    """Vectors of the tokens in `vocabulary`, keyed by id, and their dimension.

    Reads GloVe (`word v1 v2 ...`) and word2vec text (the same, after a `count dim` header line). Only rows for known
    tokens are kept, so a multi-GB file costs one pass and little memory. Lowercase variants match too, since GloVe
    is lowercase and tokenizers may not be.
    """
    file = Path(path)
    if not file.is_file():
        raise UserInputError(f"--pretrained_embeddings {path}: file not found")
    lowered = {}
    for token, index in vocabulary.items():
        lowered.setdefault(token.lower(), index)
    vectors: dict[int, list[float]] = {}
    dimension = None
    with file.open(encoding="utf-8", errors="replace") as lines:
        for line_number, line in enumerate(lines, start=1):
            parts = line.rstrip().split(" ")
            if line_number == 1 and len(parts) == 2 and all(part.isdigit() for part in parts):
                continue  # word2vec header
            if len(parts) < 2:
                continue
            if dimension is None:
                dimension = len(parts) - 1
            elif len(parts) - 1 != dimension:
                raise UserInputError(
                    f"--pretrained_embeddings {path} line {line_number}: {len(parts) - 1} values, expected {dimension}"
                )
            word = parts[0]
            index = vocabulary.get(word, lowered.get(word))
            if index is not None and index not in vectors:
                try:
                    vectors[index] = [float(value) for value in parts[1:]]
                except ValueError:
                    raise UserInputError(
                        f"--pretrained_embeddings {path} line {line_number}: not a number in the vector of {word!r}"
                    ) from None
    if dimension is None:
        raise UserInputError(f"--pretrained_embeddings {path}: no vectors found")
    return vectors, dimension


def initialise_embeddings(
    embedding: torch.nn.Embedding, vectors: dict[int, list[float]], pad_id: int
) -> float:
    """Copy the vectors into the embedding rows; returns the share of the vocabulary covered."""
    with torch.no_grad():
        for index, vector in vectors.items():
            if index != pad_id:
                embedding.weight[index] = torch.tensor(vector, dtype=embedding.weight.dtype)
    return len(vectors) / embedding.num_embeddings


def write_word_vectors(words: Sequence[str], vectors: Sequence[Sequence[float]], path: str) -> None:
    """Write `word v1 v2 ...` lines (GloVe's text format), first to a hidden file, renamed when complete."""
    if len(words) != len(vectors):
        raise UserInputError(f"{path}: {len(words)} words but {len(vectors)} vectors")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            for row, (word, vector) in enumerate(zip(words, vectors, strict=True)):
                if not word or any(character.isspace() for character in word):
                    raise UserInputError(f"{path}: word {row} ({word!r}) is empty or holds whitespace")
                out.write(word + " " + " ".join(f"{value:.6g}" for value in vector) + "\n")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
