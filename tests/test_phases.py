"""Per-phase seconds and peak RSS of a training run (modeling_lstm/phases.py), as all_results.json records them."""

import json
import logging

import pytest
from datasets.arrow_dataset import Column

from modeling_lstm import phases
from modeling_lstm.cli import run_cli
from modeling_lstm.output_dir import read_manifest
from modeling_lstm.phases import current_phases, phase, recording_phases
from modeling_lstm.training import main as train_main

TRAINING_PHASES = {
    "input check",
    "load",
    "tokenizer training",
    "tokenisation",
    "training",
    "evaluation",
    "saving",
}


class FakeClock:
    """perf_counter for phases.py that moves only when told: seconds are exact, whatever the machine's load."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(phases.time, "perf_counter", fake)
    return fake


def test_a_phase_excludes_the_phases_inside_it_and_repeats_add_up(clock):
    @recording_phases
    def run():
        with phase("load"):
            clock.now += 1
            for _ in range(2):
                with phase("input check"):
                    clock.now += 3
            clock.now += 2
        with phase("training"):
            clock.now += 5
        return current_phases().results()

    results = run()
    assert results["phase_seconds"] == {"load": 3.0, "input check": 6.0, "training": 5.0}
    assert list(results["peak_rss_mb"]) == ["input check", "load", "training"]  # set as each ends
    assert all(peak > 0 for peak in results["peak_rss_mb"].values())


def test_phases_outside_a_recording_are_not_recorded(clock):
    with phase("load"):
        clock.now += 1
    assert current_phases() is None

    @recording_phases
    def run():
        return current_phases().results()["phase_seconds"]

    assert run() == {}  # a fresh recorder per call: nothing of earlier calls


def test_training_records_every_phase_in_all_results(emotion_dir, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    output_dir = tmp_path / "out"

    def formats_row_by_row(column):
        raise AssertionError(f"iterated the column {column.column_name} row by row (slice it: column_values)")

    # Iterating a datasets Column formats one row at a time: a minute per 100k rows in the load phase alone.
    monkeypatch.setattr(Column, "__iter__", formats_row_by_row)
    argv = ["--data_dir", str(emotion_dir), "--max_train_samples", "500", "--max_eval_samples", "100",
            "--num_train_epochs", "1", "--embedding_dim", "16", "--hidden_size", "16", "--vocab_size", "1000",
            "--output_dir", str(output_dir)]  # fmt: skip
    assert run_cli(train_main, argv) == 0
    results = json.loads((output_dir / "all_results.json").read_text())
    assert set(results["phase_seconds"]) == TRAINING_PHASES == set(results["peak_rss_mb"])
    assert all(seconds > 0 for seconds in results["phase_seconds"].values())
    # The peak so far only grows, phase after phase; a training process holds well over 50 MB.
    in_order = [results["peak_rss_mb"][name] for name in ("load", "tokenisation", "training", "saving")]
    assert in_order == sorted(in_order) and in_order[0] > 50
    assert "test_accuracy" in results and results["epoch_log"]  # the other entries are kept
    assert "Phases: load " in caplog.text
    # Rewritten in place: the folder holds what the manifest lists, and no temporary file.
    assert {path.name for path in output_dir.iterdir()} - {".modeling_lstm_files.json"} == read_manifest(
        output_dir
    )
