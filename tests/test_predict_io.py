"""scripts/predict.py at any size: every input and output format, chunk by chunk in input order, bad input as one
line, and several processes under `accelerate launch` writing the one output of a single process."""

import csv
import io
import json
import runpy

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO_ROOT, TINY_TEXTS
from test_inference import CSV_PROBLEMS, TEXTS, script_main
from test_training import free_port, run_python

from modeling_lstm import LSTMConfig, LSTMForSequenceClassification, train_tokenizer
from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.inference import load_classifier
from modeling_lstm.prediction_io import predict_records

# Positive and negative texts alternate, with blank ones between, so that rows put out of order show.
ROWS = [
    text for pair in zip(TINY_TEXTS["positive"], TINY_TEXTS["negative"], strict=True) for text in (*pair, "")
][:-1] + ["   "]


def write_input(path, texts=ROWS) -> None:
    """`texts` in the format of `path`'s suffix, with an id column and a `label` column beside the text."""
    rows = [{"id": index, "text": text, "label": "x"} for index, text in enumerate(texts)]
    suffix = path.suffix
    if suffix == ".txt":
        path.write_text("".join(f"{text}\n" for text in texts), encoding="utf-8")
    elif suffix in (".csv", ".tsv"):
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(
                handle, ["id", "text", "label"], delimiter="\t" if suffix == ".tsv" else ","
            )
            writer.writeheader()
            writer.writerows(rows)
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)


def predict(model_dir, *flags) -> int:
    return run_cli(script_main("predict.py"), ["--model", str(model_dir), *flags])


def expected_records(model_dir, texts=ROWS) -> list[dict]:
    """All texts predicted in one call: what every chunking must reproduce row by row."""
    model, tokenizer = load_classifier(str(model_dir))
    return predict_records(model, tokenizer, texts, batch_size=64, top_k=1)


def read_output(path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".tsv", ".jsonl", ".parquet"])
def test_every_input_format_is_predicted_row_by_row_across_chunks(tiny_model_dir, tmp_path, capsys, suffix):
    input_file = tmp_path / f"input{suffix}"
    write_input(input_file)
    code = predict(tiny_model_dir, "--input_file", str(input_file), "--chunk_size", "4", "--batch_size", "3")
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = expected_records(tiny_model_dir)
    assert [line["text"] for line in lines] == ROWS
    assert [{key: line[key] for key in ("label", "score", "top_k")} for line in lines] == expected
    assert {line["label"] for line in lines} == {"positive", "negative", None}
    if suffix != ".txt":  # the input's other columns come along; its `label` does not hide the prediction's
        assert [line["id"] for line in lines] == [str(i) if "sv" in suffix else i for i in range(len(ROWS))]
        assert all(line["input_label"] == "x" for line in lines)


def problem_model(tmp_path, problem_type: str):
    tokenizer = train_tokenizer(TEXTS, vocab_size=50, kind="wordlevel", min_frequency=1)
    fields = CSV_PROBLEMS[problem_type]
    config = LSTMConfig(
        vocab_size=len(tokenizer), embedding_dim=8, hidden_size=8, problem_type=problem_type, **fields
    )
    folder = tmp_path / "model"
    LSTMForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder, list(fields["id2label"].values())


def flat_expected(record: dict, problem_type: str, names: list[str]) -> dict:
    """The CSV/Parquet columns a JSON lines record stands for."""
    if problem_type == "single_label_classification":
        return {"label": record["label"], "score": record["score"]}
    values = {name: record["scores"][name] if record["scores"] else None for name in names}
    if problem_type == "multi_label_classification":
        return {"labels": ";".join(record["labels"]) if record["scores"] else None, **values}
    return values


@pytest.mark.parametrize("problem_type", list(CSV_PROBLEMS))
@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_every_output_format_holds_the_input_columns_then_the_predictions(tmp_path, problem_type, suffix):
    model_dir, names = problem_model(tmp_path, problem_type)
    input_file, output_file = tmp_path / "input.csv", tmp_path / f"out{suffix}"
    write_input(input_file)
    assert predict(model_dir, "--input_file", str(input_file), "--output_file", str(output_file),
                   "--chunk_size", "3") == 0  # fmt: skip
    rows, expected = read_output(output_file), expected_records(model_dir)
    assert [row["text"] for row in rows] == ROWS and [row["id"] for row in rows] == list(
        map(str, range(len(ROWS)))
    )
    if suffix == ".jsonl":
        assert [{key: row[key] for key in expected[0]} for row in rows] == expected
        return
    columns = ["label", "score"] if problem_type == "single_label_classification" else names
    columns = ["labels", *columns] if problem_type == "multi_label_classification" else columns
    single_label = problem_type == "single_label_classification"  # only there a prediction column is `label`
    assert list(rows[0]) == ["id", "text", "input_label" if single_label else "label", *columns]
    for row, record in zip(rows, expected, strict=True):
        wanted = flat_expected(record, problem_type, names)
        if suffix == ".csv":  # CSV cells are text; an empty cell is a blank text's prediction
            wanted = {key: "" if value is None else value for key, value in wanted.items()}
            got = {
                key: row[key] if key in ("label", "labels") or not row[key] else float(row[key])
                for key in wanted
            }
        else:
            got = {key: row[key] for key in wanted}
        assert got == wanted
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith((".out", "out"))] == [
        output_file.name
    ]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_missing_text_column_is_one_line_naming_the_file_and_its_columns(tmp_path, capsys, suffix):
    input_file = tmp_path / f"input{suffix}"
    write_input(input_file)
    # No model: the input is checked before the model loads.
    code = predict(tmp_path / "no-model", "--input_file", str(input_file), "--text_column", "review")
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: --text_column review: no such column in {input_file} (columns: id, text, label)\n"
    )


def test_an_existing_output_file_is_refused_and_kept_unless_overwrite(tiny_model_dir, tmp_path, capsys):
    input_file, output_file = tmp_path / "input.txt", tmp_path / "out.jsonl"
    write_input(input_file)
    output_file.write_text("keep me\n", encoding="utf-8")
    argv = ["--input_file", str(input_file), "--output_file", str(output_file)]
    assert predict(tmp_path / "no-model", *argv) == 2
    assert capsys.readouterr().err == (
        f"error: --output_file {output_file}: the file exists; pass --overwrite to replace it\n"
    )
    assert output_file.read_text(encoding="utf-8") == "keep me\n"
    assert predict(tiny_model_dir, *argv, "--overwrite") == 0
    assert [row["text"] for row in read_output(output_file)] == ROWS
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input.txt", "out.jsonl"]


@pytest.mark.parametrize(
    "output, message",
    [
        ("missing/out.jsonl", "folder {tmp}/missing not found; create it first"),
        ("out.txt", "unknown format '.txt'; use one of .jsonl, .csv, .parquet"),
        ("folder.jsonl", "is a folder; give a file name such as out.jsonl"),
    ],
)
def test_a_bad_output_file_is_one_line_before_the_model_loads(tmp_path, capsys, output, message):
    (tmp_path / "folder.jsonl").mkdir()
    output_file = f"{tmp_path}/{output}"
    argv = ["--output_file", output_file, "a text"]
    assert predict(tmp_path / "no-model", *argv) == 2  # no model: the output is checked first
    assert capsys.readouterr().err == f"error: --output_file {output_file}: {message.format(tmp=tmp_path)}\n"
    assert [path.name for path in tmp_path.iterdir()] == ["folder.jsonl"]


def test_a_run_that_fails_half_way_leaves_no_file(tiny_model_dir, tmp_path, capsys):
    input_file, output_file = tmp_path / "input.jsonl", tmp_path / "out.csv"
    write_input(input_file)
    with input_file.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    argv = ["--input_file", str(input_file), "--output_file", str(output_file), "--chunk_size", "2"]
    assert predict(tiny_model_dir, *argv) == 2
    assert capsys.readouterr().err.endswith(f"error: {input_file} line {len(ROWS) + 1}: not valid JSON (Expecting "
                                            "property name enclosed in double quotes)\n")  # fmt: skip
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input.jsonl"]


def test_an_empty_input_is_one_line(tmp_path, capsys):
    input_file = tmp_path / "input.csv"
    input_file.write_text("id,text\n", encoding="utf-8")
    assert predict(tmp_path / "no-model", "--input_file", str(input_file)) == 2
    assert capsys.readouterr().err == f"error: no texts to classify in {input_file}\n"


@pytest.mark.slow  # accelerate launch starts two processes
def test_two_processes_write_the_output_of_one(tiny_model_dir, tmp_path):
    texts = ROWS * 3  # 54 rows: 10 chunks of 5, each split 3 + 2 between the processes, then one of 4
    input_file = tmp_path / "input.parquet"
    write_input(input_file, texts)
    outputs = {}
    for processes in (1, 2):
        outputs[processes] = tmp_path / f"out-{processes}.jsonl"
        launch = ["-m", "accelerate.commands.launch", "--config_file", "configs/accelerate/cpu_2proc.yaml",
                  "--num_processes", str(processes), "--main_process_port", str(free_port())]  # fmt: skip
        predict_argv = ["scripts/predict.py", "--model", str(tiny_model_dir), "--input_file", str(input_file),
                        "--output_file", str(outputs[processes]), "--chunk_size", "5"]  # fmt: skip
        result = run_python([*launch, *predict_argv], timeout=300, OMP_NUM_THREADS="1")
        assert f"{processes} process(es)" in result.stderr  # the launcher did start that many
    assert read_output(outputs[2]) == read_output(outputs[1])
    assert [row["text"] for row in read_output(outputs[2])] == texts
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input.parquet", "out-1.jsonl", "out-2.jsonl"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_evaluate_scores_a_file_chunk_by_chunk_as_in_one_go(
    tiny_model_dir, tiny_texts_and_labels, tmp_path, suffix
):
    """The tiny model fits its texts: any text scored against another's label (a chunk out of place) shows."""
    from modeling_lstm.args import DataArguments
    from modeling_lstm.evaluation import evaluate_file

    texts, labels, names = tiny_texts_and_labels
    order = [
        index for pair in zip(range(6), range(6, 12), strict=True) for index in pair
    ]  # classes alternate
    rows = [{"text": texts[i], "label": names[labels[i]]} for i in order]
    test_file = tmp_path / f"test{suffix}"
    if suffix == ".csv":
        write_rows_csv(test_file, rows)
    elif suffix == ".jsonl":
        test_file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), test_file)
    model, tokenizer = load_classifier(str(tiny_model_dir))
    whole = evaluate_file(model, tokenizer, str(test_file), DataArguments(), 64)
    chunked = evaluate_file(model, tokenizer, str(test_file), DataArguments(), 4, chunk_size=5)
    assert chunked == whole and whole["accuracy"] == 1.0 and whole["num_samples"] == len(rows)


def write_rows_csv(path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_stdin_and_arguments_are_plain_text_lines(tiny_model_dir, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{text}\n" for text in ROWS)))
    assert predict(tiny_model_dir, "--chunk_size", "4") == 0
    from_stdin = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert predict(tiny_model_dir, *ROWS) == 0
    from_arguments = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = [
        {"text": text, **record} for text, record in zip(ROWS, expected_records(tiny_model_dir), strict=True)
    ]
    assert from_stdin == from_arguments == expected


def test_nested_input_values_are_json_in_a_csv_output(tiny_model_dir, tmp_path):
    input_file, output_file = tmp_path / "input.jsonl", tmp_path / "out.csv"
    input_file.write_text(json.dumps({"text": "great film", "tags": ["a", "é"], "meta": {"n": 1}}) + "\n")
    assert predict(tiny_model_dir, "--input_file", str(input_file), "--output_file", str(output_file)) == 0
    [row] = read_output(output_file)
    assert json.loads(row["tags"]) == ["a", "é"] and json.loads(row["meta"]) == {"n": 1}


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("in.csv", b"id,text\n1,fine\n2,too,many\n", "line 3: 3 fields where the header has 2"),
        ("in.jsonl", b'{"text": "fine"}\n{"text": 5}\n', "row 2: column 'text' holds int 5, not a text"),
        ("in.jsonl", b'{"text": "fine"}\n{"review": "x"}\n', "row 2: no column 'text'"),
        ("in.txt", b"fine\n\xff bad\n", "line 2: not valid UTF-8 (byte 0xff); save the file as UTF-8"),
        ("in.csv", b"text\nfine\n\xff bad\n", "line 3: not valid UTF-8 (byte 0xff); save the file as UTF-8"),
    ],
)
def test_a_bad_row_is_one_line_naming_it(tiny_model_dir, tmp_path, capsys, name, content, message):
    input_file = tmp_path / name
    input_file.write_bytes(content)
    assert predict(tiny_model_dir, "--input_file", str(input_file), "--chunk_size", "1") == 2
    assert capsys.readouterr().err == f"error: {input_file} {message}\n"


def test_stdin_is_refused_with_several_processes():
    scope = runpy.run_path(str(REPO_ROOT / "scripts" / "predict.py"))
    with pytest.raises(UserInputError, match=r"^stdin cannot be shared by 2 processes; give --input_file$"):
        scope["check_arguments"](scope["parse_args"](["--model", "m"]), 2)
    scope["check_arguments"](scope["parse_args"](["--model", "m", "a text"]), 2)  # texts as arguments: fine
