"""Texts in, predictions out, at any size: readers that yield chunks of rows and writers that append them.

Readers take plain text lines (a file, stdin or a list), CSV, TSV, JSON lines or Parquet, chosen by the file's
suffix, and yield the rows as dicts, a chunk at a time, so memory holds one chunk whatever the input's size. Writers
append each chunk's rows with their predictions to JSON lines, CSV or Parquet (by suffix) or to stdout; a file is
written under a temporary name beside the target and renamed at the end, so a failed run leaves nothing behind.
No datasets or training code here: this is the fast path of scripts/predict.py.
"""

import csv
import itertools
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import UserInputError
from .inference import blank_record, predict_probabilities, prediction_records

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")  # any other input file is read as plain text lines
OUTPUT_SUFFIXES = (".jsonl", ".csv", ".parquet")
CSV_FIELD_SIZE_LIMIT = 2**31 - 1  # as data.py: the csv module refuses fields over 128 KB by default


@dataclass
class TextInput:
    """Rows to predict: `rows` is a lazy iterator of dicts holding `columns`, the texts in `text_column`."""

    name: str  # for messages: the file, "stdin" or "the arguments"
    columns: list[str]
    text_column: str
    rows: Iterator[dict]
    total: int | None = None  # the row count, where the format states it up front (Parquet)
    schema: object = None  # the Parquet file's pyarrow schema, kept in a Parquet output

    def check_not_empty(self) -> None:
        """An input without a single row is an error before the model loads."""
        first = next(self.rows, None)
        if first is None:
            raise UserInputError(f"no texts to classify in {self.name}")
        self.rows = itertools.chain([first], self.rows)

    def chunks(self, chunk_size: int) -> Iterator[list[dict]]:
        while chunk := list(itertools.islice(self.rows, chunk_size)):
            yield chunk


def open_input(input_file: str | None, texts: list[str], text_column: str) -> TextInput:
    """The texts given as arguments, else `input_file` (a table by suffix, else plain lines), else stdin."""
    if texts:
        return TextInput("the arguments", ["text"], "text", ({"text": text} for text in texts))
    if input_file is None:
        return TextInput("stdin", ["text"], "text", text_rows(sys.stdin, "stdin"))
    path = Path(input_file)
    if not path.is_file():
        raise UserInputError(f"--input_file {path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return parquet_input(path, text_column)
    if suffix == ".jsonl":
        return jsonl_input(path, text_column)
    if suffix in (".csv", ".tsv"):
        return delimited_input(path, "\t" if suffix == ".tsv" else ",", text_column)
    return TextInput(str(path), ["text"], "text", plain_file_rows(path))


def plain_file_rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8", errors="strict") as handle:
        yield from text_rows(handle, str(path), path)


def text_rows(lines: Iterable[str], source: str, path: Path | None = None) -> Iterator[dict]:
    """One row per line; an undecodable line is an error naming it, not a traceback half-way through."""
    try:
        for line in lines:
            yield {"text": line.rstrip("\r\n")}
    except UnicodeDecodeError:
        raise not_utf8(source, path) from None


def not_utf8(source: str, path: Path | None) -> UserInputError:
    """The error naming the first undecodable line (the decoder reads blocks, so its position is not the line's)."""
    if path is None:
        return UserInputError(f"{source}: not valid UTF-8")
    from .data import first_undecodable_line  # only on this error path: data.py imports datasets

    return UserInputError(f"{path} {first_undecodable_line(path)}; save the file as UTF-8")


def check_text_column(path: Path, text_column: str, columns: list[str]) -> None:
    if text_column not in columns:
        raise UserInputError(
            f"--text_column {text_column}: no such column in {path} (columns: {', '.join(map(str, columns))})"
        )


def delimited_input(path: Path, delimiter: str, text_column: str) -> TextInput:
    csv.field_size_limit(CSV_FIELD_SIZE_LIMIT)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            header = next(csv.reader(handle, delimiter=delimiter), [])
        except UnicodeDecodeError:
            raise not_utf8(str(path), path) from None
    check_text_column(path, text_column, header)
    return TextInput(str(path), header, text_column, delimited_rows(path, delimiter, header))


def delimited_rows(path: Path, delimiter: str, header: list[str]) -> Iterator[dict]:
    """Each record after the header as a dict; a blank line holds no record (as pandas and datasets read it)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            next(reader)
            for fields in reader:
                if not fields:
                    continue
                if len(fields) != len(header):
                    raise UserInputError(
                        f"{path} line {reader.line_num}: {len(fields)} fields where the header has {len(header)}"
                    )
                yield dict(zip(header, fields, strict=True))
        except UnicodeDecodeError:
            raise not_utf8(str(path), path) from None


def jsonl_input(path: Path, text_column: str) -> TextInput:
    rows = jsonl_rows(path)
    first = next(rows, None)
    columns = list(first) if first else []
    check_text_column(path, text_column, columns)
    return TextInput(str(path), columns, text_column, itertools.chain([first], rows))


def jsonl_rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(text_rows(handle, str(path), path), 1):
            if not line["text"].strip():
                continue
            try:
                row = json.loads(line["text"])
            except json.JSONDecodeError as error:
                raise UserInputError(f"{path} line {number}: not valid JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise UserInputError(f"{path} line {number}: not a JSON object")
            yield row


def parquet_input(path: Path, text_column: str) -> TextInput:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    check_text_column(path, text_column, schema.names)
    rows = (row for batch in parquet.iter_batches(batch_size=4096) for row in batch.to_pylist())
    return TextInput(str(path), schema.names, text_column, rows, parquet.metadata.num_rows, schema)


def texts_of(text_input: TextInput, chunk: list[dict], first_row: int) -> list[str]:
    """The chunk's texts; a missing value is an empty text (answered with nulls), a non-text is an error."""
    texts = []
    for number, row in enumerate(chunk, first_row + 1):
        if text_input.text_column not in row:
            raise UserInputError(f"{text_input.name} row {number}: no column {text_input.text_column!r}")
        value = row[text_input.text_column]
        if not isinstance(value, str | None):
            raise UserInputError(
                f"{text_input.name} row {number}: column {text_input.text_column!r} holds "
                f"{type(value).__name__} {value!r}, not a text"
            )
        texts.append(value or "")
    return texts


def predict_records(model, tokenizer, texts: list[str], batch_size: int, top_k: int) -> list[dict]:
    """One record per text, in order; an empty or blank text gets `blank_record` (its fields, empty)."""
    kept = [index for index, text in enumerate(texts) if text.strip()]
    scores = predict_probabilities(model, tokenizer, [texts[index] for index in kept], batch_size)
    predicted = dict(zip(kept, prediction_records(scores, model.config, top_k), strict=True))
    return [predicted.get(index) or blank_record(model.config) for index in range(len(texts))]


def predicted_chunks(model, tokenizer, text_input: TextInput, options, state) -> Iterator[tuple[list, list]]:
    """Each chunk's rows with their records, in input order, on the main process (the others yield nothing).

    Every process reads the same chunks and predicts its own slice of each (Accelerate's split_between_processes,
    rank 0 first); gather_object puts the slices back together in rank order, hence in input order."""
    from accelerate.utils import gather_object

    first_row = 0
    for chunk in text_input.chunks(options.chunk_size):
        texts = texts_of(text_input, chunk, first_row)
        first_row += len(chunk)
        with state.split_between_processes(texts) as share:
            records = predict_records(model, tokenizer, share, options.batch_size, options.top_k)
        if state.num_processes > 1:
            records = gather_object(records)
        if state.is_main_process:
            yield chunk, records


def prediction_columns(config) -> list[str]:
    """The flat layout of CSV and Parquet: label, score (single-label); the labels reaching their threshold, joined
    by ";", then one probability column per label (multi-label); one column per target (regression)."""
    names = [config.id2label[index] for index in range(config.num_labels)]
    if config.problem_type == "multi_label_classification":
        return ["labels", *names]
    if config.problem_type == "regression":
        return names
    return ["label", "score"]


def flat_values(record: dict, config) -> list:
    """A record's values in `prediction_columns` order; None (an empty cell) for a blank text."""
    if config.problem_type not in ("multi_label_classification", "regression"):
        return [record["label"], record["score"]]
    names = [config.id2label[index] for index in range(config.num_labels)]
    values = [record["scores"][name] if record["scores"] else None for name in names]
    if config.problem_type == "multi_label_classification":
        return [";".join(record["labels"]) if record["scores"] else None, *values]
    return values


def output_names(input_columns: list[str], prediction_names: list[str]) -> list[str]:
    """The input's columns as written: `input_<name>` where a prediction column has the same name (a labelled
    test file's `label`), so neither hides the other."""
    return [f"input_{name}" if name in prediction_names else name for name in input_columns]


class JsonlWriter:
    """Each input row's columns, then the record predict.py prints (label, score, top_k / labels, scores / scores)."""

    def __init__(self, stream, config, text_input: TextInput):
        self.stream = stream
        self.prediction_names = list(blank_record(config))

    def write(self, rows: list[dict], records: list[dict]) -> None:
        for row, record in zip(rows, records, strict=True):
            names = output_names(list(row), self.prediction_names)
            line = {**dict(zip(names, row.values(), strict=True)), **record}
            self.stream.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class CsvWriter:
    """A header, then per row the input's columns and the `prediction_columns`; a blank text's are empty."""

    def __init__(self, stream, config, text_input: TextInput):
        self.stream, self.config, self.columns = stream, config, text_input.columns
        self.writer = csv.writer(stream, lineterminator="\n")
        predictions = prediction_columns(config)
        self.writer.writerow([*output_names(self.columns, predictions), *predictions])

    def write(self, rows: list[dict], records: list[dict]) -> None:
        for row, record in zip(rows, records, strict=True):
            cells = [csv_cell(row.get(name)) for name in self.columns]
            self.writer.writerow([*cells, *flat_values(record, self.config)])
        self.stream.flush()

    def close(self) -> None:
        pass


def csv_cell(value):
    """A nested input value (a JSON lines list, a Parquet struct) as JSON, not as Python's repr."""
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, list | dict) else value


class ParquetWriter:
    """The input's columns (with the input file's types for Parquet, else those of the first chunk's values), then
    the `prediction_columns`: labels as strings, scores as float64."""

    def __init__(self, path: Path, config, text_input: TextInput):
        import pyarrow as pa

        self.path, self.config, self.columns = path, config, text_input.columns
        self.input_schema = text_input.schema
        self.predictions = prediction_columns(config)
        self.types = [
            pa.string() if name in ("label", "labels") else pa.float64() for name in self.predictions
        ]
        self.writer = None

    def write(self, rows: list[dict], records: list[dict]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            inputs = pa.Table.from_pylist(rows, schema=self.input_schema).select(self.columns)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise UserInputError(f"{self.path}: an input column changes type ({error})") from None
        if self.input_schema is None:  # types fixed by the first chunk; an all-null column is text
            self.input_schema = pa.schema(
                [
                    field.with_type(pa.string()) if pa.types.is_null(field.type) else field
                    for field in inputs.schema
                ]
            )
            inputs = inputs.cast(self.input_schema)
        values = list(zip(*(flat_values(record, self.config) for record in records), strict=True))
        predicted = [pa.array(column, type) for column, type in zip(values, self.types, strict=True)]
        names = [*output_names(self.columns, self.predictions), *self.predictions]
        table = pa.Table.from_arrays([*inputs.columns, *predicted], names=names)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


WRITERS = {".jsonl": JsonlWriter, ".csv": CsvWriter, ".parquet": ParquetWriter}


def check_output_file(output_file: str, overwrite: bool) -> Path:
    """Before any work: a bad suffix, a missing folder or an existing file is one line."""
    path = Path(output_file)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UserInputError(
            f"--output_file {output_file}: unknown format '{path.suffix}'; use one of {', '.join(OUTPUT_SUFFIXES)}"
        )
    if path.is_dir():
        raise UserInputError(f"--output_file {output_file}: is a folder; give a file name such as out.jsonl")
    if not path.parent.is_dir():
        raise UserInputError(f"--output_file {output_file}: folder {path.parent} not found; create it first")
    if path.exists() and not overwrite:
        raise UserInputError(f"--output_file {output_file}: the file exists; pass --overwrite to replace it")
    return path


@contextmanager
def file_writer(path: Path, overwrite: bool, config, text_input: TextInput):
    """A writer into a temporary file beside `path`, renamed to `path` once all went well, removed otherwise."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    suffix = path.suffix.lower()
    try:
        with ExitStack() as stack:
            # Parquet's writer opens its file itself; JSON lines and CSV write to a text stream.
            target = (
                temporary
                if suffix == ".parquet"
                else stack.enter_context(temporary.open("w", encoding="utf-8", newline=""))
            )
            writer = WRITERS[suffix](target, config, text_input)
            yield writer
            writer.close()
        check_output_file(str(path), overwrite)  # the file may have appeared since the start
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def prediction_writer(output_file: str | None, output_format: str, overwrite: bool, config, text_input):
    """`output_file`'s writer, or with none a JSON lines or CSV writer on stdout."""
    if output_file is None:
        yield WRITERS[f".{output_format}"](sys.stdout, config, text_input)
        return
    with file_writer(Path(output_file), overwrite, config, text_input) as writer:
        yield writer
