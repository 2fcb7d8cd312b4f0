"""The scale benchmark's data: a labelled CSV replicated with variation to any number of rows, seeded.

The first pass over the source keeps its rows as they are (shuffled); every later row is a source row varied in one
of two ways, so that few rows repeat and the vocabulary and length distribution stay those of real text:
- about a quarter of its words swapped for words of another sentence with the same label;
- followed by another sentence with the same label (a longer text).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path


def read_labelled_rows(source: Path) -> list[tuple[str, str]]:
    """(text, label) rows of a CSV with text and label columns; line breaks inside a text become spaces."""
    with source.open(newline="", encoding="utf-8") as file:
        return [
            (" ".join(row["text"].split()), row["label"])
            for row in csv.DictReader(file)
            if row["text"].strip()
        ]


def varied_rows(rows: list[tuple[str, str]], count: int, seed: int) -> Iterator[tuple[str, str]]:
    """`count` (text, label) rows: the source shuffled, then varied copies (see the module's docstring)."""
    generator = random.Random(seed)
    words_by_label: dict[str, list[list[str]]] = {}
    for text, label in rows:
        words_by_label.setdefault(label, []).append(text.split())
    order = list(range(len(rows)))
    for produced in range(count):
        position = produced % len(rows)
        if position == 0:
            generator.shuffle(order)
        text, label = rows[order[position]]
        if produced >= len(rows):
            text = vary(text.split(), generator.choice(words_by_label[label]), generator)
        yield text, label


def vary(words: list[str], other: list[str], generator: random.Random) -> str:
    """Swap about a quarter of `words` for words of `other` (same label), or append `other`."""
    if generator.random() < 0.5:
        return " ".join(words + other)
    words = list(words)
    for _ in range(max(1, len(words) // 4)):
        words[generator.randrange(len(words))] = generator.choice(other)
    return " ".join(words)


def write_training_set(source: Path, size: int, seed: int, folder: Path) -> Path:
    path = folder / f"train-{size}.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        writer.writerows(varied_rows(read_labelled_rows(source), size, seed))
    return path


def write_predict_input(source: Path, lines: int, seed: int, folder: Path) -> Path:
    """A plain text file of `lines` varied texts, one per line (another seed than the training sets')."""
    path = folder / f"texts-{lines}.txt"
    with path.open("w", encoding="utf-8") as file:
        file.writelines(f"{text}\n" for text, _ in varied_rows(read_labelled_rows(source), lines, seed + 1))
    return path
