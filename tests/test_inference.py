import pytest
import torch
from safetensors.torch import load_file, save_file

from modeling_lstm import LSTMConfig, LSTMForSequenceClassification, train_tokenizer
from modeling_lstm.errors import UserInputError
from modeling_lstm.inference import load_classifier

TEXTS = ["a good film", "a bad film", "good fun", "bad acting"]


@pytest.fixture
def saved_folder(tmp_path):
    tokenizer = train_tokenizer(TEXTS, vocab_size=50, kind="wordlevel", min_frequency=1)
    config = LSTMConfig(
        vocab_size=len(tokenizer), embedding_dim=8, hidden_size=8, id2label={0: "neg", 1: "pos"}
    )
    LSTMForSequenceClassification(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    return tmp_path


def test_load_classifier_casts_to_the_asked_dtype(saved_folder):
    model, _ = load_classifier(str(saved_folder), dtype="bfloat16")
    assert next(model.parameters()).dtype == torch.bfloat16 and not model.training


def test_weights_missing_from_the_folder_are_a_clear_error(saved_folder):
    weights = load_file(saved_folder / "model.safetensors")
    del weights["encoder.layers.0.weight_hh_l0"]  # as in a folder saved by another version of the model
    save_file(weights, saved_folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(
        UserInputError, match=r"lack 1 of the model's tensors \(encoder.layers.0.weight_hh_l0\)"
    ):
        load_classifier(str(saved_folder))
