"""Load, validate and encode text-classification data with `datasets`.

The result of `load_problem` is a `DatasetDict` with `train`, `validation` and maybe `test`, each holding exactly
two columns: `text` (non-empty strings) and `label` (a `ClassLabel` whose names become config.id2label, or for
multi-label and regression a float vector, see labels.py), with the problem type decided once, here. Every problem a
user can cause is a `UserInputError` that names the file, column, row or value.
"""

import csv
import glob
import logging
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict

from .args import DataArguments
from .errors import UserInputError
from .labels import (
    MULTI_LABEL,
    REGRESSION,
    SINGLE_LABEL,
    LabelSource,
    decide_problem_type,
    encode_label_vectors,
    label_names_for,
)
from .phases import phase

logger = logging.getLogger(__name__)

TEXT_COLUMN_CANDIDATES = ("text", "sentence", "content", "review", "document", "question", "tweet", "body")
LABEL_COLUMN_CANDIDATES = ("label", "labels", "category", "class", "target", "sentiment", "intent")
FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
VALIDATION_SPLIT_NAMES = ("validation", "valid", "dev")
MIN_TRAIN_ROWS_PER_CLASS = 10  # fewer: train, but warn
# The csv module refuses fields over 128 KB by default; a long document is legal (pandas, which datasets uses, has no
# limit). 2**31 - 1: the largest value every platform's C long holds.
CSV_FIELD_SIZE_LIMIT = 2**31 - 1


def check_delimited_file(path: Path, delimiter: str) -> None:
    """Strict UTF-8 and a constant field count, so errors name the line instead of a pandas traceback.

    Streams: a text wrapper decodes a few kilobytes at a time and the reader holds one record, so memory stays
    constant whatever the file's size.
    """
    # newline="": the csv module splits records itself (str.splitlines would also break on U+0085 and U+2028,
    # which are text inside a field).
    csv.field_size_limit(CSV_FIELD_SIZE_LIMIT)
    with path.open(encoding="utf-8-sig", errors="strict", newline="") as handle:
        try:
            check_delimited_rows(path, csv.reader(handle, delimiter=delimiter))
        except UnicodeDecodeError:
            raise UserInputError(f"{path} {first_undecodable_line(path)}; save the file as UTF-8") from None


def check_delimited_rows(path: Path, reader) -> None:
    header = next(reader, None)
    if not header:
        raise UserInputError(f"{path}: no header row")
    for name in header:
        if header.count(name) > 1:  # pandas would rename the second one and read only the first
            positions = " and ".join(str(index + 1) for index, other in enumerate(header) if other == name)
            raise UserInputError(
                f"{path}: the header names two columns '{name}' (columns {positions}); rename one"
            )
    data_rows = 0
    for fields in reader:
        if not fields:  # pandas skips blank lines too
            continue
        data_rows += 1
        if len(fields) != len(header):
            raise UserInputError(
                f"{path} row {data_rows} (line {reader.line_num}): expected {len(header)} fields like the header, "
                f"found {len(fields)}; quote fields that contain the delimiter"
            )
    if data_rows == 0:
        raise UserInputError(f"{path}: header only, no data rows")


def first_undecodable_line(path: Path) -> str:
    """'line N: not valid UTF-8 (byte 0xNN)' for the first bad byte, read one line at a time.

    A UTF-8 sequence never contains the byte of a line feed, so decoding each line alone finds the same byte.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                return f"line {number}: not valid UTF-8 (byte 0x{raw[error.start]:02x})"
    return "not valid UTF-8"


def check_data_file(option: str, file: str) -> str:
    """Validate one data file of --{option} and return its `datasets` builder name."""
    path = Path(file)
    if not path.is_file():
        raise UserInputError(f"--{option} {file}: file not found")
    builder = FORMATS.get(path.suffix.lower())
    if builder is None:
        raise UserInputError(
            f"--{option} {file}: unknown format '{path.suffix}'; use one of {', '.join(FORMATS)}"
        )
    if path.stat().st_size == 0:
        raise UserInputError(f"--{option} {file}: the file is empty")
    if builder == "csv":
        check_delimited_file(path, "\t" if path.suffix.lower() == ".tsv" else ",")
    return builder


def expand_data_files(option: str, patterns: list[str]) -> list[str]:
    """Files and glob patterns (`data/train-*.parquet`, `**` too), each pattern's matches sorted."""
    files = []
    for pattern in patterns:
        if not glob.has_magic(pattern):
            files.append(pattern)
            continue
        matches = sorted(match for match in glob.glob(pattern, recursive=True) if Path(match).is_file())
        if not matches:
            raise UserInputError(f"--{option} {pattern}: the pattern matches no file")
        files += matches
    return files


def find_split_files(data_args: DataArguments) -> None:
    """Fill unset --*_file options from --data_dir (train.csv, validation.jsonl, dev.tsv, test.parquet...)."""
    folder = Path(data_args.data_dir)
    if not folder.is_dir():
        raise UserInputError(f"--data_dir {folder}: folder not found")
    names = {"train_file": ("train",), "validation_file": VALIDATION_SPLIT_NAMES, "test_file": ("test",)}
    for option, stems in names.items():
        if getattr(data_args, option) is None:
            found = [folder / f"{stem}{suffix}" for stem in stems for suffix in FORMATS]
            found = [path for path in found if path.is_file()]
            if found:
                setattr(data_args, option, [str(found[0])])
    if data_args.train_file is None:
        raise UserInputError(f"--data_dir {folder}: no train file (train.csv, train.tsv, train.json, ...)")


def builder_options(builder: str, file: str) -> dict:
    """What `datasets.load_dataset` needs beside the builder to read `file` as this project reads it."""
    if builder != "csv":
        return {}
    # Only truly empty fields are missing: a review that reads "NA" or "null" is still a text.
    options = {"keep_default_na": False, "na_values": [""]}
    if file.lower().endswith(".tsv"):
        options["sep"] = "\t"
    return options


def load_data_file(option: str, file: str) -> Dataset:
    with phase("input check"):
        builder = check_data_file(option, file)
    kwargs = builder_options(builder, file)
    try:
        dataset = datasets.load_dataset(builder, data_files={"data": file}, split="data", **kwargs)
    except Exception as error:  # datasets wraps parser errors in several types; name the file instead
        cause = error.__cause__ or error
        raise UserInputError(
            f"--{option} {file}: could not be read ({type(cause).__name__}: {cause})"
        ) from None
    if len(dataset) == 0:
        raise UserInputError(f"--{option} {file}: no rows")
    return dataset


def load_split_files(option: str, files: list[str]) -> Dataset:
    """One split from one or more files; every file must have the same columns (names and types)."""
    parts = [load_data_file(option, file) for file in files]
    for file, part in zip(files[1:], parts[1:], strict=True):
        if part.features != parts[0].features:
            raise UserInputError(
                f"--{option}: {file} has columns {describe_columns(part)}, unlike {files[0]} "
                f"({describe_columns(parts[0])}); the files of one split need the same columns"
            )
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def describe_columns(dataset: Dataset) -> str:
    return ", ".join(
        f"{name}: {getattr(feature, 'dtype', type(feature).__name__)}"
        for name, feature in dataset.features.items()
    )


def load_local_files(data_args: DataArguments) -> DatasetDict:
    splits = {}
    for split, option in (("train", "train_file"), ("validation", "validation_file"), ("test", "test_file")):
        patterns = getattr(data_args, option)
        if patterns is not None:
            splits[split] = load_split_files(option, expand_data_files(option, patterns))
    return DatasetDict(splits)


def load_hub_dataset(data_args: DataArguments, streaming: bool = False) -> DatasetDict:
    """train, validation (or valid, dev) and test; with `streaming`, IterableDatasets that read as they go."""
    try:
        loaded = datasets.load_dataset(
            data_args.dataset_name, data_args.dataset_config_name, streaming=streaming
        )
    except (FileNotFoundError, ConnectionError, ValueError) as error:
        raise UserInputError(f"--dataset_name {data_args.dataset_name}: {error}") from None
    splits = {"train": loaded["train"]} if "train" in loaded else {}
    if not splits:
        raise UserInputError(
            f"--dataset_name {data_args.dataset_name}: no 'train' split (found {list(loaded)})"
        )
    for name in VALIDATION_SPLIT_NAMES:
        if name in loaded:
            splits["validation"] = loaded[name]
            break
    if "test" in loaded:
        splits["test"] = loaded["test"]
    return datasets.IterableDatasetDict(splits) if streaming else DatasetDict(splits)


def pick_column(
    columns: list[str], requested: str | None, candidates: Iterable[str], kind: str, source: str
) -> str:
    if requested is not None:
        if requested not in columns:
            raise UserInputError(
                f"{source}: no column '{requested}' (--{kind}_column); available columns: {', '.join(columns)}"
            )
        return requested
    for name in candidates:
        if name in columns:
            return name
    raise UserInputError(
        f"{source}: no {kind} column found (tried {', '.join(candidates)}); available columns: "
        f"{', '.join(columns)}; pass --{kind}_column"
    )


def standard_columns(
    dataset: Dataset, text_column: str | None, label_column: str | None, source: str
) -> Dataset:
    """Keep the text and label columns only, named `text` and `label`."""
    text = pick_column(dataset.column_names, text_column, TEXT_COLUMN_CANDIDATES, "text", source)
    label = pick_column(dataset.column_names, label_column, LABEL_COLUMN_CANDIDATES, "label", source)
    if text == label:
        raise UserInputError(f"{source}: the text and label columns are both '{text}'")
    text_type = dataset.features[text]
    if not isinstance(text_type, datasets.Value):  # a list or a struct cannot be cast to a string
        raise UserInputError(
            f"{source}: the text column '{text}' holds {text_type} values; expected one string per row"
        )
    return dataset.select_columns([text, label]).rename_columns({text: "text", label: "label"})


def split_source(data_args: DataArguments, split: str) -> str:
    """How errors name a split: its file, or the Hub dataset and split."""
    files = getattr(data_args, f"{split}_file", None)
    if not files:
        return f"{data_args.dataset_name} [{split}]"
    if len(files) == 1 and not glob.has_magic(files[0]):
        return files[0]
    return f"{' '.join(files)} (rows counted across the files in order)"


def column_values(dataset: Dataset, name: str) -> list:
    """A column as a list. `dataset[name]` is a lazy Column in datasets 5: iterating it formats one row at a time,
    about 60 us a row (a minute per 100k rows), where slicing converts the whole column at once."""
    return dataset[name][:]


def label_names_from_train(train: Dataset) -> list[str]:
    """ClassLabel names as they are; otherwise the distinct values, numbers in numeric order, strings sorted."""
    feature = train.features["label"]
    if isinstance(feature, ClassLabel):
        return list(feature.names)
    values = set(column_values(train, "label"))
    if all(isinstance(value, (int, bool)) for value in values):
        return [str(value) for value in sorted(values)]
    return sorted(str(value) for value in values)


def first_rows(flags: list[bool], limit: int = 3) -> str:
    rows = [str(index + 1) for index, flag in enumerate(flags) if flag][:limit]
    return ", ".join(rows)


def strip_labels(dataset: Dataset, source: str) -> Dataset:
    """'joy ' and 'joy' are one class: string labels lose their surrounding whitespace (a blank label is missing)."""
    feature = dataset.features["label"]
    if not (isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string")):
        return dataset
    labels = column_values(dataset, "label")
    stripped = [(label.strip() or None) if label is not None else None for label in labels]
    changed = [(old, new) for old, new in zip(labels, stripped, strict=True) if old != new]
    if not changed:
        return dataset
    logger.warning(
        "%s: removed the whitespace around %d label(s) (%r is the class %r)",
        source,
        len(changed),
        *changed[0],
    )
    return dataset.remove_columns("label").add_column("label", stripped, feature=feature)


def clean_split(dataset: Dataset, data_args: DataArguments, source: str) -> Dataset:
    """Reject (or with --drop_empty, drop) empty texts; reject missing labels."""
    empty = [text is None or not str(text).strip() for text in column_values(dataset, "text")]
    if any(empty):
        count = sum(empty)
        if not data_args.drop_empty:
            raise UserInputError(
                f"{source}: {count} empty or null text(s) in the text column (row {first_rows(empty)}); "
                f"fix them or pass --drop_empty to skip them"
            )
        logger.warning("%s: dropping %d empty or null text(s)", source, count)
        dataset = dataset.select([index for index, flag in enumerate(empty) if not flag])
        if len(dataset) == 0:
            raise UserInputError(f"{source}: no rows left after dropping empty texts")
    dataset = strip_labels(dataset, source)
    labels = column_values(dataset, "label")
    missing = [label is None or label == -1 for label in labels]  # -1: ClassLabel's "no label"
    if any(missing):
        raise UserInputError(
            f"{source}: {sum(missing)} row(s) without a label (row {first_rows(missing)}); every row needs one"
        )
    if not isinstance(dataset.features["text"], datasets.Value) or dataset.features["text"].dtype != "string":
        dataset = dataset.cast_column("text", datasets.Value("string"))
    return dataset


def encode_labels(dataset: Dataset, names: list[str], source: str, known_as: str = "train") -> Dataset:
    """Map labels to ids of `names`; an unseen label is an error naming its row."""
    feature = dataset.features["label"]
    if isinstance(feature, ClassLabel):
        if list(feature.names) != names:
            raise UserInputError(
                f"{source}: label names {feature.names} differ from the {known_as} labels {names}"
            )
        return dataset
    index = {name: position for position, name in enumerate(names)}
    values = [str(value) for value in column_values(dataset, "label")]
    unseen = [value not in index for value in values]
    if any(unseen):
        value = values[unseen.index(True)]
        raise UserInputError(
            f"{source} row {unseen.index(True) + 1}: label '{value}' is not among the {known_as} labels "
            f"({', '.join(names)})"
        )
    dataset = dataset.remove_columns("label").add_column("label", [index[value] for value in values])
    return dataset.cast_column("label", ClassLabel(names=names))


def load_raw_splits(data_args: DataArguments) -> DatasetDict:
    """The splits as read (every column), cut to --max_train_samples / --max_eval_samples."""
    if data_args.data_dir:
        find_split_files(data_args)
    local = data_args.train_file is not None  # local files win over a Hub name
    raw = load_local_files(data_args) if local else load_hub_dataset(data_args)
    if data_args.max_train_samples is not None:
        raw["train"] = raw["train"].select(range(min(data_args.max_train_samples, len(raw["train"]))))
    for split in ("validation", "test"):
        if split in raw and data_args.max_eval_samples is not None:
            raw[split] = raw[split].select(range(min(data_args.max_eval_samples, len(raw[split]))))
    return raw


def encode_single_labels(raw: DatasetDict, data_args: DataArguments) -> DatasetDict:
    """One label per row: `label` becomes a ClassLabel with the train labels' names."""
    splits = {}
    for split, dataset in raw.items():
        source = split_source(data_args, split)
        dataset = standard_columns(dataset, data_args.text_column, data_args.label_column, source)
        splits[split] = clean_split(dataset, data_args, source)

    names = label_names_from_train(splits["train"])
    if len(names) < 2:
        raise UserInputError(
            f"{split_source(data_args, 'train')}: a single class ({names[0]!r}); a classifier needs at least two"
        )
    for split in splits:
        splits[split] = encode_labels(splits[split], names, split_source(data_args, split))
    return DatasetDict(splits)


def load_splits(data_args: DataArguments, seed: int) -> DatasetDict:
    """Load, validate and encode: returns train / validation / (test) with `text` and `label` columns."""
    return load_problem(data_args, seed).splits


def carve_missing_validation(splits: DatasetDict, data_args: DataArguments, seed: int) -> DatasetDict:
    if "validation" not in splits:
        splits["train"], splits["validation"] = carve_validation(
            splits["train"], data_args.validation_split_percentage, seed
        )
    return splits


def warn_about_rare_classes(splits: dict[str, Dataset], data_args: DataArguments) -> None:
    """Train anyway, but say so: a class with few train rows is learned poorly, one with none never."""
    names = splits["train"].features["label"].names
    train_counts = Counter(column_values(splits["train"], "label"))
    rare = [f"{name} {train_counts[index]}" for index, name in enumerate(names)]
    rare = [entry for index, entry in enumerate(rare) if train_counts[index] < MIN_TRAIN_ROWS_PER_CLASS]
    if rare:
        logger.warning(
            "%s: the train split has fewer than %d rows of class(es) %s; the model will learn little of them",
            split_source(data_args, "train"),
            MIN_TRAIN_ROWS_PER_CLASS,
            ", ".join(rare),
        )
    for split in set(splits) - {"train"}:
        counts = Counter(column_values(splits[split], "label"))
        unseen = [
            f"{names[index]} ({counts[index]} rows)" for index in sorted(counts) if not train_counts[index]
        ]
        if unseen:
            logger.warning(
                "%s: class(es) %s appear in the %s split but never in train; the model cannot predict them",
                split_source(data_args, split),
                ", ".join(unseen),
                split,
            )


def carve_validation(train: Dataset, percentage: int, seed: int) -> tuple[Dataset, Dataset]:
    try:
        parts = train.train_test_split(test_size=percentage / 100, stratify_by_column="label", seed=seed)
    except ValueError:  # a class with a single example cannot be stratified
        parts = train.train_test_split(test_size=percentage / 100, seed=seed)
    return parts["train"], parts["test"]


# WordPiece training reads about 1.2M characters/s on 2 CPU cores (SST-2 texts: 400k, 21M characters, in 17 s):
# 30M characters keep it near 25 s.
TOKENIZER_CHARACTER_BUDGET = 30_000_000


def tokenizer_training_sample(train: Dataset, samples: int | None, seed: int) -> Dataset:
    """The seeded sample a new tokenizer learns from: `samples` texts, or by default as many as the character
    budget holds (the mean length estimated on 10,000 of them); all texts when they fit."""
    if samples is not None and samples < 1:
        raise UserInputError(f"--tokenizer_train_samples must be at least 1, got {samples}")
    shuffled = train.shuffle(seed=seed)
    if samples is None:
        probe = column_values(shuffled.select(range(min(len(train), 10_000))), "text")
        samples = int(TOKENIZER_CHARACTER_BUDGET * len(probe) / max(sum(map(len, probe)), 1))
    return train if samples >= len(train) else shuffled.select(range(samples))


def iter_texts(dataset: Dataset, batch_size: int = 10_000) -> Iterator[str]:
    """The `text` column a batch at a time, so a large split is never held in memory as one list."""
    for batch in dataset.iter(batch_size=batch_size):
        yield from batch["text"]


def auto_max_seq_length(tokenizer, train: Dataset, seed: int) -> tuple[int, float]:
    """The 98th percentile of the training texts' token counts (a seeded sample of 10,000), rounded up to a multiple
    of 16 and kept within 32-512: about 2% of the texts are cut, and batches stay as short as the data allows.
    Returns (max_seq_length, the percentile)."""
    sample = column_values(train.shuffle(seed=seed).select(range(min(len(train), 10_000))), "text")
    lengths = [len(ids) for ids in tokenizer(sample, verbose=False)["input_ids"]]
    percentile = float(np.percentile(lengths, 98))
    return min(max(math.ceil(percentile / 16) * 16, 32), 512), percentile


def tokenize_splits(
    splits: DatasetDict,
    tokenizer,
    max_seq_length: int,
    num_proc: int | None = None,
    load_from_cache_file: bool | None = None,
) -> DatasetDict:
    """Token ids, attention masks, lengths (for length-grouped batches) and `tokens_cut` (how many tokens the
    truncation removed, on the tokenizer's truncation_side); `label` stays."""

    def tokenize(batch):
        # Whole first, to count what is cut; only the texts that are too long are encoded again, truncated.
        encoded = tokenizer(batch["text"], verbose=False)
        full_lengths = [len(ids) for ids in encoded["input_ids"]]
        long_rows = [row for row, length in enumerate(full_lengths) if length > max_seq_length]
        if long_rows:
            texts = [batch["text"][row] for row in long_rows]
            truncated = tokenizer(texts, truncation=True, max_length=max_seq_length)
            for key in encoded:
                for position, row in enumerate(long_rows):
                    encoded[key][row] = truncated[key][position]
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        encoded["tokens_cut"] = [
            full - kept for full, kept in zip(full_lengths, encoded["length"], strict=True)
        ]
        return encoded

    return splits.map(
        tokenize,
        batched=True,
        num_proc=num_proc,
        remove_columns=["text"],
        load_from_cache_file=load_from_cache_file,
        desc="Tokenizing",
    )


def truncation_stats(train: Dataset) -> dict:
    """How much truncation removed from the training texts: share of texts cut, mean and max tokens cut."""
    cut = np.asarray(column_values(train, "tokens_cut"))
    truncated = cut[cut > 0]
    return {
        "train_truncated_share": float(len(truncated) / max(len(cut), 1)),
        "train_truncated_mean_tokens_cut": float(truncated.mean()) if len(truncated) else 0.0,
        "train_truncated_max_tokens_cut": int(truncated.max()) if len(truncated) else 0,
    }


def load_labelled_file(
    file: str, label_names: list[str], text_column: str | None, label_column: str | None, drop_empty: bool
) -> Dataset:
    """One evaluation file, validated like training data, its labels encoded with a trained model's names."""
    data_args = DataArguments(
        test_file=file, text_column=text_column, label_column=label_column, drop_empty=drop_empty
    )
    dataset = standard_columns(load_local_files(data_args)["test"], text_column, label_column, file)
    if isinstance(dataset.features["label"], ClassLabel):
        # A Parquet file may carry its own ClassLabel; compare by name, not by id.
        names = dataset.features["label"].names
        dataset = dataset.cast_column("label", datasets.Value("string"))
        dataset = dataset.map(lambda row: {"label": names[int(row["label"])]})
    return encode_labels(clean_split(dataset, data_args, file), label_names, file, known_as="model's")


@dataclass
class LabelledData:
    """The encoded splits and what data.py decided about their labels (saved in the config by training)."""

    splits: DatasetDict
    problem_type: str
    label_names: list[str]


def label_source(columns: list[str], data_args: DataArguments, source: str) -> LabelSource:
    """Where the labels sit in a split's columns; --label_columns naming a missing column is an error."""
    if data_args.label_columns:
        if data_args.label_column:
            raise UserInputError("give --label_column or --label_columns, not both")
        missing = [column for column in data_args.label_columns if column not in columns]
        if missing:
            raise UserInputError(
                f"{source}: no column '{missing[0]}' (--label_columns); available columns: {', '.join(columns)}"
            )
        if len(set(data_args.label_columns)) < len(data_args.label_columns):
            raise UserInputError(
                f"--label_columns {' '.join(data_args.label_columns)}: a column is named twice"
            )
        return LabelSource(list(data_args.label_columns), None, several=True)
    label = pick_column(columns, data_args.label_column, LABEL_COLUMN_CANDIDATES, "label", source)
    return LabelSource([label], data_args.label_separator, several=False)


def encode_vector_split(
    dataset: Dataset,
    data_args: DataArguments,
    problem_type: str,
    names: list[str],
    source: str,
    known_as: str,
) -> Dataset:
    """`text` and a float-vector `label` (multi-hot or targets) of length len(names), then the usual text checks."""
    where = label_source(dataset.column_names, data_args, source)
    text = pick_column(dataset.column_names, data_args.text_column, TEXT_COLUMN_CANDIDATES, "text", source)
    if text in where.columns:
        raise UserInputError(f"{source}: the text column '{text}' is also a label column")
    columns = {column: column_values(dataset, column) for column in where.columns}
    vectors = encode_label_vectors(problem_type, columns, where, names, source, known_as)
    encoded = dataset.select_columns([text]).rename_columns({text: "text"} if text != "text" else {})
    label_feature = datasets.Sequence(datasets.Value("float32"), length=len(names))
    encoded = encoded.add_column("label", vectors, feature=label_feature)
    return clean_split(encoded, data_args, source)


def load_problem(data_args: DataArguments, seed: int) -> LabelledData:
    """Load and validate the splits, decide the problem type once (logging why) and encode the labels."""
    if data_args.label_separator is not None and not data_args.label_separator:
        raise UserInputError("--label_separator must not be empty")
    raw = load_raw_splits(data_args)
    train_source = split_source(data_args, "train")
    # The text column is checked first, as the single-label path always did.
    pick_column(
        raw["train"].column_names, data_args.text_column, TEXT_COLUMN_CANDIDATES, "text", train_source
    )
    where = label_source(raw["train"].column_names, data_args, train_source)
    columns = {column: column_values(raw["train"], column) for column in where.columns}
    problem_type, reason = decide_problem_type(columns, where, data_args.problem_type, train_source)
    logger.info("Problem type: %s (%s)", problem_type, reason)
    if data_args.normalize_targets and problem_type != REGRESSION:
        raise UserInputError(f"--normalize_targets is for regression; the data is {problem_type}")
    if problem_type == SINGLE_LABEL:
        splits = carve_missing_validation(encode_single_labels(raw, data_args), data_args, seed)
        warn_about_rare_classes(splits, data_args)
        return LabelledData(splits, problem_type, splits_names(splits))
    names = label_names_for(problem_type, columns, where, train_source)
    splits = DatasetDict(
        {
            split: encode_vector_split(
                dataset, data_args, problem_type, names, split_source(data_args, split), "train"
            )
            for split, dataset in raw.items()
        }
    )
    if problem_type == MULTI_LABEL:
        log_label_counts(splits)
    return LabelledData(carve_missing_validation(splits, data_args, seed), problem_type, names)


def splits_names(splits: DatasetDict) -> list[str]:
    return list(splits["train"].features["label"].names)


def log_label_counts(splits: DatasetDict) -> None:
    """Multi-label: how many texts carry no label, and how many several, per split."""
    for split, dataset in splits.items():
        counts = np.asarray(column_values(dataset, "label")).sum(axis=1)
        logger.info(
            "%s: %d texts, %d without a label, %d with several",
            split,
            len(counts),
            int((counts == 0).sum()),
            int((counts > 1).sum()),
        )


def load_labelled_vectors(
    file: str,
    problem_type: str,
    label_names: list[str],
    columns: DataArguments,
) -> Dataset:
    """A multi-label or regression evaluation file, validated like training data, its labels encoded as float
    vectors over a trained model's labels. `columns` gives the text/label column options; without a label column,
    a file holding a column per label name (as --label_columns trained the model) is read that way."""
    data_args = DataArguments(
        test_file=file,
        text_column=columns.text_column,
        label_column=columns.label_column,
        label_columns=columns.label_columns,
        label_separator=columns.label_separator,
        drop_empty=columns.drop_empty,
    )
    dataset = load_local_files(data_args)["test"]
    named_columns = all(name in dataset.column_names for name in label_names)
    if not (data_args.label_column or data_args.label_columns) and (
        named_columns or problem_type == REGRESSION
    ):
        data_args.label_columns = list(label_names)
    if data_args.label_columns and list(data_args.label_columns) != list(label_names):
        raise UserInputError(
            f"--label_columns {' '.join(data_args.label_columns)}: the model's labels are {', '.join(label_names)}"
        )
    return encode_vector_split(dataset, data_args, problem_type, label_names, file, known_as="model's")
