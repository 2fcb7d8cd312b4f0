"""train.py against the Hub stand-in: --dataset_name through the real `datasets` Hub code path, --push_to_hub."""

import json
import subprocess
import sys

from conftest import REPO_ROOT
from hub_fixtures import run_python


def slice_csv(path, rows: int) -> bytes:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(lines[: rows + 1]).encode()


def test_train_from_hub_dataset_and_push(hub_server, hub_env, emotion_dir, tmp_path):
    hub_server.seed_repo(
        "test-user/tiny-emotion",
        {
            "train.csv": slice_csv(emotion_dir / "train.csv", 600),
            "validation.csv": slice_csv(emotion_dir / "validation.csv", 100),
            "test.csv": slice_csv(emotion_dir / "test.csv", 100),
        },
        repo_type="dataset",
    )
    output_dir = tmp_path / "out"
    command = [
        sys.executable, "scripts/train.py", "--dataset_name", "test-user/tiny-emotion", "--output_dir",
        str(output_dir), "--num_train_epochs", "1", "--embedding_dim", "16", "--hidden_size", "16",
        "--push_to_hub", "--hub_model_id", "test-user/lstm-from-hub-data",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO_ROOT, env=hub_env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((output_dir / "all_results.json").read_text())
    assert results["num_train_samples"] == 600 and results["num_test_samples"] == 100

    pushed = set(hub_server.files("test-user/lstm-from-hub-data"))
    assert {"model.safetensors", "config.json", "modeling_lstm.py", "tokenizer.json", "README.md"} <= pushed
    assert not any(name.startswith("checkpoints/") for name in pushed)
    card = hub_server.read_file("test-user/lstm-from-hub-data", "README.md").decode()
    assert "test-user/tiny-emotion" in card  # the card names the Hub dataset it was trained on

    # Anyone can now load it by repo id; the token never reached a file.
    loaded = run_python(
        """
        from transformers import pipeline
        classify = pipeline("text-classification", model="test-user/lstm-from-hub-data", trust_remote_code=True)
        print(classify("i feel happy")[0]["label"])
        """,
        hub_env,
    )
    assert loaded.stdout.strip().splitlines()[-1] in results["labels"]
    for path in output_dir.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".yaml", ".md", ".txt"}:
            assert hub_server.token not in path.read_text(errors="replace"), path
