"""Pretrained word vectors: reading GloVe / word2vec text, initialising and freezing rows, exporting GloVe."""

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from conftest import REPO_ROOT, subprocess_env
from transformers import AutoTokenizer

from modeling_lstm import LSTMForSequenceClassification
from modeling_lstm.embeddings import initialise_embeddings, read_word_vectors, write_word_vectors
from modeling_lstm.errors import UserInputError
from modeling_lstm.training import main as train_main

VOCABULARY = {"[PAD]": 0, "[UNK]": 1, "good": 2, "Film": 3, "dull": 4}


def test_glove_and_word2vec_text_give_the_same_vectors(tmp_path):
    lines = "good 0.5 -1 2\nunused 9 9 9\nfilm 1e-3 0 0.25\n"
    (tmp_path / "glove.txt").write_text(lines)
    (tmp_path / "word2vec.txt").write_text("3 3\n" + lines)
    for name in ("glove.txt", "word2vec.txt"):
        vectors, dimension = read_word_vectors(str(tmp_path / name), VOCABULARY)
        assert dimension == 3
        # "film" matches the token "Film": GloVe is lowercase, tokenizers need not be.
        assert vectors == {2: [0.5, -1.0, 2.0], 3: [0.001, 0.0, 0.25]}


def test_a_value_that_is_not_a_number_names_the_line_and_word(tmp_path):
    (tmp_path / "bad.txt").write_text("good 0.5 -1 2\ndull 0.1 x 0.3\n")
    with pytest.raises(UserInputError, match=r"bad.txt line 2: not a number in the vector of 'dull'"):
        read_word_vectors(str(tmp_path / "bad.txt"), VOCABULARY)


def test_initialise_embeddings_copies_rows_and_leaves_padding_alone():
    embedding = torch.nn.Embedding(len(VOCABULARY), 3, padding_idx=0)
    untouched = embedding.weight[4].clone()
    coverage = initialise_embeddings(embedding, {0: [7.0, 7.0, 7.0], 2: [0.5, -1.0, 2.0]}, pad_id=0)
    assert coverage == 2 / 5
    assert embedding.weight[2].tolist() == [0.5, -1.0, 2.0]
    assert embedding.weight[0].tolist() == [0.0, 0.0, 0.0]
    assert torch.equal(embedding.weight[4], untouched)


def test_written_vectors_read_back_and_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "vectors" / "out.txt"
    matrix = np.array([[0.25, -1.5], [3.0, 0.125]], dtype=np.float32)
    write_word_vectors(["good", "dull"], matrix, str(path))
    vectors, dimension = read_word_vectors(str(path), VOCABULARY)
    assert dimension == 2 and vectors == {2: [0.25, -1.5], 4: [3.0, 0.125]}

    before = path.read_text()
    with pytest.raises(UserInputError, match=r"word 1 \('two words'\) is empty or holds whitespace"):
        write_word_vectors(["good", "two words"], matrix, str(path))
    with pytest.raises(UserInputError, match="3 words but 2 vectors"):
        write_word_vectors(["a", "b", "c"], matrix, str(path))
    assert path.read_text() == before
    assert [file.name for file in path.parent.iterdir()] == ["out.txt"]


def test_export_glove_writes_the_package_vectors_as_text(tmp_path):
    source = tmp_path / "package_data"
    source.mkdir()
    matrix = np.array([[0.418, 0.24968], [0.013441, 0.23682], [0.15164, 0.30177]], dtype=np.float32)
    np.save(source / "glove_6B_50d_emb.npy", matrix)
    pq.write_table(pa.table({"index": ["the", ",", "good"]}), source / "glove_6B_index.parquet")
    output = tmp_path / "glove.txt"
    command = [sys.executable, "scripts/export_glove.py", "--source", str(source), "--output", str(output)]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=subprocess_env())
    assert result.returncode == 0, result.stderr
    assert output.read_text().splitlines()[0] == "the 0.418 0.24968"
    vectors, _ = read_word_vectors(str(output), {"the": 0, "good": 1})
    assert vectors == {0: [0.418, 0.24968], 1: [0.15164, 0.30177]}

    (source / "glove_6B_index.parquet").unlink()
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=subprocess_env())
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --source {source}: glove_6B_index.parquet not found"


def test_training_with_frozen_vectors_keeps_them_and_takes_their_width(tmp_path):
    rows = ["text,label"] + ["good fun film,pos", "bad dull film,neg"] * 10
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "vectors.txt").write_text("good 0.5 -1 2 0\nfilm 1 1 1 1\nmissing 3 3 3 3\n")
    output_dir = tmp_path / "out"
    train_main(
        ["--train_file", str(tmp_path / "train.csv"), "--output_dir", str(output_dir), "--num_train_epochs", "2",
         "--tokenizer_type", "wordlevel", "--min_frequency", "1", "--checkpointing_steps", "no",
         "--pretrained_embeddings", str(tmp_path / "vectors.txt"), "--freeze_embeddings"]
    )  # fmt: skip
    model = LSTMForSequenceClassification.from_pretrained(output_dir)
    assert model.config.embedding_dim == 4
    vocabulary = AutoTokenizer.from_pretrained(output_dir).get_vocab()
    weights = model.get_input_embeddings().weight
    assert weights[vocabulary["good"]].tolist() == [0.5, -1.0, 2.0, 0.0]
    assert weights[vocabulary["film"]].tolist() == [1.0, 1.0, 1.0, 1.0]
