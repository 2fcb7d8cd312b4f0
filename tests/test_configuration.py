"""LSTMConfig: validation of every field, label maps, save/load round trip."""

import json

import pytest
from transformers import AutoConfig

from modeling_lstm import LSTMConfig
from modeling_lstm.configuration_lstm import POOLING_MODES


@pytest.mark.parametrize("field", ["vocab_size", "embedding_dim", "hidden_size", "num_layers"])
@pytest.mark.parametrize("value", [0, -3, 2.5, "8", True])
def test_sizes_must_be_positive_integers(field, value):
    with pytest.raises(ValueError, match=rf"LSTMConfig\.{field}\b.*positive integer"):
        LSTMConfig(**{field: value})


@pytest.mark.parametrize("field", ["dropout", "embedding_dropout"])
@pytest.mark.parametrize("value", [-0.1, 1, 1.0, 1.5, "0.1", None])
def test_dropouts_must_be_in_unit_interval(field, value):
    with pytest.raises(ValueError, match=rf"LSTMConfig\.{field}\b.*\[0, 1\)"):
        LSTMConfig(**{field: value})


@pytest.mark.parametrize("field", ["dropout", "embedding_dropout"])
@pytest.mark.parametrize("value", [0, 0.0, 0.5, 0.999])
def test_dropouts_in_unit_interval_are_accepted(field, value):
    config = LSTMConfig(**{field: value})
    assert getattr(config, field) == pytest.approx(value)
    assert isinstance(getattr(config, field), float)


def test_unknown_pooling_lists_allowed_values():
    with pytest.raises(ValueError, match="LSTMConfig.pooling") as excinfo:
        LSTMConfig(pooling="sum")
    message = str(excinfo.value)
    assert "'sum'" in message
    for mode in ("last", "mean", "max", "attention"):
        assert mode in message


@pytest.mark.parametrize("pooling", POOLING_MODES)
def test_every_pooling_mode_is_accepted(pooling):
    assert LSTMConfig(pooling=pooling).pooling == pooling


@pytest.mark.parametrize("pad_token_id", [-1, 50, 51, 1.0, None])
def test_pad_token_id_out_of_range(pad_token_id):
    with pytest.raises(ValueError, match=r"LSTMConfig\.pad_token_id.*vocab_size=50"):
        LSTMConfig(vocab_size=50, pad_token_id=pad_token_id)


def test_pad_token_id_at_the_end_of_the_vocabulary_is_accepted():
    assert LSTMConfig(vocab_size=50, pad_token_id=49).pad_token_id == 49


@pytest.mark.parametrize("value", [0, -0.1])
def test_initializer_range_must_be_positive(value):
    with pytest.raises(ValueError, match="LSTMConfig.initializer_range"):
        LSTMConfig(initializer_range=value)


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.2])
def test_threshold_must_be_strictly_between_0_and_1(value):
    with pytest.raises(ValueError, match=r"LSTMConfig.threshold must be in \(0, 1\)"):
        LSTMConfig(threshold=value)


def test_a_threshold_inside_the_interval_is_kept():
    assert LSTMConfig(threshold=0.3).threshold == 0.3


def test_id2label_only_gives_label2id():
    config = LSTMConfig(id2label={0: "anger", 1: "joy", 2: "sadness"})
    assert config.num_labels == 3
    assert config.label2id == {"anger": 0, "joy": 1, "sadness": 2}
    assert config.id2label == {0: "anger", 1: "joy", 2: "sadness"}


def test_id2label_and_label2id_given_are_kept():
    config = LSTMConfig(id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})
    assert config.label2id == {"neg": 0, "pos": 1}


def test_save_load_round_trip_preserves_fields(tmp_path):
    config = LSTMConfig(
        vocab_size=123,
        embedding_dim=12,
        hidden_size=7,
        num_layers=3,
        bidirectional=False,
        dropout=0.25,
        embedding_dropout=0.05,
        pooling="attention",
        pad_token_id=5,
        initializer_range=0.02,
        text_cleaning={"lowercase": True, "replace_urls": True},
        id2label={0: "anger", 1: "joy", 2: "sadness"},
        problem_type="single_label_classification",
    )
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "lstm_classifier"

    for loaded in (LSTMConfig.from_pretrained(tmp_path), AutoConfig.from_pretrained(tmp_path)):
        assert type(loaded) is LSTMConfig
        for field in (
            "vocab_size",
            "embedding_dim",
            "hidden_size",
            "num_layers",
            "bidirectional",
            "dropout",
            "embedding_dropout",
            "pooling",
            "pad_token_id",
            "initializer_range",
            "text_cleaning",
            "problem_type",
        ):
            assert getattr(loaded, field) == getattr(config, field), field
        # JSON turns the int keys into strings: transformers must turn them back.
        assert loaded.id2label == {0: "anger", 1: "joy", 2: "sadness"}
        assert loaded.label2id == {"anger": 0, "joy": 1, "sadness": 2}
        assert loaded.num_labels == 3


def test_loading_an_invalid_saved_config_is_refused(tmp_path):
    LSTMConfig(vocab_size=10).save_pretrained(tmp_path)
    path = tmp_path / "config.json"
    data = json.loads(path.read_text())
    data["pooling"] = "median"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="LSTMConfig.pooling"):
        LSTMConfig.from_pretrained(tmp_path)
