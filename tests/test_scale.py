"""Training data at scale: the tokenizer's sample, tokenisation workers and the datasets cache."""

import json
import logging
import os

import pytest
import yaml
from datasets import Dataset
from transformers import AutoTokenizer

from modeling_lstm import data, train_tokenizer
from modeling_lstm.cli import run_cli
from modeling_lstm.data import auto_max_seq_length, iter_texts, tokenize_splits, tokenizer_training_sample
from modeling_lstm.errors import UserInputError
from modeling_lstm.model_card import load_run, render_body
from modeling_lstm.training import main as train_main

TINY_RUN = ["--max_eval_samples", "200", "--num_train_epochs", "1", "--embedding_dim", "16", "--hidden_size", "16",
            "--vocab_size", "2000"]  # fmt: skip


def numbered_texts(count: int, width: int = 10) -> Dataset:
    return Dataset.from_dict({"text": [f"{index:0{width}d}" for index in range(count)]})


def test_tokenizer_sample_is_n_seeded_texts():
    train = numbered_texts(1000)
    sample = tokenizer_training_sample(train, 100, seed=3)
    assert len(sample) == 100 and set(sample["text"]) <= set(train["text"])
    assert sample["text"] == tokenizer_training_sample(train, 100, seed=3)["text"]
    assert sample["text"] != tokenizer_training_sample(train, 100, seed=4)["text"]
    assert sample["text"] != train["text"][:100]  # a random sample, not the first rows
    assert list(iter_texts(sample, batch_size=7)) == sample["text"]
    assert tokenizer_training_sample(train, 5000, seed=3) is train  # all texts when N covers them


def test_tokenizer_sample_by_default_fits_the_character_budget(monkeypatch):
    monkeypatch.setattr(data, "TOKENIZER_CHARACTER_BUDGET", 2_000)
    assert len(tokenizer_training_sample(numbered_texts(1000, width=10), None, seed=0)) == 200
    assert len(tokenizer_training_sample(numbered_texts(100, width=10), None, seed=0)) == 100


def test_tokenizer_sample_of_zero_is_an_error():
    with pytest.raises(UserInputError, match="--tokenizer_train_samples must be at least 1, got 0"):
        tokenizer_training_sample(numbered_texts(10), 0, seed=0)


def test_training_logs_the_tokenizer_sample_and_tokenises_with_two_workers(emotion_dir, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    argv = ["--data_dir", str(emotion_dir), "--max_train_samples", "1000", *TINY_RUN, "--output_dir",
            str(tmp_path / "out"), "--tokenizer_train_samples", "300", "--preprocessing_num_workers", "2"]  # fmt: skip
    assert run_cli(train_main, argv) == 0
    assert "Training the tokenizer on 300 of 1,000 texts" in caplog.text
    # The default max_seq_length comes from the data: emotion's tweets are short, so few are cut, and by little.
    results = json.loads((tmp_path / "out" / "all_results.json").read_text())
    assert 32 <= results["max_seq_length"] < 128 and results["max_seq_length"] % 16 == 0
    assert 0 < results["train_truncated_share"] <= 0.05
    assert AutoTokenizer.from_pretrained(tmp_path / "out").model_max_length == results["max_seq_length"]


def test_auto_max_seq_length_is_a_rounded_high_percentile_within_bounds():
    tokenizer = train_tokenizer(["w"], vocab_size=10, kind="wordlevel", min_frequency=1)
    lengths = Dataset.from_dict({"text": [" ".join(["w"] * count) for count in range(1, 101)]})
    assert auto_max_seq_length(tokenizer, lengths, seed=0) == (112, 98.02)
    assert auto_max_seq_length(tokenizer, Dataset.from_dict({"text": ["w w"] * 10}), seed=0)[0] == 32
    long_texts = Dataset.from_dict({"text": [" ".join(["w"] * 900)] * 10})
    assert auto_max_seq_length(tokenizer, long_texts, seed=0)[0] == 512


def test_truncation_side_left_is_measured_saved_and_used_at_inference(emotion_dir, tmp_path):
    argv = ["--data_dir", str(emotion_dir), "--max_train_samples", "600", *TINY_RUN, "--output_dir",
            str(tmp_path / "out"), "--max_seq_length", "8", "--truncation_side", "left"]  # fmt: skip
    assert run_cli(train_main, argv) == 0
    results = json.loads((tmp_path / "out" / "all_results.json").read_text())
    assert results["max_seq_length"] == 8 and results["train_truncated_share"] > 0.5
    assert results["train_truncated_max_tokens_cut"] >= results["train_truncated_mean_tokens_cut"] > 0
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "out")
    whole = tokenizer("i feel a little mellow today and i wonder why that is so")["input_ids"]
    cut = tokenizer("i feel a little mellow today and i wonder why that is so", truncation=True)["input_ids"]
    assert len(whole) > 8 and cut == whole[-8:]  # the end is kept, as in training
    card = render_body(load_run(tmp_path / "out"), "user/emotion-lstm")
    assert "truncated; only the end of a long text counts. In training, " in card


def test_tokenisation_reuses_the_datasets_cache_unless_told_not_to(tmp_path):
    from datasets import DatasetDict, load_from_disk

    Dataset.from_dict({"text": ["a good film", "a bad film"] * 50, "label": [1, 0] * 50}).save_to_disk(
        tmp_path
    )
    splits = DatasetDict({"train": load_from_disk(tmp_path)})
    tokenizer = train_tokenizer(splits["train"]["text"], vocab_size=50, min_frequency=1)
    first = tokenize_splits(splits, tokenizer, 16)["train"].cache_files[0]["filename"]
    # datasets writes a cache file aside and renames it into place: a new inode means it was written again.
    written = os.stat(first).st_ino
    again = tokenize_splits(splits, tokenizer, 16)["train"].cache_files[0]["filename"]
    assert again == first and os.stat(first).st_ino == written  # read back, not written again
    tokenize_splits(splits, tokenizer, 16, load_from_cache_file=False)
    assert os.stat(first).st_ino != written  # --overwrite_cache: tokenised again


def test_training_args_record_every_file_of_a_split_without_its_folders(tmp_path):
    from modeling_lstm.args import args_to_yaml, parse_args

    files = [str(tmp_path / "train-a.csv"), str(tmp_path / "train-b.csv")]
    argv = ["--train_file", *files, "--output_dir", "out", "--seed", "3"]
    record = yaml.safe_load(args_to_yaml(parse_args(argv), argv))
    assert (
        record["command"]
        == "python scripts/train.py --train_file train-a.csv train-b.csv --output_dir out --seed 3"
    )
    assert record["data"]["train_file"] == ["train-a.csv", "train-b.csv"]
