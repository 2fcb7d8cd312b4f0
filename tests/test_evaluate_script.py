"""scripts/evaluate_model.py runs as a script: its folder is first on sys.path, next to no module named `evaluate`."""

import csv
import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, subprocess_env

pytestmark = pytest.mark.slow  # runs the script in a child interpreter


def test_evaluate_model_script_scores_a_labelled_file(tiny_model_dir, tiny_texts_and_labels, tmp_path):
    texts, labels, names = tiny_texts_and_labels
    test_file = tmp_path / "test.csv"
    with test_file.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        writer.writerows((text, names[label]) for text, label in zip(texts, labels, strict=True))
    metrics_file = tmp_path / "metrics.json"
    command = ["scripts/evaluate_model.py", "--model", str(tiny_model_dir), "--test_file", str(test_file)]
    result = subprocess.run(
        [sys.executable, *command, "--output", str(metrics_file)],
        cwd=REPO_ROOT,
        env=subprocess_env(OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads(metrics_file.read_text())
    # The tiny model was fitted to these very texts (test_auto_roundtrip checks its predictions).
    assert scores["num_samples"] == len(texts) and scores["accuracy"] == 1.0
    assert set(scores["per_class"]) == set(names)
    assert "accuracy 1.0000" in result.stdout
