"""scripts/benchmark.py --quick produces every row with sane values (a smoke test: no speed is asserted here).

The targets of the benchmark are read from its full run (docs/benchmarks.md), never from a timed test: CI machines
vary too much for a timing assertion to mean anything.
"""

import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, SHARED_DATASETS, subprocess_env

from modeling_lstm.benchmarking import ROW_NAMES as ROWS

# A smaller slice than --quick's defaults keeps this test well under the 3 minutes CI allows it.
SLICE = ["--max_train_samples", "400", "--max_eval_samples", "100", "--num_train_epochs", "1"]


@pytest.fixture(scope="module")
def quick_result(emotion_dir, tmp_path_factory) -> dict:
    if not (REPO_ROOT / "configs" / "emotion.yaml").is_file():
        pytest.skip("configs/emotion.yaml is absent")
    output = tmp_path_factory.mktemp("benchmark") / "results.json"
    command = [
        sys.executable,
        str(REPO_ROOT / "scripts" / "benchmark.py"),
        "--dataset",
        "emotion",
        "--data_dir",
        str(SHARED_DATASETS),
        "--quick",
        *SLICE,
        "--output",
        str(output),
    ]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    result = json.loads(output.read_text())
    result["stdout"] = completed.stdout
    return result


def test_every_row_is_produced(quick_result):
    expected = set(ROWS)
    try:
        import fasttext  # noqa: F401
    except ImportError:
        expected.discard("fasttext")  # the row is optional: fasttext-wheel is the benchmark extra
    if quick_result["machine"]["torch_threads"] == 1:
        expected.discard("one_thread")  # only measured when the other rows use more threads
    assert expected <= set(quick_result["rows"])
    for row in quick_result["rows"].values():
        assert row["name"] in quick_result["stdout"], f"{row['name']} missing from the printed table"


def test_rows_have_sane_values(quick_result):
    rows = quick_result["rows"]
    for key, row in rows.items():
        assert row["texts_per_second"] > 0, key
        assert 0 < row["latency_median_ms"] <= row["latency_p95_ms"], key
        assert row["parameters"] > 0 and row["size_mb"] > 0, key
        if key != "distilbert":  # DistilBERT's accuracy is the published figure, not measured
            assert 0 <= row["accuracy"] <= 1 and 0 <= row["macro_f1"] <= 1, key
    for key in ("ours", "tfidf", "naive"):
        assert rows[key]["train_seconds"] > 0 and rows[key]["peak_rss_mb"] > 0, key
    assert rows["ours"]["train_samples_per_second"] > 0 and rows["ours"]["train_tokens_per_second"] > 0
    assert rows["naive"]["epoch_seconds"] > 0 and rows["ours"]["epoch_seconds"] > 0
    assert rows["distilbert"]["accuracy"] == pytest.approx(0.927)  # published, quoted
    assert rows["distilbert"]["parameters"] > 60_000_000  # the real DistilBERT-base size
    # The int8 row is the same model quantised: its accuracy stays near the float model's (tiny test set).
    assert abs(rows["int8"]["accuracy"] - rows["ours"]["accuracy"]) <= 0.1
    assert abs(rows["bf16"]["accuracy"] - rows["ours"]["accuracy"]) <= 0.1
    # The reloaded folder reproduces the accuracy training reported.
    assert rows["ours"]["accuracy"] == pytest.approx(rows["ours"]["extra"]["training_reported_test_accuracy"])


def test_ratios_and_targets_are_reported(quick_result):
    ratios = quick_result["ratios"]
    assert ratios["speedup_vs_distilbert"] > 0 and ratios["epoch_speedup_vs_naive"] > 0
    names = {target["target"] for target in quick_result["targets"]}
    assert {"accuracy", "batched_texts_per_second", "latency_median_ms", "speedup_vs_distilbert"} <= names
    assert "| Target |" in quick_result["stdout"] and "Ratios:" in quick_result["stdout"]
    assert quick_result["machine"]["cores_available"] >= 1


def tiny_naive_run(tmp_path, target_accuracy: float, naive_max_epochs: int):
    from modeling_lstm.benchmarking import BenchmarkSettings, Data, Split, benchmark_naive_lstm

    texts = ["good fun great", "bad awful sad"] * 20
    labels = ["pos", "neg"] * 20
    data = Data(Split(texts, labels), Split(texts[:8], labels[:8]), Split(texts[:8], labels[:8]))
    settings = BenchmarkSettings(
        dataset="tiny",
        data_dir=tmp_path,
        config=tmp_path / "unused.yaml",
        target_accuracy=target_accuracy,
        naive_max_epochs=naive_max_epochs,
        repeats=1,
        latency_samples=4,
        threads=1,
    )
    sizes = {"embedding_dim": 8, "hidden_size": 8, "num_layers": 1, "bidirectional": True}
    training = {"batch_size": 8, "dropout": 0.0, "max_seq_length": 16}
    return benchmark_naive_lstm(settings, data, sizes, training, epochs=2)


def test_naive_lstm_trains_on_until_the_target_for_the_time_ratio(tmp_path):
    # An unreachable target: it trains to naive_max_epochs, while its row still describes the first 2 epochs.
    row, info = tiny_naive_run(tmp_path, target_accuracy=1.01, naive_max_epochs=4)
    assert [entry["epoch"] for entry in info["epoch_log"]] == [1, 2, 3, 4]
    assert info["time_to_target_seconds"] is None
    assert row.train_seconds == pytest.approx(info["epoch_log"][1]["seconds"])
    assert info["trained_seconds"] == pytest.approx(info["epoch_log"][3]["seconds"])
    assert "trained on to 4 epochs" in row.notes
    # A target reached by the row's epochs: no extra epoch.
    row, info = tiny_naive_run(tmp_path, target_accuracy=0.0, naive_max_epochs=4)
    assert len(info["epoch_log"]) == 2 and info["time_to_target_seconds"] == info["epoch_log"][0]["seconds"]
