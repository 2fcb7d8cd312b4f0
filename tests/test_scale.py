"""Training data at scale: the tokenizer's sample, tokenisation workers and the datasets cache."""

import logging

import pytest
from datasets import Dataset

from modeling_lstm import data
from modeling_lstm.cli import run_cli
from modeling_lstm.data import iter_texts, tokenizer_training_sample
from modeling_lstm.errors import UserInputError
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
