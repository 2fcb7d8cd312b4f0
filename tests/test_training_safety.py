"""What a hostile new user found, end to end on real data: nothing of theirs lost, no stale or foreign state taken up.

Each test drives scripts/train.py in subprocesses, as a user does; kills are SIGKILL, as a crash is.
"""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT, subprocess_env
from datasets import Dataset
from test_training import results_of, run_python, train_command


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_refused(argv: list[str]) -> str:
    """Run a command that must stop with one `error:` line and exit code 2; return that line."""
    result = subprocess.run([sys.executable, *argv], cwd=REPO_ROOT, capture_output=True, text=True,
                            env=subprocess_env(), timeout=300)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), result.stderr[-3000:]
    return line


def kill_when(argv: list[str], done: Path) -> None:
    """Start a training run and SIGKILL it as soon as `done` exists (it must appear before the run ends)."""
    process = subprocess.Popen([sys.executable, *argv], cwd=REPO_ROOT, env=subprocess_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while not done.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert done.exists(), f"the run ended before {done} appeared"


def write_csv(path: Path, rows: list[list[str]]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text", "label"], *rows])


def csv_rows(path: Path, count: int) -> list[list[str]]:
    import csv

    with path.open(encoding="utf-8") as handle:
        return list(csv.reader(handle))[1 : count + 1]


def test_a_users_folder_is_refused_and_with_overwrite_kept_beside_the_model(emotion_dir, tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "notes.txt").write_text("three years of notes")
    write_csv(folder / "train.csv", csv_rows(emotion_dir / "train.csv", 600))
    for sibling in (".thesis.staging", ".thesis.previous"):  # the names the old publish step deleted
        (tmp_path / sibling).mkdir()
        (tmp_path / sibling / "draft.txt").write_text(f"the user's own {sibling}")
    before = snapshot(tmp_path)
    command = ["scripts/train.py", "--train_file", str(folder / "train.csv"), "--output_dir", str(folder),
               "--num_train_epochs", "1", "--embedding_dim", "16", "--hidden_size", "16"]  # fmt: skip

    line = run_refused(command)
    assert "holds files this project did not write" in line and "notes.txt" in line
    assert snapshot(tmp_path) == before  # nothing touched, nothing created

    run_python([*command, "--overwrite_output_dir"])
    after = snapshot(tmp_path)
    assert {name: after[name] for name in before} == before  # every file of the user's, byte for byte
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".thesis.previous", ".thesis.staging", "thesis"]


def test_overwrite_keeps_the_old_model_until_the_new_one_is_ready(emotion_dir, tmp_path):
    """A crash during training with --overwrite_output_dir leaves the old model whole."""
    output_dir = tmp_path / "model"
    run_python(
        train_command(emotion_dir, output_dir, "--num_train_epochs", "1", "--checkpointing_steps", "no")
    )
    old_model = {name: data for name, data in snapshot(output_dir).items() if "/" not in name}
    new_checkpoint = output_dir / "checkpoints" / "step_63"  # the end of the first of three epochs
    kill_when(train_command(emotion_dir, output_dir, "--overwrite_output_dir", "--seed", "7"), new_checkpoint)
    assert (
        json.loads((new_checkpoint / "trainer_state.json").read_text())["run"]["seed"] == 7
    )  # killed mid-run
    assert {name: data for name, data in snapshot(output_dir).items() if "/" not in name} == old_model


def test_a_killed_runs_state_is_not_taken_up_by_another_run(emotion_dir, tmp_path):
    output_dir = tmp_path / "out"
    tokenizer_file = output_dir / "checkpoints" / "tokenizer" / "tokenizer.json"
    # Killed once its tokenizer is saved (lowercasing, a 4,000-token vocabulary), before any checkpoint.
    kill_when(train_command(emotion_dir, output_dir, "--checkpointing_steps", "no"), tokenizer_file)
    tokenizer_file.write_text(tokenizer_file.read_text()[:100])  # as a kill half-way through the save left it

    # A run with other cleaning starts clean: its own tokenizer, not the failed run's (nor a JSONDecodeError).
    other = [
        "--num_train_epochs",
        "1",
        "--embedding_dim",
        "16",
        "--hidden_size",
        "16",
        "--vocab_size",
        "3000",
    ]
    command = ["scripts/train.py", "--data_dir", str(emotion_dir), "--max_train_samples", "1000",
               "--max_eval_samples", "200", "--output_dir", str(output_dir), *other]  # fmt: skip
    run_python(command)
    config = json.loads((output_dir / "config.json").read_text())
    assert config["text_cleaning"]["lowercase"] is False
    tokenizer = json.loads((output_dir / "tokenizer.json").read_text())
    assert "Lowercase" not in json.dumps(tokenizer["normalizer"])
    assert len(tokenizer["model"]["vocab"]) <= 3000


def test_resume_takes_only_the_same_runs_checkpoint(emotion_dir, tmp_path):
    output_dir = tmp_path / "out"
    run_a = train_command(emotion_dir, output_dir, "--checkpointing_steps", "20", "--seed", "1")
    kill_when(run_a, output_dir / "checkpoints" / "step_20")
    run_b = train_command(emotion_dir, output_dir, "--checkpointing_steps", "20", "--seed", "2",
                          "--learning_rate", "0.02")  # fmt: skip

    line = run_refused(run_b)  # a fresh run would throw the killed run's checkpoints away
    assert "checkpoints of an unfinished run" in line and "--resume_from_checkpoint latest" in line
    line = run_refused([*run_b, "--resume_from_checkpoint", "latest"])
    assert "belongs to a run with other arguments" in line
    assert "--seed 1 (now 2)" in line and "--learning_rate 0.01 (now 0.02)" in line
    assert "num_train_epochs" not in line
    # Named by its path from another folder, the checkpoint is refused before that folder is even created.
    elsewhere = tmp_path / "elsewhere"
    step_20 = str(output_dir / "checkpoints" / "step_20")
    line = run_refused(
        [*train_command(emotion_dir, elsewhere, "--seed", "2"), "--resume_from_checkpoint", step_20]
    )
    assert (
        "step_20 belongs to a run with other arguments: --seed 1 (now 2)" in line and not elsewhere.exists()
    )

    # Run B, started afresh, rotates only its own checkpoints; run A cannot resume B's step either.
    run_python([*run_b, "--overwrite_output_dir", "--num_train_epochs", "1"])
    line = run_refused([*run_a, "--resume_from_checkpoint", "latest"])
    assert "--seed 2 (now 1)" in line and "--num_train_epochs 1 (now 3)" in line


class Payload:
    """Pickled, it runs code when unpickled: it writes `marker`."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


@pytest.fixture(scope="module")
def uninterrupted_run(emotion_dir, tmp_path_factory) -> Path:
    """The same run with no step checkpoint: its epoch losses are summed in one go, the reference."""
    output_dir = tmp_path_factory.mktemp("uninterrupted") / "run"
    run_python(train_command(emotion_dir, output_dir, *RESUMABLE, "--checkpointing_steps", "no"))
    return output_dir


@pytest.fixture(scope="module")
def checkpointed_run(emotion_dir, tmp_path_factory) -> Path:
    """Two epochs of 63 batches with a checkpoint every 21 steps (all kept) and a weight average."""
    output_dir = tmp_path_factory.mktemp("checkpointed") / "run"
    run_python(train_command(emotion_dir, output_dir, *RESUMABLE))
    return output_dir


RESUMABLE = ["--num_train_epochs", "2", "--checkpointing_steps", "21", "--save_total_limit", "10",
             "--early_stopping_patience", "5", "--ema_decay", "0.99"]  # fmt: skip


@pytest.mark.parametrize(
    ("step", "planted"),
    [(42, "custom_checkpoint_0.pkl"), (63, "optimizer.bin")],
    ids=["mid-epoch", "last-batch-of-epoch"],
)
def test_resume_is_exact_and_never_unpickles(
    checkpointed_run, uninterrupted_run, emotion_dir, tmp_path, step, planted
):
    resumed = tmp_path / "resumed"
    shutil.copytree(checkpointed_run, resumed)
    for later in (resumed / "checkpoints").glob("step_*"):
        if int(later.name.split("_")[1]) > step:
            shutil.rmtree(later)
    command = train_command(emotion_dir, resumed, *RESUMABLE, "--resume_from_checkpoint", "latest")

    # A payload planted where Accelerate would unpickle (the weight average it used to pickle) or a file of its
    # own: refused in one line, never run.
    marker = tmp_path / "payload-ran"
    planted_path = resumed / "checkpoints" / f"step_{step}" / planted
    torch.save(Payload(marker), planted_path)
    assert "not" in run_refused(command)
    assert not marker.exists(), "resuming ran code planted in the checkpoint"
    original = checkpointed_run / "checkpoints" / f"step_{step}" / planted
    if original.exists():  # put the real file back (optimizer.bin), or take the planted one away
        shutil.copy(original, planted_path)
    else:
        planted_path.unlink()

    run_python(command)
    resumed_log, reference_log = results_of(resumed)["epoch_log"], results_of(uninterrupted_run)["epoch_log"]
    # The same weights after every epoch (the weight average included), and the train loss of the interrupted
    # epoch over all its batches (equal up to the order of summation).
    for key, tolerance in (("validation_loss", 1e-6), ("train_loss", 1e-5)):
        resumed_values = [entry[key] for entry in resumed_log]
        assert resumed_values == pytest.approx([entry[key] for entry in reference_log], rel=tolerance), key


def test_the_best_epochs_weights_are_saved(emotion_dir, tmp_path):
    """Validation labels shifted to another class: the more the model learns, the worse its validation loss."""
    from modeling_lstm.inference import load_classifier, predict_probabilities

    train_rows = csv_rows(emotion_dir / "train.csv", 1500)
    names = sorted({label for _, label in train_rows})
    shifted = [[text, names[(names.index(label) + 1) % len(names)]] for text, label in train_rows[:300]]
    write_csv(tmp_path / "train.csv", train_rows)
    write_csv(tmp_path / "validation.csv", shifted)
    output_dir = tmp_path / "out"
    run_python(["scripts/train.py", "--train_file", str(tmp_path / "train.csv"), "--validation_file",
                str(tmp_path / "validation.csv"), "--output_dir", str(output_dir), "--num_train_epochs", "3",
                "--metric_for_best_model", "loss", "--early_stopping_patience", "10", "--mixed_precision", "no",
                "--embedding_dim", "32", "--hidden_size", "32", "--learning_rate", "0.01"])  # fmt: skip
    results = results_of(output_dir)
    log = results["epoch_log"]
    best = results["best_epoch"]
    assert best < len(log), "precondition: the last epoch must not be the best one"
    assert results["validation_loss"] == pytest.approx(log[best - 1]["validation_loss"], rel=1e-5)

    model, tokenizer = load_classifier(str(output_dir), None, "float32")
    probabilities = predict_probabilities(model, tokenizer, [text for text, _ in shifted], 64, max_length=128)
    labels = torch.tensor([model.config.label2id[label] for _, label in shifted])
    reloaded_loss = torch.nn.functional.nll_loss(torch.as_tensor(probabilities).log(), labels).item()
    assert reloaded_loss == pytest.approx(log[best - 1]["validation_loss"], rel=1e-4)
    assert reloaded_loss != pytest.approx(log[-1]["validation_loss"], rel=1e-3)


def test_a_kill_during_the_tokenizer_save_leaves_no_tokenizer(tmp_path, monkeypatch):
    from accelerate import Accelerator
    from conftest import TINY_TEXTS
    from transformers import PreTrainedTokenizerFast

    from modeling_lstm.args import DataArguments, TokenizerArguments
    from modeling_lstm.training import load_or_train_tokenizer

    def killed_while_saving(self, folder, **kwargs):
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "tokenizer.json").write_text('{"model": {"vocab": {"[PA')
        raise KeyboardInterrupt

    monkeypatch.setattr(PreTrainedTokenizerFast, "save_pretrained", killed_while_saving)
    tokenizer_dir = tmp_path / "checkpoints" / "tokenizer"
    tokenizer_dir.parent.mkdir()
    with pytest.raises(KeyboardInterrupt):
        load_or_train_tokenizer(Accelerator(cpu=True), TokenizerArguments(vocab_size=100, min_frequency=1),
                                DataArguments(), Dataset.from_dict({"text": TINY_TEXTS["positive"]}), 0,
                                tokenizer_dir, {"seed": 1})  # fmt: skip
    assert not tokenizer_dir.exists()  # the next run trains a tokenizer instead of reading half of one


def test_a_tokenizer_saved_by_another_run_is_refused(tmp_path):
    from conftest import TINY_TEXTS

    from modeling_lstm.args import DataArguments, TokenizerArguments
    from modeling_lstm.errors import UserInputError
    from modeling_lstm.training import RUN_RECORD, load_or_train_tokenizer

    tokenizer_dir = tmp_path / "checkpoints" / "tokenizer"
    tokenizer_dir.mkdir(parents=True)
    (tokenizer_dir.parent / RUN_RECORD).write_text(json.dumps({"seed": 1, "lowercase": True}))
    with pytest.raises(UserInputError, match=r"the saved tokenizer .* --seed 1 \(now 2\)"):
        load_or_train_tokenizer(None, TokenizerArguments(vocab_size=100, min_frequency=1), DataArguments(),
                                Dataset.from_dict({"text": TINY_TEXTS["positive"]}), 0, tokenizer_dir,
                                {"seed": 2, "lowercase": True})  # fmt: skip
