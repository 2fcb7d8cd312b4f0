"""End to end on real data: train, reload in a fresh process, kill and resume, two processes."""

import json
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
import yaml
from accelerate import Accelerator
from conftest import REPO_ROOT, subprocess_env

from modeling_lstm.training import TrainerState, find_checkpoint, save_checkpoint, step_checkpoints

# Small and quick: a high learning rate so that three epochs on 4,000 texts reach about 87% (chance: 30%).
SMALL_MODEL = ["--embedding_dim", "32", "--hidden_size", "64", "--vocab_size", "4000", "--lowercase",
               "--learning_rate", "0.01"]  # fmt: skip


def train_command(emotion_dir, output_dir, *extra: str) -> list[str]:
    return [
        "scripts/train.py",
        "--data_dir", str(emotion_dir),
        "--max_train_samples", "4000",
        "--max_eval_samples", "400",
        "--output_dir", str(output_dir),
        "--num_train_epochs", "3",
        *SMALL_MODEL,
        *extra,
    ]  # fmt: skip


def run_python(argv: list[str], timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def results_of(output_dir) -> dict:
    return json.loads((output_dir / "all_results.json").read_text())


@pytest.fixture(scope="module")
def trained_dir(emotion_dir, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("train") / "emotion"
    run_python(train_command(emotion_dir, output_dir))
    return output_dir


def test_output_folder_is_complete(trained_dir):
    names = {path.name for path in trained_dir.iterdir()}
    expected = {"config.json", "model.safetensors", "configuration_lstm.py", "modeling_lstm.py", "tokenizer.json",
                "tokenizer_config.json", "training_args.yaml", "all_results.json", "training_curves.png",
                "confusion_matrix.png", "handler.py", "pipeline_lstm.py", "batching.py"}  # fmt: skip
    assert expected <= names
    assert not any(name.endswith((".bin", ".partial", ".staging")) for name in names)
    results = results_of(trained_dir)
    assert results["labels"] == ["anger", "fear", "joy", "love", "sadness", "surprise"]
    assert results["num_train_samples"] == 4000 and results["num_test_samples"] == 400
    majority = max(map(sum, results["test_confusion_matrix"])) / 400
    assert results["test_accuracy"] > majority + 0.25  # it learned far more than the most frequent class
    assert set(results["test_per_class"]) == set(results["labels"])
    assert (
        len(results["test_confusion_matrix"]) == 6 and sum(map(sum, results["test_confusion_matrix"])) == 400
    )
    assert [entry["epoch"] for entry in results["epoch_log"]] == [1, 2, 3]
    record = yaml.safe_load((trained_dir / "training_args.yaml").read_text())
    assert record["command"].startswith("python scripts/train.py --data_dir")
    assert record["model"]["hidden_size"] == 64 and "hub_token" not in record["training"]
    config = json.loads((trained_dir / "config.json").read_text())
    assert config["text_cleaning"]["lowercase"] is True
    assert config["id2label"]["0"] == "anger"


def test_pipeline_in_fresh_process_applies_saved_cleaning(trained_dir):
    code = f"""
import json, sys
from transformers import pipeline
classify = pipeline("text-classification", model={str(trained_dir)!r}, trust_remote_code=True, top_k=None)
outputs = classify(["I FEEL SO HAPPY AND JOYFUL TODAY", "i feel so happy and joyful today"])
assert "modeling_lstm" not in sys.modules
print(json.dumps(outputs))
"""
    outputs = json.loads(run_python(["-c", code]).stdout.strip().splitlines()[-1])
    assert {item["label"] for item in outputs[0]} == {"anger", "fear", "joy", "love", "sadness", "surprise"}
    assert abs(sum(item["score"] for item in outputs[0]) - 1) < 1e-5
    # The lowercase cleaning lives in the saved tokenizer, so both spellings get identical scores.
    assert outputs[0] == outputs[1]


def test_evaluate_and_predict_scripts(trained_dir, emotion_dir, tmp_path):
    metrics_file = tmp_path / "metrics.json"
    result = run_python(["scripts/evaluate_model.py", "--model", str(trained_dir), "--test_file",
                         str(emotion_dir / "test.csv"), "--output", str(metrics_file)])  # fmt: skip
    scores = json.loads(metrics_file.read_text())
    assert scores["num_samples"] == 2000 and f"accuracy {scores['accuracy']:.4f}" in result.stdout
    # bf16 inference (the fast path on CPUs with native bf16) changes only a few borderline predictions.
    in_bf16 = run_python(["scripts/evaluate_model.py", "--model", str(trained_dir), "--test_file",
                          str(emotion_dir / "test.csv"), "--dtype", "bfloat16"])  # fmt: skip
    bf16_accuracy = float(in_bf16.stdout.split("accuracy ")[1].split()[0])
    assert abs(bf16_accuracy - scores["accuracy"]) <= 0.01
    predicted = run_python(
        ["scripts/predict.py", "--model", str(trained_dir), "--top_k", "3", "i feel happy", "so sad"]
    )
    lines = [json.loads(line) for line in predicted.stdout.strip().splitlines()]
    assert [line["text"] for line in lines] == ["i feel happy", "so sad"]
    assert all(len(line["top_k"]) == 3 and line["label"] == line["top_k"][0]["label"] for line in lines)


def test_existing_model_folder_is_not_overwritten_silently(trained_dir, emotion_dir):
    before = (trained_dir / "model.safetensors").read_bytes()
    result = subprocess.run([sys.executable, *train_command(emotion_dir, trained_dir)], cwd=REPO_ROOT,
                            capture_output=True, text=True, env=subprocess_env(), timeout=300)  # fmt: skip
    assert result.returncode == 2 and "--overwrite_output_dir" in result.stderr.strip().splitlines()[-1]
    assert (trained_dir / "model.safetensors").read_bytes() == before


@pytest.fixture(scope="module")
def shared_tokenizer(emotion_dir, tmp_path_factory) -> str:
    """One tokenizer for runs that are compared, trained once (WordPiece training is deterministic here, so this
    only saves each run its tokenizer training)."""
    from modeling_lstm import train_tokenizer
    from modeling_lstm.args import DataArguments
    from modeling_lstm.data import load_splits

    splits = load_splits(DataArguments(data_dir=str(emotion_dir), max_train_samples=4000), seed=42)
    tokenizer = train_tokenizer(splits["train"]["text"], vocab_size=4000, lowercase=True)
    path = tmp_path_factory.mktemp("tokenizer")
    tokenizer.save_pretrained(path)
    return str(path)


def test_kill_and_resume_matches_uninterrupted_run(emotion_dir, shared_tokenizer, tmp_path):
    resumable = [
        "--checkpointing_steps",
        "20",
        "--early_stopping_patience",
        "5",
        "--tokenizer_name",
        shared_tokenizer,
        # The weight average is part of each checkpoint: a resumed run goes on averaging where the killed one was.
        "--ema_decay",
        "0.99",
    ]
    reference = tmp_path / "reference"
    run_python(train_command(emotion_dir, reference, *resumable))

    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, *train_command(emotion_dir, killed, *resumable)], cwd=REPO_ROOT,
                               env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    # 125 updates per epoch: step_40 is mid-way through the first epoch.
    checkpoint = killed / "checkpoints" / "step_40"
    deadline = time.monotonic() + 300
    while not checkpoint.is_dir() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.is_dir() and not (killed / "all_results.json").exists(), (
        "the run was not killed mid-training"
    )

    run_python(train_command(emotion_dir, killed, *resumable, "--resume_from_checkpoint", "latest"))
    resumed, uninterrupted = results_of(killed), results_of(reference)
    assert abs(resumed["test_accuracy"] - uninterrupted["test_accuracy"]) <= 0.005
    # Resuming is exact: the same validation loss after every epoch (this fails if the weight average restarts).
    assert [entry["validation_loss"] for entry in resumed["epoch_log"]] == pytest.approx(
        [entry["validation_loss"] for entry in uninterrupted["epoch_log"]], rel=1e-6
    )
    assert [entry["epoch"] for entry in resumed["epoch_log"]] == [1, 2, 3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_cpu_processes_train_together(emotion_dir, shared_tokenizer, tmp_path):
    """Two ranks of 16 average their gradients exactly as one process accumulating two batches of 16 does.

    Without dropout and with an even number of batches, both runs take the same optimizer steps on the same
    examples, so their accuracies agree up to floating-point summation order.
    """
    # Rounding differences grow over training into diverging runs, which is not what this test is about. So: fp32
    # (bf16, which --mixed_precision auto picks on CPUs with native bf16, amplifies them), one thread in every
    # process (the same kernels and summation order per operation), and accuracy over all 2,000 test texts.
    # The launched run gets fp32 from cpu_2proc.yaml's mixed_precision "no", which wins over auto.
    same_run = ["--per_device_train_batch_size", "16", "--max_train_samples", "1984", "--dropout", "0",
                "--embedding_dropout", "0", "--tokenizer_name", shared_tokenizer,
                "--max_eval_samples", "2000"]  # fmt: skip
    single = tmp_path / "single"
    run_python(
        train_command(
            emotion_dir, single, *same_run, "--gradient_accumulation_steps", "2", "--mixed_precision", "no"
        ),
        OMP_NUM_THREADS="1",
    )
    double = tmp_path / "double"
    launch = ["-m", "accelerate.commands.launch", "--config_file", "configs/accelerate/cpu_2proc.yaml",
              "--main_process_port", str(free_port())]  # fmt: skip
    result = run_python([*launch, *train_command(emotion_dir, double, *same_run)], OMP_NUM_THREADS="1")
    assert "Training with 2 process(es)" in result.stderr
    results, reference = results_of(double), results_of(single)
    assert results["num_processes"] == 2 and reference["num_processes"] == 1
    assert results["mixed_precision"] == reference["mixed_precision"] == "no"
    assert results["num_test_samples"] == reference["num_test_samples"] == 2000
    assert len(results["epoch_log"]) == 3
    assert abs(results["test_accuracy"] - reference["test_accuracy"]) <= 0.01


@pytest.mark.parametrize(
    "save_total_limit, kept", [(2, ["step_2", "step_3"]), (1, ["step_3"]), (0, ["step_3"])]
)
def test_save_total_limit_keeps_the_newest_step_checkpoints(tmp_path, save_total_limit, kept):
    """A limit of 0 still keeps the checkpoint just written: resuming needs it."""
    accelerator = Accelerator(cpu=True)
    accelerator.prepare(torch.nn.Linear(2, 2))
    (tmp_path / "checkpoints").mkdir()
    for step in (1, 2, 3):
        save_checkpoint(accelerator, tmp_path, TrainerState(global_step=step), save_total_limit)
    assert [path.name for path in step_checkpoints(tmp_path)] == kept
    latest = find_checkpoint(tmp_path, "latest")
    assert TrainerState.from_dict(json.loads((latest / "trainer_state.json").read_text())).global_step == 3


def test_trainer_state_keeps_the_checkpoint_format():
    """trainer_state.json as earlier versions wrote it still reads (resuming then refuses it: it names no run)."""
    saved = {"epoch": 1, "batches_in_epoch": 40, "global_step": 165, "history": [{"epoch": 1, "train_loss": 1.2}],
             "best_metric": 0.81, "best_epoch": 1, "evaluations_without_improvement": 0, "train_seconds": 12.5,
             "tokens_seen": 123456}  # fmt: skip
    state = TrainerState.from_dict(json.loads(json.dumps(saved)))
    assert (state.global_step, state.batches_in_epoch, state.best_metric) == (165, 40, 0.81)
    assert state.to_dict() == {**saved, "epoch_loss_sum": 0.0, "run": None}
