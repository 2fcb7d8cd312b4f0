"""Data loading and validation: every bad input is one clear line, exit code 2, and nothing in --output_dir."""

import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, subprocess_env

from modeling_lstm.args import DataArguments
from modeling_lstm.cli import run_cli
from modeling_lstm.data import load_labelled_file, load_splits
from modeling_lstm.errors import UserInputError
from modeling_lstm.training import main as train_main

GOOD_ROWS = [("good fun film", "pos"), ("bad dull film", "neg")] * 10


def write_csv(path, rows, header=("text", "label")):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def train_exit(tmp_path, capsys, *argv) -> tuple[int, str]:
    """Run train.py's main in-process; returns (exit code, stderr)."""
    code = run_cli(train_main, [*argv, "--output_dir", str(tmp_path / "out"), "--num_train_epochs", "1"])
    return code, capsys.readouterr().err


def with_good_train(flag: str, file: str):
    """The arguments: good.csv to train on, and `flag` naming `file` of the test folder."""
    return lambda folder: ["--train_file", str(folder / "good.csv"), flag, str(folder / file)]


BAD_INPUTS = {
    "missing file": (lambda d: ["--train_file", str(d / "nope.csv")], "nope.csv: file not found"),
    "empty file": (lambda d: ["--train_file", str(d / "empty.csv")], "empty.csv: the file is empty"),
    "header only": (lambda d: ["--train_file", str(d / "header.csv")], "header only, no data rows"),
    "no text column": (lambda d: ["--train_file", str(d / "cols.csv")], "no text column found"),
    "no label column": (
        lambda d: ["--train_file", str(d / "cols.csv"), "--text_column", "comment"],
        "no label column found",
    ),
    "unknown --text_column": (
        lambda d: ["--train_file", str(d / "good.csv"), "--text_column", "review"],
        "no column 'review' (--text_column); available columns: text, label",
    ),
    "empty and null texts": (
        lambda d: ["--train_file", str(d / "empty_texts.csv")],
        "2 empty or null text(s) in the text column (row 2, 4); fix them or pass --drop_empty",
    ),
    "null labels": (
        lambda d: ["--train_file", str(d / "null_labels.csv")],
        "1 row(s) without a label (row 3)",
    ),
    "single class": (lambda d: ["--train_file", str(d / "one_class.csv")], "a single class ('pos')"),
    "non-UTF-8": (
        lambda d: ["--train_file", str(d / "latin1.csv")],
        "latin1.csv line 3: not valid UTF-8 (byte 0xe9)",
    ),
    "malformed CSV row": (
        lambda d: ["--train_file", str(d / "malformed.csv")],
        "malformed.csv row 2 (line 3): expected 2 fields like the header, found 4",
    ),
    "unseen validation label": (
        lambda d: ["--train_file", str(d / "good.csv"), "--validation_file", str(d / "unseen.csv")],
        "unseen.csv row 2: label 'meh' is not among the train labels (neg, pos)",
    ),
    "duplicate header": (
        lambda d: ["--train_file", str(d / "twice.csv")],
        "twice.csv: the header names two columns 'label' (columns 2 and 3); rename one",
    ),
    # Validation and test files get the checks train gets, and are named in the error.
    "empty text in validation": (
        with_good_train("--validation_file", "val_empty.csv"),
        "val_empty.csv: 1 empty or null text(s) in the text column (row 3)",
    ),
    "null label in test": (
        with_good_train("--test_file", "test_unlabelled.csv"),
        "test_unlabelled.csv: 1 row(s) without a label (row 2)",
    ),
    "no text column in validation": (
        with_good_train("--validation_file", "cols.csv"),
        "cols.csv: no text column found",
    ),
    "unknown extension": (lambda d: ["--train_file", str(d / "data.xlsx")], "unknown format '.xlsx'"),
    "missing config file": (lambda d: ["--config", str(d / "none.yaml")], "none.yaml: file not found"),
    "unknown config key": (lambda d: ["--config", str(d / "typo.yaml")], "unknown argument(s) num_epochs"),
    "unknown --tokenizer_name": (
        lambda d: ["--train_file", str(d / "good.csv"), "--tokenizer_name", str(d / "no-tokenizer")],
        "no-tokenizer: no tokenizer found there",
    ),
    "missing word vectors file": (
        lambda d: ["--train_file", str(d / "good.csv"), "--pretrained_embeddings", str(d / "glove.txt")],
        "glove.txt: file not found",
    ),
    "ragged word vectors": (
        lambda d: ["--train_file", str(d / "good.csv"), "--pretrained_embeddings", str(d / "ragged.txt")],
        "ragged.txt line 2: 2 values, expected 3",
    ),
    "glob matching nothing": (
        lambda d: ["--train_file", str(d / "shards" / "train-*.parquet")],
        "train-*.parquet: the pattern matches no file",
    ),
    "files of one split with different columns": (
        lambda d: ["--train_file", str(d / "good.csv"), str(d / "cols.csv")],
        "cols.csv has columns comment: large_string, tag: large_string, unlike",
    ),
    "--streaming a .json file": (
        lambda d: ["--train_file", str(d / "good.json"), "--streaming", "--max_steps", "2"],
        "good.json: --streaming reads .csv, .tsv, .jsonl, .parquet files; a .json file may be one JSON document",
    ),
    "--streaming without --max_steps": (
        lambda d: [
            "--train_file",
            str(d / "good.jsonl"),
            "--validation_file",
            str(d / "good.csv"),
            "--streaming",
        ],
        "--streaming: the training stream's length is unknown (local files are not counted ahead); give --max_steps",
    ),
    "--streaming files of one split with different columns": (
        lambda d: [
            "--train_file",
            str(d / "good.jsonl"),
            str(d / "cols.jsonl"),
            "--streaming",
            "--max_steps",
            "2",
        ],
        "cols.jsonl has columns comment, tag, unlike",
    ),
    "--streaming validation taking every row": (
        lambda d: ["--train_file", str(d / "good.jsonl"), "--streaming", "--max_steps", "2"],
        "good.jsonl: validation would take all 20 rows (the first --max_eval_samples 10000)",
    ),
    "--streaming a glob matching nothing": (
        lambda d: ["--train_file", str(d / "shards" / "*.jsonl"), "--streaming", "--max_steps", "2"],
        "*.jsonl: the pattern matches no file",
    ),
    "--streaming an empty text in the first rows": (
        lambda d: [
            "--train_file",
            str(d / "good.jsonl"),
            str(d / "empty_text.jsonl"),
            "--streaming",
            "--max_steps",
            "2",
            "--validation_file",
            str(d / "good.csv"),
        ],  # fmt: skip
        "row 22: empty or null text; fix it or pass --drop_empty",
    ),
    "weight average decay of 1": (
        lambda d: ["--train_file", str(d / "good.csv"), "--ema_decay", "1"],
        "--ema_decay must be in [0, 1), got 1.0",
    ),
}


@pytest.fixture
def bad_files(tmp_path):
    write_csv(tmp_path / "good.csv", GOOD_ROWS)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("text,label\n")
    write_csv(tmp_path / "cols.csv", [("a", "b")] * 4, header=("comment", "tag"))
    write_csv(
        tmp_path / "empty_texts.csv",
        [("fine", "pos"), ("", "neg"), ("ok", "neg"), ("   ", "pos")] + GOOD_ROWS,
    )
    write_csv(tmp_path / "null_labels.csv", [("a", "pos"), ("b", "neg"), ("c", "")] + GOOD_ROWS)
    write_csv(tmp_path / "one_class.csv", [("a", "pos"), ("b", "pos")])
    (tmp_path / "latin1.csv").write_bytes(
        "text,label\nfine,pos\ncaf\u00e9 cr\u00e8me,neg\n".encode("latin-1")
    )
    (tmp_path / "malformed.csv").write_text("text,label\ngood,pos\nbad, really,neg,extra\n")
    write_csv(tmp_path / "unseen.csv", [("a", "pos"), ("b", "meh")])
    write_csv(
        tmp_path / "twice.csv", [(t, label, "x") for t, label in GOOD_ROWS], header=("text", "label", "label")
    )
    write_csv(tmp_path / "val_empty.csv", [("fine", "pos"), ("good", "neg"), ("", "pos"), ("ok", "neg")])
    write_csv(tmp_path / "test_unlabelled.csv", [("fine", "pos"), ("good", ""), ("ok", "neg")])
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "shards").mkdir()
    (tmp_path / "good.json").write_text(
        json.dumps([{"text": text, "label": label} for text, label in GOOD_ROWS])
    )
    jsonl = {"good": GOOD_ROWS, "cols": [("a", "b")] * 4, "empty_text": [("fine", "pos"), (" ", "neg")]}
    for name, rows in jsonl.items():
        names = ("comment", "tag") if name == "cols" else ("text", "label")
        lines = [json.dumps(dict(zip(names, row, strict=True))) + "\n" for row in rows]
        (tmp_path / f"{name}.jsonl").write_text("".join(lines))
    (tmp_path / "ragged.txt").write_text("good 0.1 0.2 0.3\nfilm 0.4 0.5\n")
    (tmp_path / "typo.yaml").write_text(f"train_file: {tmp_path / 'good.csv'}\nnum_epochs: 3\n")
    return tmp_path


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_nothing_written(case, bad_files, capsys):
    make_argv, expected = BAD_INPUTS[case]
    code, stderr = train_exit(bad_files, capsys, *make_argv(bad_files))
    assert code == 2
    # Progress bars may precede it; the error itself is one line, the last one, and there is no traceback.
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and stderr.strip().splitlines()[-1] == errors[0], stderr
    assert "Traceback" not in stderr
    assert expected in errors[0]
    assert not (bad_files / "out").exists()


def test_script_prints_no_traceback_for_user_errors(bad_files):
    """The real command line: exit code 2, one line on stderr, no Python traceback."""
    result = subprocess.run(
        [
            sys.executable,
            "scripts/train.py",
            "--train_file",
            str(bad_files / "malformed.csv"),
            "--output_dir",
            str(bad_files / "out"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert not (bad_files / "out").exists()


def test_drop_empty_skips_empty_texts(bad_files):
    args = DataArguments(train_file=str(bad_files / "empty_texts.csv"), drop_empty=True)
    splits = load_splits(args, seed=0)
    total = len(splits["train"]) + len(splits["validation"])
    assert total == 4 + len(GOOD_ROWS) - 2
    assert all(text.strip() for split in splits.values() for text in split["text"])


def test_labels_strings_sorted_and_validation_carved_stratified(tmp_path):
    rows = [(f"text {i}", ["b", "a", "c"][i % 3]) for i in range(300)]
    splits = load_splits(DataArguments(train_file=str(write_csv(tmp_path / "t.csv", rows))), seed=1)
    assert splits["train"].features["label"].names == ["a", "b", "c"]
    assert len(splits["validation"]) == 30
    # Stratified: each class keeps its share in the carved validation split.
    assert sorted(splits["validation"]["label"]).count(0) == 10
    again = load_splits(DataArguments(train_file=str(tmp_path / "t.csv")), seed=1)
    assert again["validation"]["text"] == splits["validation"]["text"]  # seeded


def test_integer_labels_keep_numeric_order(tmp_path):
    rows = [(f"t {i}", [10, 2, 1][i % 3]) for i in range(30)]
    splits = load_splits(DataArguments(train_file=str(write_csv(tmp_path / "t.csv", rows))), seed=0)
    assert splits["train"].features["label"].names == ["1", "2", "10"]


@pytest.mark.parametrize("suffix", [".tsv", ".jsonl", ".json", ".parquet"])
def test_formats_from_extension(tmp_path, suffix):
    import pandas as pd

    frame = pd.DataFrame(
        {"sentence": [t for t, _ in GOOD_ROWS], "category": [label for _, label in GOOD_ROWS]}
    )
    path = tmp_path / f"train{suffix}"
    if suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".json":
        path.write_text(json.dumps(frame.to_dict(orient="records")))
    else:
        frame.to_parquet(path)
    splits = load_splits(DataArguments(train_file=str(path)), seed=0)  # default column names found
    assert splits["train"].features["label"].names == ["neg", "pos"]
    assert len(splits["train"]) + len(splits["validation"]) == len(GOOD_ROWS)


def test_text_that_reads_na_is_a_text(tmp_path):
    rows = [("NA", "pos"), ("null", "neg")] + GOOD_ROWS
    splits = load_splits(DataArguments(train_file=str(write_csv(tmp_path / "t.csv", rows))), seed=0)
    texts = list(splits["train"]["text"]) + list(splits["validation"]["text"])
    assert "NA" in texts and "null" in texts


def test_data_dir_finds_split_files(emotion_dir):
    args = DataArguments(data_dir=str(emotion_dir), max_train_samples=50, max_eval_samples=20)
    splits = load_splits(args, seed=0)
    assert set(splits) == {"train", "validation", "test"}
    assert splits["train"].features["label"].names == ["anger", "fear", "joy", "love", "sadness", "surprise"]


def test_user_input_error_is_the_one_error_type():
    with pytest.raises(UserInputError):
        load_splits(DataArguments(train_file="/nonexistent/train.csv"), seed=0)


def test_unicode_line_separators_inside_a_field_are_text(tmp_path):
    rows = [("the film's final third\u0085emotionally moving", "pos"), ("a\u2028b", "neg")] + GOOD_ROWS
    splits = load_splits(DataArguments(train_file=str(write_csv(tmp_path / "t.csv", rows))), seed=0)
    assert len(splits["train"]) + len(splits["validation"]) == len(rows)


def test_a_one_megabyte_text_is_read_from_csv_and_tsv(tmp_path):
    """Over the csv module's default field limit (128 KB): legal, and read whole."""
    long_text = "word " * 200_000
    csv_file = write_csv(tmp_path / "t.csv", [(long_text, "pos")] + GOOD_ROWS)
    tsv_file = tmp_path / "t.tsv"
    tsv_file.write_text(
        "text\tlabel\n" + f"{long_text}\tpos\n" + "".join(f"{t}\t{lab}\n" for t, lab in GOOD_ROWS)
    )
    for path in (csv_file, tsv_file):
        splits = load_splits(DataArguments(train_file=str(path), validation_split_percentage=50), seed=0)
        texts = list(splits["train"]["text"]) + list(splits["validation"]["text"])
        assert long_text in texts


def test_a_list_text_column_is_one_line_naming_file_column_and_type(tmp_path):
    import pandas as pd

    path = tmp_path / "t.parquet"
    pd.DataFrame({"text": [["good", "film"], ["bad", "film"]] * 5, "label": ["pos", "neg"] * 5}).to_parquet(
        path
    )
    with pytest.raises(UserInputError) as error:
        load_splits(DataArguments(train_file=str(path)), seed=0)
    assert str(error.value) == (
        f"{path}: the text column 'text' holds List(Value('string')) values; expected one string per row"
    )


def test_labels_differing_by_surrounding_whitespace_are_one_class_in_every_split(tmp_path, caplog):
    train = write_csv(
        tmp_path / "train.csv", [("good fun film", "pos "), ("bad dull film", " neg")] * 5 + GOOD_ROWS
    )
    validation = write_csv(tmp_path / "validation.csv", [("fine", "\tpos"), ("dull", "neg")])
    splits = load_splits(DataArguments(train_file=str(train), validation_file=str(validation)), seed=0)
    assert splits["train"].features["label"].names == ["neg", "pos"]
    assert splits["validation"]["label"] == [1, 0]
    warnings = [record.getMessage() for record in caplog.records if "whitespace" in record.getMessage()]
    assert warnings == [
        f"{train}: removed the whitespace around 10 label(s) ('pos ' is the class 'pos')",
        f"{validation}: removed the whitespace around 1 label(s) ('\\tpos' is the class 'pos')",
    ]


def test_a_blank_label_is_a_missing_label(tmp_path):
    path = write_csv(tmp_path / "t.csv", GOOD_ROWS[:2] + [("a text", "  ")] + GOOD_ROWS)
    with pytest.raises(UserInputError, match=r"1 row\(s\) without a label \(row 3\)"):
        load_splits(DataArguments(train_file=str(path)), seed=0)


def test_a_tiny_training_set_trains_with_a_warning_naming_the_counts(tmp_path, caplog):
    rows = [("good fun film", "pos")] * 12 + [("bad dull film", "neg")] * 3
    path = write_csv(tmp_path / "t.csv", rows)
    splits = load_splits(DataArguments(train_file=str(path), validation_split_percentage=20), seed=0)
    assert len(splits["train"]) == 12
    assert (
        f"{path}: the train split has fewer than 10 rows of class(es) neg 2; the model will learn little"
        in (caplog.text)
    )
    caplog.clear()
    load_splits(DataArguments(train_file=str(write_csv(tmp_path / "ok.csv", GOOD_ROWS * 2))), seed=0)
    assert "fewer than" not in caplog.text


def test_a_class_only_in_validation_is_named_with_its_split(tmp_path, caplog):
    """A ClassLabel column (Parquet written by datasets, Hub datasets) knows all the names, so nothing fails."""
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "other", "pos"])})
    train, validation = tmp_path / "train.parquet", tmp_path / "validation.parquet"
    Dataset.from_dict(
        {"text": [t for t, _ in GOOD_ROWS], "label": [2, 0] * 10}, features=features
    ).to_parquet(train)
    Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 1, 1]}, features=features).to_parquet(validation)
    load_splits(DataArguments(train_file=str(train), validation_file=str(validation)), seed=0)
    assert (
        f"{validation}: class(es) other (2 rows) appear in the validation split but never in train; "
        "the model cannot predict them"
    ) in caplog.text


def test_an_evaluation_file_gets_the_training_checks(tmp_path):
    path = write_csv(tmp_path / "test.csv", [("fine", "pos"), ("  ", "neg"), ("ok", "meh")])
    with pytest.raises(
        UserInputError, match=r"test.csv: 1 empty or null text\(s\) in the text column \(row 2\)"
    ):
        load_labelled_file(str(path), ["neg", "pos"], None, None, drop_empty=False)
    dataset = load_labelled_file(
        str(write_csv(path, [("fine", "pos "), ("ok", "neg")])), ["neg", "pos"], None, None, False
    )
    assert dataset["label"] == [1, 0]


def test_csv_check_streams_in_constant_memory(tmp_path):
    """A 20 MB CSV is checked with a peak of Python allocations under 2 MB: the file is never read whole."""
    import tracemalloc

    from modeling_lstm.data import check_delimited_file

    path = tmp_path / "big.csv"
    block = '"a review long enough, with a comma and words to fill the line",pos\n' * 10_000
    with path.open("w", encoding="utf-8") as handle:
        handle.write("text,label\n")
        while handle.tell() < 20_000_000:
            handle.write(block)
    tracemalloc.start()
    try:
        check_delimited_file(path, ",")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"peak {peak:,} bytes for a {path.stat().st_size:,}-byte file"


def test_bad_byte_far_into_a_large_csv_names_its_line(tmp_path):
    path = tmp_path / "late.csv"
    rows = "".join(f"review number {index},pos\n" for index in range(200_000))
    path.write_bytes(b"text,label\n" + rows.encode() + "caf\u00e9,neg\n".encode("latin-1"))
    with pytest.raises(UserInputError, match=r"late.csv line 200002: not valid UTF-8 \(byte 0xe9\)"):
        load_splits(DataArguments(train_file=str(path)), seed=0)


def test_a_glob_or_several_files_make_one_split(tmp_path):
    """Parquet shards by glob, and a list of CSV files on the command line, each read whole and in order."""
    import pandas as pd

    from modeling_lstm.args import parse_args

    (tmp_path / "data").mkdir()
    for shard in range(3):
        rows = [(f"shard {shard} text {index}", "pos" if index % 2 else "neg") for index in range(10)]
        pd.DataFrame(rows, columns=["text", "label"]).to_parquet(
            tmp_path / "data" / f"train-{shard:05d}.parquet"
        )
    (tmp_path / "data" / "notes.txt").write_text("not a shard")
    pattern = str(tmp_path / "data" / "train-*.parquet")
    validation = [write_csv(tmp_path / f"validation-{part}.csv", GOOD_ROWS[:4]) for part in "ab"]
    data_args, *_ = parse_args(
        [
            "--train_file",
            pattern,
            "--validation_file",
            *map(str, validation),
            "--output_dir",
            str(tmp_path / "out"),
        ]
    )
    assert data_args.train_file == [pattern] and len(data_args.validation_file) == 2
    splits = load_splits(data_args, seed=0)
    assert [text.split()[1] for text in splits["train"]["text"][::10]] == ["0", "1", "2"]
    assert len(splits["validation"]) == 8
    assert splits["train"].features["label"].names == ["neg", "pos"]
