"""The benchmark (benchmarks/, beside the library): `--quick` produces every row with sane values (a smoke test: no
speed is asserted here), and the target table reads each goal against the right row and column.

The targets of the benchmark are read from its full run (docs/benchmarks.md), never from a timed test: CI machines
vary too much for a timing assertion to mean anything.
"""

import json
import subprocess
import sys
from dataclasses import asdict

import pytest
from conftest import REPO_ROOT, subprocess_env

from benchmarks.report import PHASES, format_table, format_training_scale
from benchmarks.rows_naive import benchmark_naive_lstm
from benchmarks.scale_data import varied_rows
from benchmarks.settings import ROW_NAMES, BenchmarkSettings, Data, Row, Split
from benchmarks.targets import SCALE_TARGETS, TARGETS, check_targets, compute_ratios, scale_targets

# A smaller slice than --quick's defaults keeps this test well under the 3 minutes CI allows it.
SLICE = ["--max_train_samples", "400", "--max_eval_samples", "100", "--num_train_epochs", "1"]


@pytest.fixture(scope="module")
def quick_result(emotion_dir, tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("benchmark") / "results.json"
    command = [
        sys.executable,
        str(REPO_ROOT / "scripts" / "benchmark.py"),
        "--dataset",
        "emotion",
        "--data_dir",
        str(emotion_dir.parent),  # through the data gate of conftest.py
        "--quick",
        *SLICE,
    ]
    return benchmark_result(command, output, timeout=600)


def benchmark_result(command: list[str], output, timeout: int) -> dict:
    """Run a benchmark command with `--output output`; its JSON result, with what it printed as "stdout"."""
    completed = subprocess.run(
        [*command, "--output", str(output)],
        cwd=REPO_ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    result = json.loads(output.read_text())
    result["stdout"] = completed.stdout
    return result


def test_every_row_is_produced(quick_result):
    expected = set(ROW_NAMES)
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
    assert rows["distilbert"]["extra"]["accuracy_is_published"]  # quoted, not measured: no pretrained weights
    assert rows["distilbert"]["parameters"] > 60_000_000  # the real DistilBERT-base size
    # The int8 row is the same model quantised: its accuracy stays near the float model's (tiny test set).
    assert abs(rows["int8"]["accuracy"] - rows["ours"]["accuracy"]) <= 0.1
    assert abs(rows["bf16"]["accuracy"] - rows["ours"]["accuracy"]) <= 0.1
    # The reloaded folder reproduces the accuracy training reported.
    assert rows["ours"]["accuracy"] == pytest.approx(rows["ours"]["extra"]["training_reported_test_accuracy"])


def test_ratios_and_targets_are_reported(quick_result):
    ratios = quick_result["ratios"]
    assert ratios["speedup_vs_distilbert"] > 0 and ratios["epoch_speedup_vs_naive"] > 0
    assert [target["target"] for target in quick_result["targets"]] == [
        name for name in TARGETS if name not in SCALE_TARGETS
    ]
    assert "| Target |" in quick_result["stdout"] and "Ratios:" in quick_result["stdout"]
    assert quick_result["machine"]["cores_available"] >= 1


# --- the target table, on synthetic rows ---------------------------------------------------------------------------

# Each target with the (row, column) values it must read: one value that meets its goal, one that misses it.
READS = {
    "accuracy": [("ours", "accuracy", 0.95, 0.50)],
    "train_wall_seconds": [("ours", "train_seconds", 30.0, 90.0), ("ours", "accuracy", 0.95, 0.50)],
    "epoch_speedup_vs_naive": [("ours", "epoch_seconds", 1.0, 9.0), ("naive", "epoch_seconds", 9.0, 1.0)],
    "batched_texts_per_second": [("predict", "texts_per_second", 8000.0, 100.0)],
    "latency_median_ms": [("ours", "latency_median_ms", 1.0, 9.0)],
    "speedup_vs_distilbert": [
        ("ours", "texts_per_second", 5000.0, 10.0),
        ("distilbert", "texts_per_second", 10.0, 5000.0),
    ],
    "model_size_mb": [("ours", "size_mb", 7.0, 90.0)],
}
SLOTS = [(target, index) for target, reads in READS.items() for index in range(len(reads))]


def synthetic_rows(target: str, slot: int, right_meets: bool) -> dict[str, Row]:
    """Every row of a run. The target's other slots meet their goal; in `slot`'s column its own row holds the value
    that meets the goal and every other row the value that misses it, or (right_meets=False) the other way round."""
    rows = {name: Row(name) for name in ROW_NAMES}
    row_name, column, meets, misses = READS[target][slot]
    own_rows = {name for name, *_ in READS[target]}
    for name in set(ROW_NAMES) - own_rows:
        setattr(rows[name], column, misses if right_meets else meets)
    for index, (name, other_column, other_meets, _) in enumerate(READS[target]):
        if index != slot:
            setattr(rows[name], other_column, other_meets)
    setattr(rows[row_name], column, meets if right_meets else misses)
    return rows


def passed(target: str, rows: dict[str, Row]) -> bool | None:
    checks = check_targets(rows, compute_ratios(rows, {}, {}), target_accuracy=0.92, batch_size=64)
    return {check["target"]: check["passed"] for check in checks}[target]


@pytest.mark.parametrize("target, slot", SLOTS, ids=[f"{target}-{index}" for target, index in SLOTS])
def test_each_target_reads_its_own_row_and_column(target, slot):
    assert passed(target, synthetic_rows(target, slot, right_meets=True)) is True
    assert passed(target, synthetic_rows(target, slot, right_meets=False)) is False


def test_without_the_predict_row_the_batched_target_reads_ours():
    rows = {"ours": Row("ours", texts_per_second=6000.0), "tfidf": Row("tfidf", texts_per_second=10.0)}
    assert passed("batched_texts_per_second", rows) is True
    rows["ours"].texts_per_second, rows["tfidf"].texts_per_second = 10.0, 6000.0
    assert passed("batched_texts_per_second", rows) is False


@pytest.mark.parametrize(
    "naive_info, expected",
    [
        ({"time_to_target_seconds": 150.0}, True),  # reached in 15x our time
        ({"time_to_target_seconds": 50.0}, False),  # reached in 5x: measured, and below the goal
        ({"time_to_target_seconds": None, "trained_seconds": 150.0}, True),  # never reached: >= 15x proves it
        (
            {"time_to_target_seconds": None, "trained_seconds": 50.0},
            None,
        ),  # never reached: >= 5x tells nothing
    ],
)
def test_time_to_accuracy_is_a_lower_bound_when_the_naive_lstm_never_gets_there(naive_info, expected):
    rows = {"ours": Row("ours"), "naive": Row("naive", train_seconds=999.0)}
    ratios = compute_ratios(rows, {"time_to_target_seconds": 10.0}, naive_info)
    checks = check_targets(rows, ratios, target_accuracy=0.92, batch_size=64)
    check = {check["target"]: check for check in checks}["time_to_accuracy_speedup_vs_naive"]
    assert check["passed"] is expected
    assert ("at least" in check["description"]) is (naive_info["time_to_target_seconds"] is None)


def test_accuracy_targets_need_a_target_accuracy_and_take_its_goal():
    rows = {"ours": Row("ours", accuracy=0.85, train_seconds=30.0)}
    names = [check["target"] for check in check_targets(rows, {}, target_accuracy=None, batch_size=64)]
    assert "accuracy" not in names and "train_wall_seconds" not in names and "model_size_mb" in names
    checks = {check["target"]: check for check in check_targets(rows, {}, target_accuracy=0.8, batch_size=64)}
    assert checks["accuracy"]["goal"] == 0.8 and checks["accuracy"]["passed"] is True


def test_table_header_names_the_batch_size_run():
    rows = {"ours": asdict(Row("ours", texts_per_second=1000.0))}
    assert "| Batch-32 texts/s |" in format_table(rows, batch_size=32).splitlines()[0]


def test_module_entry_point_reports_a_missing_data_folder_in_one_line(tmp_path):
    command = [sys.executable, "-m", "benchmarks", "--dataset", "emotion", "--data_dir", str(tmp_path)]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"error: {tmp_path / 'emotion'}/train.csv not found: check --data_dir"


def tiny_naive_run(tmp_path, target_accuracy: float, naive_max_epochs: int):
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


# --- multi-label and regression datasets: ours against the TF-IDF baseline ----------------------------------------


def small_config(dataset: str, folder, **changes):
    """configs/<dataset>.yaml, smaller and without the GloVe file (CI need not have run `make vectors`)."""
    import yaml

    fields = yaml.safe_load((REPO_ROOT / "configs" / f"{dataset}.yaml").read_text())
    fields.pop("pretrained_embeddings")
    fields.update(embedding_dim=16, hidden_size=16, vocab_size=2000, **changes)
    path = folder / f"{dataset}.yaml"
    path.write_text(yaml.safe_dump(fields))
    return path


@pytest.mark.parametrize(
    "dataset, columns",
    [
        ("goemotions", ["micro_f1", "macro_f1"]),
        ("emobank", [f"{target}_{metric}" for target in ("valence", "arousal", "dominance")
                     for metric in ("pearson", "spearman", "mae")]),
    ],
)  # fmt: skip
def test_problem_type_datasets_get_ours_and_the_tfidf_row_with_their_metrics(
    dataset, columns, request, tmp_path
):
    data_dir = request.getfixturevalue(f"{dataset}_dir").parent  # through the data gate of conftest.py
    output = tmp_path / "results.json"
    command = [sys.executable, str(REPO_ROOT / "scripts" / "benchmark.py"), "--dataset", dataset,
               "--data_dir", str(data_dir), "--config", str(small_config(dataset, tmp_path)), "--quick", *SLICE,
               "--output", str(output)]  # fmt: skip
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    result = json.loads(output.read_text())
    fasttext_rows = ["fasttext"] if has_multi_label_fasttext_row(dataset) else []
    assert list(result["rows"]) == ["ours", "tfidf", *fasttext_rows]
    header = completed.stdout.strip().splitlines()[0]
    assert header.startswith("| Model | " + " | ".join(columns) + " |")
    for key, row in result["rows"].items():
        assert row["name"] in completed.stdout and row["train_seconds"] > 0, key
        for column in columns:
            value = row["extra"][column]
            assert value > 0 if column.endswith("mae") else -1 <= value <= 1, (key, column)
    if dataset == "goemotions":  # the tuned threshold predicts labels: not an all-empty (F1 0) answer
        for key in set(result["rows"]) - {"ours"}:
            assert result["rows"][key]["extra"]["micro_f1"] > 0.1, key


def has_multi_label_fasttext_row(dataset: str) -> bool:
    """fastText's row is for multi-label data, and only where the benchmark extra (fasttext-wheel) is installed."""
    try:
        import fasttext  # noqa: F401
    except ImportError:
        return False
    return dataset == "goemotions"


def test_the_fasttext_multi_label_row_puts_each_probability_in_its_labels_column(tmp_path):
    pytest.importorskip("fasttext")
    from benchmarks.rows_problem_types import fasttext_multi_label_baseline

    # Names out of alphabetical order, one with a space (fastText's labels have none): a column mix-up shows.
    words = {"zeta": ["very happy"], "alpha": ["anger"], "mid": ["boredom"], "both": ["very happy", "anger"]}
    examples = [(f"{word} {word} filler", names) for word, names in words.items()] * 30
    texts, labels = [text for text, _ in examples], [names for _, names in examples]
    splits = {name: (texts, labels) for name in ("train", "validation", "test")}
    settings = BenchmarkSettings(dataset="goemotions", data_dir=tmp_path, threads=1)
    row, predicted, references = fasttext_multi_label_baseline(settings, splits, tmp_path)
    assert predicted.tolist() == references.tolist()
    assert references.sum() == 5 * 30  # every label of every text is in the reference matrix
    assert "threshold" in row.notes and row.train_seconds > 0


def test_a_config_needing_missing_vectors_says_make_vectors(goemotions_dir, tmp_path):
    config = small_config("goemotions", tmp_path, pretrained_embeddings=str(tmp_path / "glove.txt"))
    command = [sys.executable, "-m", "benchmarks", "--dataset", "goemotions", "--data_dir",
               str(goemotions_dir.parent), "--config", str(config)]  # fmt: skip
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines()[-1] == (
        f"error: {config}: pretrained_embeddings {tmp_path / 'glove.txt'} not found; run `make vectors`"
    )


@pytest.mark.parametrize("threshold", [0.02, 0.98])
def test_the_multi_label_baseline_predicts_with_the_threshold_tuned_on_validation(threshold, monkeypatch):
    import modeling_lstm.problem_types
    from benchmarks.rows_problem_types import multi_label_baseline

    monkeypatch.setattr(
        modeling_lstm.problem_types,
        "tune_thresholds",
        lambda *args: {"threshold": threshold, "thresholds": None},
    )
    texts = ["good day", "bad day", "good night", "bad night", "good", "bad"] * 5
    labels = [["happy"] if "good" in text else ["sad", "tired"] for text in texts]
    splits = {name: (texts, labels) for name in ("train", "validation", "test")}
    row, predicted, truth = multi_label_baseline(splits)
    assert f"threshold {threshold:g}" in row.notes
    # A tuned threshold near 0 predicts every label, near 1 none: a fixed 0.5 would give neither.
    assert predicted.all() if threshold < 0.5 else not predicted.any()
    assert truth.shape == predicted.shape == (len(texts), 3)  # happy, sad, tired


# --- the scale family (benchmarks/scale.py): phases and predict.py against the data's size -----------------------

SCALE_TRAIN_ARGS = "--embedding_dim 16 --hidden_size 16 --vocab_size 500 --max_eval_samples 100"


@pytest.fixture(scope="module")
def tiny_scale_result(emotion_dir, tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("scale") / "scale.json"
    command = [sys.executable, "-m", "benchmarks", "--scale", "--source_dir", str(emotion_dir), "--train_sizes",
               "300", "600", "--predict_sizes", "200", "400", "--parallel_lines", "200", "--train_args",
               SCALE_TRAIN_ARGS]  # fmt: skip
    return benchmark_result(
        command, output, timeout=1800
    )  # 7 child processes: 13 min on a loaded 2-core machine


def test_tiny_scale_run_produces_every_row(tiny_scale_result):
    training = tiny_scale_result["training"]
    assert [row["rows"] for row in training] == [300, 600]
    for row in training:
        assert set(row["phase_seconds"]) == set(PHASES)
        for name, seconds in row["phase_seconds"].items():
            assert row["seconds_per_100k"][name] == pytest.approx(seconds * 100_000 / row["rows"])
        assert row["peak_rss_mb"] > 50 and row["train_samples_per_second"] > 0
    predict = tiny_scale_result["predict"] + tiny_scale_result["predict_parallel"]
    assert [(row["lines"], row["launcher"], row["processes"]) for row in predict] == [
        (200, "python", 1),
        (400, "python", 1),
        (200, "accelerate launch", 1),
        (200, "accelerate launch", 2),
    ]
    assert all(row["texts_per_second"] > 0 and row["peak_rss_mb"] > 50 for row in predict)
    targets = tiny_scale_result["targets"]
    assert [target["target"] for target in targets] == list(SCALE_TARGETS)
    assert all(target["value"] is not None for target in targets)
    stdout = tiny_scale_result["stdout"]
    assert (
        "| 600 |" in stdout
        and "| 400 | python | 1 |" in stdout
        and "| 200 | accelerate launch | 2 |" in stdout
    )


def scale_training_row(rows: int, seconds_per_100k: dict[str, float], peak_rss_mb: float) -> dict:
    phase_seconds = {name: value * rows / 100_000 for name, value in seconds_per_100k.items()}
    return {"rows": rows, "phase_seconds": phase_seconds, "seconds_per_100k": seconds_per_100k,
            "peak_rss_mb": peak_rss_mb, "wall_seconds": sum(phase_seconds.values()) + 5,
            "train_samples_per_second": 1000.0}  # fmt: skip


def scale_checks(training_growth: float, training_rss: tuple, predict_rss: tuple) -> dict[str, dict]:
    """Checks of a run whose `training` phase costs `training_growth` times more per row at 1.6M than at 100k (the
    other phases: linear, or cheaper per row), with the given (smallest, largest) peak RSS."""
    training = [
        scale_training_row(1_600_000, {"load": 1.9, "training": 60.0 * training_growth}, training_rss[1]),
        scale_training_row(100_000, {"load": 2.0, "training": 60.0}, training_rss[0]),
    ]
    predict = [
        {"lines": 4_000_000, "peak_rss_mb": predict_rss[1]},
        {"lines": 100_000, "peak_rss_mb": predict_rss[0]},
    ]
    return {check["target"]: check for check in scale_targets(training, predict)}


def test_scale_targets_pass_linear_costs_and_flat_memory():
    checks = scale_checks(1.1, training_rss=(1000, 1400), predict_rss=(800, 1000))
    assert [check["passed"] for check in checks.values()] == [True, True, True]
    assert checks["phase_growth"]["value"] == pytest.approx(1.1)


def test_scale_targets_flag_a_superlinear_phase_and_growing_memory():
    checks = scale_checks(1.5, training_rss=(1000, 1600), predict_rss=(800, 1200))
    assert checks["phase_growth"]["value"] == pytest.approx(1.5) and checks["phase_growth"]["passed"] is False
    assert checks["phase_growth"]["description"].endswith("(training)")  # names the phase that grows
    assert (
        checks["training_peak_rss_growth_mb"]["value"] == 600
        and not checks["training_peak_rss_growth_mb"]["passed"]
    )
    assert (
        checks["predict_peak_rss_growth_mb"]["value"] == 400
        and not checks["predict_peak_rss_growth_mb"]["passed"]
    )
    table = format_training_scale([scale_training_row(100_000, {"load": 2.0, "training": 60.0}, 1000.0)])
    assert "| 100,000 | 67.0 | – | 2.0 (2.0) | – | – | 60.0 (60.0) | – | – | 5.0 | 1,000 | 1,000 |" in table


def test_one_size_cannot_tell_growth():
    training = [scale_training_row(100_000, {"training": 60.0}, 1000.0)]
    assert [check["passed"] for check in scale_targets(training, [])] == [None, None, None]


def test_scale_data_is_seeded_and_varied_within_each_label():
    source = [(f"{label} sentence number {index}", label) for index in range(20) for label in ("pos", "neg")]
    rows = list(varied_rows(source, 200, seed=1))
    assert rows == list(varied_rows(source, 200, seed=1)) and rows != list(varied_rows(source, 200, seed=2))
    assert sorted(rows[: len(source)]) == sorted(source)  # the first pass: the source itself, shuffled
    assert len(set(rows[len(source) :])) > 100  # later passes: varied, few repeats
    for text, label in rows[len(source) :]:
        other = "neg" if label == "pos" else "pos"
        assert other not in text.split()  # words come from sentences of the same label only
