"""--streaming: a local JSONL read as a stream, trained for --max_steps, resumed exactly; --max_steps map-style."""

import json
import random
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from conftest import REPO_ROOT, TINY_TEXTS, subprocess_env
from test_training import free_port
from transformers import DataCollatorWithPadding, pipeline

from modeling_lstm import streaming, training
from modeling_lstm.args import DataArguments
from modeling_lstm.cli import run_cli
from modeling_lstm.tokenization import train_tokenizer
from modeling_lstm.training import main as train_main

TINY_MODEL = [
    "--embedding_dim",
    "16",
    "--hidden_size",
    "32",
    "--vocab_size",
    "300",
    "--mixed_precision",
    "no",
]
STREAM = ["--streaming", "--per_device_train_batch_size", "16", "--shuffle_buffer_size", "100",
          "--max_eval_samples", "60", *TINY_MODEL]  # fmt: skip


def stream_rows(count: int, seed: int = 0) -> list[dict]:
    """Labelled texts of varied lengths (a tiny review and up to 20 filler words)."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        label = rng.choice(sorted(TINY_TEXTS))
        filler = " ".join(["so"] * rng.randint(0, 20))
        rows.append({"text": f"{rng.choice(TINY_TEXTS[label])} {filler} {index}", "label": label})
    return rows


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def stream_file(tmp_path):
    return write_jsonl(tmp_path / "train.jsonl", stream_rows(600))


def test_a_streamed_jsonl_trains_for_max_steps_into_a_folder_the_pipeline_loads(stream_file, tmp_path):
    out = tmp_path / "out"
    results = train_main(
        ["--train_file", str(stream_file), "--output_dir", str(out), "--max_steps", "12", *STREAM]
    )
    assert results["streaming"] and results["num_train_samples"] == 12 * 16
    # 60 rows held out for validation: the label scan and the tokenizer read the 540 after them.
    assert results["num_validation_samples"] == 60
    state = json.loads((out / "checkpoints" / "step_12" / "trainer_state.json").read_text())
    assert state["global_step"] == 12
    classify = pipeline("text-classification", model=str(out), trust_remote_code=True)
    assert classify("what a wonderful lovely film")[0]["label"] in ("negative", "positive")


def test_resume_from_a_step_checkpoint_trains_the_uninterrupted_runs_batches(
    stream_file, tmp_path, monkeypatch
):
    """Killed after step 7, resumed from step 5: the same validation losses as the run that was never stopped
    (this fails if the resumed run reads other rows or other batches than the uninterrupted one)."""
    # Validation every 6 steps, checkpoints every 5: the resumed run goes on mid-buffer and mid-period.
    run = ["--train_file", str(stream_file), "--max_steps", "18", "--eval_steps", "6", "--checkpointing_steps", "5",
           "--early_stopping_patience", "10", "--save_total_limit", "5", *STREAM]  # fmt: skip
    reference = train_main([*run, "--output_dir", str(tmp_path / "reference")])

    killed = tmp_path / "killed"
    real_step, steps = training.training_step, []

    def step_then_die(*args):
        if len(steps) == 7:
            raise KeyboardInterrupt  # the kill
        steps.append(1)
        return real_step(*args)

    monkeypatch.setattr(training, "training_step", step_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_main([*run, "--output_dir", str(killed)])
    monkeypatch.setattr(training, "training_step", real_step)
    assert not (killed / "all_results.json").exists() and (killed / "checkpoints" / "step_5").is_dir()

    resumed = train_main([*run, "--output_dir", str(killed), "--resume_from_checkpoint", "latest"])
    assert [entry["validation_loss"] for entry in resumed["epoch_log"]] == pytest.approx(
        [entry["validation_loss"] for entry in reference["epoch_log"]], rel=1e-6
    )
    assert len(resumed["epoch_log"]) == 3 and (killed / "model.safetensors").is_file()


def tokenised_rows(tmp_path, rows: list[dict]):
    """The stream StreamBatches reads in training: checked, labels as ids, tokenised."""
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    data_args = DataArguments(train_file=str(path), validation_file=str(path), max_eval_samples=10)
    data = streaming.load_stream_problem(data_args)
    tokenizer = train_tokenizer((row["text"] for row in rows), vocab_size=300)
    tokenizer.model_max_length = 64
    return streaming.checked_rows(data, data_args, str(path)), tokenizer


def batches_of(
    stream, tokenizer, seed=0, group=True, buffer_size=50, batch_size=8
) -> streaming.StreamBatches:
    collator = DataCollatorWithPadding(tokenizer)
    return streaming.StreamBatches(
        streaming.tokenised_stream(stream, tokenizer),
        collator,
        batch_size,
        buffer_size,
        seed,
        group,
        "cpu",
        1000,
    )


@pytest.mark.parametrize(
    "stop_after", [3, 7, 14, 30]
)  # in the first buffer, at its end, later, in the next pass
def test_stream_batches_resumed_from_a_position_yield_the_same_next_batches(tmp_path, stop_after):
    """120 rows in buffers of 50 and batches of 8: 7 batches a buffer, 17 a pass. No row skipped or repeated."""
    stream, tokenizer = tokenised_rows(tmp_path, stream_rows(120))
    uninterrupted = batches_of(stream, tokenizer)
    expected = [uninterrupted.next_batch()["input_ids"] for _ in range(stop_after + 10)]

    first = batches_of(stream, tokenizer)
    for _ in range(stop_after):
        first.next_batch()
    position = json.loads(json.dumps(first.position))  # as a checkpoint holds it
    resumed = batches_of(stream, tokenizer)
    resumed.restore(position)
    after = [resumed.next_batch()["input_ids"] for _ in range(10)]
    for got, want in zip(after, expected[stop_after:], strict=True):
        assert torch.equal(got, want)


def test_one_pass_of_stream_batches_reads_every_row_once_in_a_seeded_order(tmp_path):
    """120 rows: 17 batches a pass (the last of each buffer short), every row once; the seed decides the order."""
    stream, tokenizer = tokenised_rows(tmp_path, stream_rows(120))
    runs = []
    for seed in (1, 1, 2):
        batches = batches_of(stream, tokenizer, seed=seed)
        runs.append([batches.next_batch() for _ in range(17)])
    first, again, other_seed = ([batch["input_ids"] for batch in run] for run in runs)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(first, other_seed, strict=True))
    numbers = [number for batch in runs[0] for number in decoded_numbers(batch, tokenizer)]
    assert sorted(numbers, key=int) == [str(index) for index in range(120)]


def padding_share(batches: streaming.StreamBatches, count: int) -> float:
    masks = [batches.next_batch()["attention_mask"] for _ in range(count)]
    return sum((mask == 0).sum().item() for mask in masks) / sum(mask.numel() for mask in masks)


def test_batches_are_grouped_by_length_within_the_buffer(tmp_path):
    """Lengths 5-25 tokens: grouped batches carry a fraction of the padding of shuffled ones."""
    stream, tokenizer = tokenised_rows(tmp_path, stream_rows(200))
    grouped = padding_share(batches_of(stream, tokenizer, buffer_size=100), 20)
    shuffled = padding_share(batches_of(stream, tokenizer, buffer_size=100, group=False), 20)
    assert grouped < shuffled / 3


def test_each_process_reads_its_own_rows(tmp_path):
    """Two processes (split_dataset_by_node): disjoint rows that together are the whole pass."""
    rows = stream_rows(64)
    stream, tokenizer = tokenised_rows(tmp_path, rows)
    train_args = SimpleNamespace(eval_steps=None, max_steps=4, gradient_accumulation_steps=1,
                                 per_device_train_batch_size=8, seed=0, group_by_length=True)  # fmt: skip
    seen = []
    for rank in (0, 1):
        accelerator = SimpleNamespace(num_processes=2, process_index=rank, device="cpu",
                                      register_save_state_pre_hook=lambda hook: None)  # fmt: skip
        batches = streaming.stream_batches(
            stream, tokenizer, accelerator, train_args, DataArguments(shuffle_buffer_size=64)
        )
        seen.append({text for batch in batches for text in decoded_numbers(batch, tokenizer)})
    assert not seen[0] & seen[1] and len(seen[0] | seen[1]) == 64


def decoded_numbers(batch, tokenizer) -> list[str]:
    return [tokenizer.decode(ids, skip_special_tokens=True).split()[-1] for ids in batch["input_ids"]]


def test_max_steps_overrides_the_epochs_map_style(tmp_path):
    """200 rows, 180 to train in batches of 16: 12 steps an epoch; --max_steps 15 stops 3 steps into epoch 2."""
    path = write_jsonl(tmp_path / "train.jsonl", stream_rows(200))
    out = tmp_path / "out"
    results = train_main(["--train_file", str(path), "--output_dir", str(out), "--num_train_epochs", "5",
                          "--max_steps", "15", "--per_device_train_batch_size", "16", *TINY_MODEL])  # fmt: skip
    assert [entry["epoch"] for entry in results["epoch_log"]] == [1, 2]
    state = json.loads((out / "checkpoints" / "step_15" / "trainer_state.json").read_text())
    assert state["global_step"] == 15
    # 228 rows were trained (180 + 3 batches of 16); counting whole epochs would say 360. Both figures are saved
    # rounded to 4 decimals, so their product may miss the whole number by a few hundredths.
    assert 228 <= round(results["train_samples_per_second"] * results["train_runtime"]) <= 240


def test_a_bad_row_far_into_the_stream_is_one_line_and_leaves_no_folder(tmp_path, capsys, monkeypatch):
    """The label scan reads the first rows only: a label first seen later stops training, naming its row."""
    monkeypatch.setattr(streaming, "LABEL_SCAN_ROWS", 100)
    rows = stream_rows(600)
    rows[450]["label"] = "neutral"
    path = write_jsonl(tmp_path / "late.jsonl", rows)
    monkeypatch.setattr(streaming, "TOKENIZER_CHARACTER_BUDGET", 1000)
    argv = ["--train_file", str(path), "--output_dir", str(tmp_path / "out"), "--max_steps", "30", *STREAM]
    assert run_cli(train_main, argv) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    # Row 451 of the file: the first 60 rows are validation, the stream's rows count on from them.
    assert error.startswith("error: ") and "late.jsonl row 451: label 'neutral' is not among" in error
    assert not (tmp_path / "out").exists()


def launch_two_processes(argv: list[str]) -> subprocess.CompletedProcess:
    launch = ["-m", "accelerate.commands.launch", "--config_file", "configs/accelerate/cpu_2proc.yaml",
              "--main_process_port", str(free_port())]  # fmt: skip
    result = subprocess.run([sys.executable, *launch, "scripts/train.py", *argv], cwd=REPO_ROOT, capture_output=True,
                            text=True, env=subprocess_env(OMP_NUM_THREADS="1"), timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow  # two launches of two processes each
def test_two_processes_stream_their_own_rows_and_resume_each_from_its_position(stream_file, tmp_path):
    """Each rank saves its own stream position; a run resumed from step 4 ends where the uninterrupted one does."""
    run = ["--train_file", str(stream_file), "--max_steps", "8", "--checkpointing_steps", "4", "--save_total_limit",
           "3", *STREAM]  # fmt: skip
    reference = tmp_path / "reference"
    result = launch_two_processes([*run, "--output_dir", str(reference)])
    assert "Training with 2 process(es)" in result.stderr
    step_4 = reference / "checkpoints" / "step_4"
    positions = [json.loads((step_4 / f"stream_state_{rank}.json").read_text()) for rank in (0, 1)]
    assert positions[0]["batches_done"] == positions[1]["batches_done"] == 4
    resumed = tmp_path / "resumed"
    launch_two_processes([*run, "--output_dir", str(resumed), "--resume_from_checkpoint", str(step_4)])
    ours, theirs = (json.loads((folder / "all_results.json").read_text()) for folder in (resumed, reference))
    assert ours["num_processes"] == 2 and ours["num_train_samples"] == 8 * 16 * 2
    assert ours["validation_loss"] == pytest.approx(theirs["validation_loss"], rel=1e-6)
    assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-6)


def test_a_dataset_folder_streams_with_its_class_label_names(tmp_path, caplog):
    """--dataset_name (here a folder, as a Hub repo is read): Parquet shards whose ClassLabel names the classes in
    its own order, which the model keeps; the log says where the names came from."""
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["positive", "negative"])})
    rows = stream_rows(300)
    for shard in range(2):
        part = rows[shard * 150 : (shard + 1) * 150]
        texts, labels = (
            [row["text"] for row in part],
            [["positive", "negative"].index(row["label"]) for row in part],
        )
        Dataset.from_dict({"text": texts, "label": labels}, features=features).to_parquet(
            tmp_path / "data" / f"train-{shard}.parquet"
        )
    out = tmp_path / "out"
    with caplog.at_level("INFO"):
        results = train_main(["--dataset_name", str(tmp_path / "data"), "--output_dir", str(out), "--max_steps", "4",
                              *STREAM])  # fmt: skip
    assert "Label names from the dataset's features (ClassLabel): positive, negative" in caplog.text
    assert results["labels"] == ["positive", "negative"]
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "positive", "1": "negative"}


def test_a_stream_of_known_length_needs_no_max_steps():
    """The Hub states some splits' lengths: their epochs make the steps (100 rows, batches of 16: 7 an epoch)."""
    train_args = SimpleNamespace(max_steps=None, num_train_epochs=2, per_device_train_batch_size=16,
                                 gradient_accumulation_steps=1)  # fmt: skip
    assert streaming.updates_to_train(train_args, 100, num_processes=1) == 14
    assert streaming.updates_to_train(train_args, 100, num_processes=2) == 8


def test_drop_empty_and_max_train_samples_shape_what_a_pass_reads(tmp_path):
    """--max_train_samples 40 of 60 rows, two of them empty with --drop_empty: a pass reads the other 38."""
    rows = stream_rows(60)
    rows[5]["text"], rows[30]["text"] = "", "   "
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    data_args = DataArguments(train_file=str(path), validation_file=str(path), max_eval_samples=10, drop_empty=True,
                              max_train_samples=40)  # fmt: skip
    stream = streaming.checked_rows(streaming.load_stream_problem(data_args), data_args, str(path))
    tokenizer = train_tokenizer((row["text"] for row in rows if row["text"].strip()), vocab_size=300)
    batches = batches_of(stream, tokenizer, buffer_size=100, batch_size=38)
    numbers = decoded_numbers(batches.next_batch(), tokenizer)
    assert sorted(numbers, key=int) == [str(index) for index in range(40) if index not in (5, 30)]
