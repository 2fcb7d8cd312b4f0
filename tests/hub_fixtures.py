"""Fixtures for tests that need the Hub: a Hub-protocol server on 127.0.0.1 and a trained model folder to push.

The test process runs with HF_HUB_OFFLINE=1 and imported huggingface_hub/transformers before any server existed,
so every client-side step (push, from_pretrained by repo id, pipeline, load_dataset) runs in a subprocess whose
environment comes from `hub_env`: HF_ENDPOINT pointing at the server, online, Xet off, its own HF_HOME.
The server itself is inspected in-process through `hub_server` (see HubServer's helpers).
"""

import json
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT, subprocess_env
from hub_server import HubServer


@pytest.fixture(scope="session")
def hub_server():
    """The Hub stand-in for the whole session: `.endpoint`, `.token` (user `test-user`, org `test-org`),
    `.read_only_user.token`, and helpers to inspect repos (`files`, `history`, `read_file`, `state.stats`)."""
    with HubServer() as server:
        yield server


@pytest.fixture
def hub_env(hub_server, tmp_path) -> dict:
    """Environment for a subprocess that talks to `hub_server` with the write token and a fresh cache."""
    return hub_subprocess_env(hub_server, tmp_path / "hf-home")


def hub_subprocess_env(hub_server: HubServer, hf_home: Path, token: str | None = "default") -> dict:
    env = subprocess_env(
        HF_ENDPOINT=hub_server.endpoint,
        HF_HUB_OFFLINE="0",
        HF_HUB_DISABLE_XET="1",  # the server speaks LFS, not Xet
        HF_HOME=str(hf_home),
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TRANSFORMERS_VERBOSITY="error",
    )
    env.pop("HF_TOKEN", None)
    if token:
        env["HF_TOKEN"] = hub_server.token if token == "default" else token
    return env


def run_python(
    code: str, env: dict, args: list[str] = (), timeout: float = 180, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run `code` (with `args` in sys.argv[1:]) in a fresh interpreter; fail the test with its stderr if it fails."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        cwd=cwd or REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"subprocess failed ({result.returncode}):\n{result.stderr[-4000:]}"
    return result


def run_push_script(args: list[str], env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    """scripts/push_to_hub.py with `args`; the caller checks the exit code."""
    command = [sys.executable, str(REPO_ROOT / "scripts" / "push_to_hub.py"), *args]
    return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)


def write_run_files(
    model_dir: Path, labels: list[str], accuracy: float = 0.75, command: str | None = None
) -> None:
    """What training writes beside the weights: all_results.json, training_args.yaml, the two plots, and some
    training state (checkpoints/, runs/) that a push must leave out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_class = {
        label: {
            "precision": accuracy - 0.05 * i,
            "recall": accuracy - 0.03 * i,
            "f1": accuracy - 0.04 * i,
            "support": 6,
        }
        for i, label in enumerate(labels)
    }
    results = {
        "train_loss": 0.4321,
        "train_runtime": 12.5,
        "train_samples_per_second": 96.0,
        "epoch": 3.0,
        "validation_accuracy": accuracy,
        "validation_macro_f1": accuracy - 0.02,
        "validation_loss": 0.61,
        "validation_per_class": per_class,
        "test_accuracy": accuracy - 0.01,
        "test_macro_f1": accuracy - 0.03,
        "test_loss": 0.63,
        "test_per_class": per_class,
        "test_confusion_matrix": [[5, 1], [2, 4]],
        "labels": labels,
        "num_train_samples": 12,
        "widget_examples": ["what a wonderful lovely film", "the worst movie this year"],
    }
    (model_dir / "all_results.json").write_text(json.dumps(results, indent=2))
    training_args = {
        "command": command or "python scripts/train.py --config configs/tiny.yaml --output_dir out/tiny",
        "data": {
            "dataset_name": None,
            "train_file": "../shared/datasets/tiny/train.csv",
            "validation_file": "../shared/datasets/tiny/validation.csv",
            "text_column": "text",
            "label_column": "label",
        },
        "tokenizer": {"kind": "wordpiece", "vocab_size": 200, "lowercase": True},
        "model": {"embedding_dim": 16, "hidden_size": 16, "pooling": "attention"},
        "training": {
            "num_train_epochs": 3,
            "learning_rate": 0.02,
            "per_device_train_batch_size": 12,
            "seed": 0,
        },
    }
    (model_dir / "training_args.yaml").write_text(yaml.safe_dump(training_args, sort_keys=False))
    for slope, name in enumerate(("training_curves.png", "confusion_matrix.png"), start=1):
        figure, axes = plt.subplots(figsize=(2, 2), dpi=40)
        axes.plot([0, 1, 2], [1.0, 1.0 - 0.2 * slope, accuracy])
        figure.savefig(model_dir / name)
        plt.close(figure)
    (model_dir / "checkpoints" / "epoch_1").mkdir(parents=True, exist_ok=True)
    (model_dir / "checkpoints" / "epoch_1" / "optimizer.bin").write_bytes(b"\0optimizer state" * 64)
    (model_dir / "runs").mkdir(exist_ok=True)
    (model_dir / "runs" / "events.out.tfevents.1.host").write_bytes(b"\0tensorboard" * 32)


@pytest.fixture(scope="session")
def trained_model_dir(tiny_model_dir, tiny_texts_and_labels, tmp_path_factory) -> Path:
    """`tiny_model_dir` plus the run files training writes: the folder scripts/push_to_hub.py expects."""
    path = tmp_path_factory.mktemp("trained") / "tiny-run"
    shutil.copytree(tiny_model_dir, path)
    write_run_files(path, labels=tiny_texts_and_labels[2])
    return path


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under `folder`, to prove a command left it untouched."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@dataclass
class PushedModel:
    repo_id: str
    commit_id: str  # the push's commit on main
    model_dir: Path
    result: subprocess.CompletedProcess  # of scripts/push_to_hub.py
    folder_before: dict
    folder_after: dict


@pytest.fixture(scope="session")
def pushed_model(hub_server, trained_model_dir, tmp_path_factory) -> PushedModel:
    """`trained_model_dir` pushed once with scripts/push_to_hub.py to `test-user/lstm-tiny` (public, main)."""
    repo_id = "test-user/lstm-tiny"
    env = hub_subprocess_env(hub_server, tmp_path_factory.mktemp("hf-home-push"))
    before = snapshot(trained_model_dir)
    result = run_push_script(["--model_dir", str(trained_model_dir), "--repo_id", repo_id], env)
    assert result.returncode == 0, result.stderr[-3000:]
    commit_id = hub_server.history(repo_id)[0].id
    return PushedModel(repo_id, commit_id, trained_model_dir, result, before, snapshot(trained_model_dir))
