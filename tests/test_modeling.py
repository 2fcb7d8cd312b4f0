"""LSTMForSequenceClassification: shapes, losses, and above all that padding never changes a sentence's result.

Padding tests randomise every parameter first (STACK_NOTES: with zero LSTM biases and a zero padding row, a freshly
initialised model keeps its state at exactly 0 over padding, so even a model that lets padding leak would pass).
"""

import copy
import itertools

import pytest
import torch
from torch import nn
from transformers.loss.loss_utils import ForSequenceClassificationLoss
from transformers.modeling_outputs import SequenceClassifierOutput

from modeling_lstm import LSTMConfig, LSTMForSequenceClassification

VOCAB = 50
POOLINGS = ("last", "mean", "max", "attention")
# Sentences of different lengths (ids >= 2: 0 is padding in most tests, 1 is [UNK]).
SENTENCES = [[7, 3, 9], [12, 5, 30, 8, 2, 41, 6], [4], [20, 33, 17, 11, 9]]
ALL_CONFIGS = list(itertools.product(POOLINGS, (True, False), (1, 2)))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors gain nothing from threads, and on shared cores the thread hand-offs cost ~100 ms a call."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_config(pooling="max", bidirectional=True, num_layers=1, num_labels=3, **kwargs) -> LSTMConfig:
    return LSTMConfig(
        vocab_size=VOCAB,
        embedding_dim=8,
        hidden_size=8,
        num_layers=num_layers,
        bidirectional=bidirectional,
        pooling=pooling,
        id2label={i: f"label_{i}" for i in range(num_labels)},
        **kwargs,
    )


@torch.no_grad()
def randomize_(model: nn.Module, pad_row_zero: bool = True, seed: int = 0, std: float = 0.5) -> nn.Module:
    """Every parameter (LSTM biases included) drawn at random; the embedding's padding row zero or not."""
    generator = torch.Generator().manual_seed(seed)
    for param in model.parameters():
        param.copy_(torch.randn(param.shape, generator=generator) * std)
    embeddings = model.get_input_embeddings()
    if pad_row_zero:
        embeddings.weight[embeddings.padding_idx].zero_()
    else:
        assert embeddings.weight[embeddings.padding_idx].abs().min() > 0
    return model


def tiny_model(pooling="max", bidirectional=True, num_layers=1, pad_row_zero=True, **kwargs):
    torch.manual_seed(0)
    model = LSTMForSequenceClassification(tiny_config(pooling, bidirectional, num_layers, **kwargs))
    return randomize_(model, pad_row_zero=pad_row_zero).eval()


def pad_batch(sentences, side="right", pad_id=0, fill=None, extra=0):
    """(input_ids, attention_mask) padded on `side` to the longest length + `extra`.

    `fill` = "garbage" puts random real-token ids under the zero mask instead of `pad_id`.
    """
    length = max(map(len, sentences)) + extra
    generator = torch.Generator().manual_seed(1)
    ids = torch.full((len(sentences), length), pad_id, dtype=torch.long)
    if fill == "garbage":
        ids = torch.randint(2, VOCAB, ids.shape, generator=generator)
    mask = torch.zeros_like(ids)
    for row, sentence in enumerate(sentences):
        span = slice(0, len(sentence)) if side == "right" else slice(length - len(sentence), length)
        ids[row, span] = torch.tensor(sentence)
        mask[row, span] = 1
    return ids, mask


def real_positions(mask_row: torch.Tensor) -> torch.Tensor:
    return mask_row.nonzero().squeeze(-1)


def alone(model, sentence, **kwargs):
    with torch.no_grad():
        return model(input_ids=torch.tensor([sentence]), **kwargs)


# --------------------------------------------------------------------------------------------------------- shapes


def assert_matches_transformers_loss(model, out, labels):
    """Same loss, and the same inferred problem_type, as transformers' own sequence-classification loss."""
    reference_config = copy.deepcopy(model.config)
    reference_config.problem_type = None
    torch.testing.assert_close(out.loss, ForSequenceClassificationLoss(labels, out.logits, reference_config))
    assert reference_config.problem_type == model.config.problem_type


@pytest.mark.parametrize("pooling,bidirectional,num_layers", ALL_CONFIGS)
def test_output_shapes(pooling, bidirectional, num_layers):
    model = tiny_model(pooling, bidirectional, num_layers, num_labels=4)
    ids, mask = pad_batch(SENTENCES)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
    batch, seq = ids.shape
    features = 8 * (2 if bidirectional else 1)
    assert isinstance(out, SequenceClassifierOutput)
    assert out.loss is None
    assert out.logits.shape == (batch, 4)
    assert torch.isfinite(out.logits).all()
    assert len(out.hidden_states) == num_layers + 1
    assert out.hidden_states[0].shape == (batch, seq, 8)
    for layer in out.hidden_states[1:]:
        assert layer.shape == (batch, seq, features)
    if pooling == "attention":
        assert len(out.attentions) == 1 and out.attentions[0].shape == (batch, seq)
    else:
        assert out.attentions is None
    assert model.num_parameters() == parameter_count_from_sizes(model.config)


def parameter_count_from_sizes(config) -> int:
    """The design's weights, counted from the config's sizes alone: embeddings, bias-free LSTM layers with one more
    input feature (the "is a real token" feature whose weights act as the gate biases), the pooling and the head."""
    directions = 2 if config.bidirectional else 1
    features = config.hidden_size * directions
    count = config.vocab_size * config.embedding_dim
    for layer in range(config.num_layers):
        inputs = (config.embedding_dim if layer == 0 else features) + 1
        count += directions * 4 * config.hidden_size * (inputs + config.hidden_size)  # weight_ih, weight_hh
    if config.pooling == "attention":
        count += features * features + features + features  # Linear(features, features), Linear(features, 1)
    return count + features * config.num_labels + config.num_labels


def test_attention_head_exists_only_for_attention_pooling():
    assert tiny_model("attention").lstm.attention is not None
    for pooling in ("last", "mean", "max"):
        assert tiny_model(pooling).lstm.attention is None


def test_outputs_off_by_default():
    model = tiny_model("attention")
    ids, mask = pad_batch(SENTENCES)
    out = model(input_ids=ids, attention_mask=mask)
    assert out.hidden_states is None and out.attentions is None


# ----------------------------------------------------------------------------------------------------------- loss


def test_single_label_loss_is_cross_entropy_and_infers_problem_type():
    model = tiny_model(num_labels=3)
    assert model.config.problem_type is None
    ids, mask = pad_batch(SENTENCES)
    labels = torch.tensor([0, 2, 1, 2])
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert model.config.problem_type == "single_label_classification"
    torch.testing.assert_close(out.loss, nn.functional.cross_entropy(out.logits, labels))
    assert_matches_transformers_loss(model, out, labels)


def test_int32_labels_are_single_label():
    model = tiny_model(num_labels=3)
    ids, mask = pad_batch(SENTENCES)
    labels = torch.tensor([0, 2, 1, 2], dtype=torch.int)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert model.config.problem_type == "single_label_classification"
    torch.testing.assert_close(out.loss, nn.functional.cross_entropy(out.logits, labels.long()))


def test_multi_label_loss_is_bce_and_infers_problem_type():
    model = tiny_model(num_labels=3)
    ids, mask = pad_batch(SENTENCES)
    labels = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]], dtype=torch.float)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert model.config.problem_type == "multi_label_classification"
    torch.testing.assert_close(out.loss, nn.functional.binary_cross_entropy_with_logits(out.logits, labels))
    assert_matches_transformers_loss(model, out, labels)


@pytest.mark.parametrize("label_shape", [(4,), (4, 1)])
def test_regression_loss_is_mse_and_infers_problem_type(label_shape):
    model = tiny_model(num_labels=1)
    ids, mask = pad_batch(SENTENCES)
    labels = torch.tensor([0.5, -1.0, 2.0, 0.0]).reshape(label_shape)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (4, 1)
    assert model.config.problem_type == "regression"
    torch.testing.assert_close(out.loss, nn.functional.mse_loss(out.logits.view(-1), labels.view(-1)))
    reference_config = copy.deepcopy(model.config)
    reference_config.problem_type = None
    torch.testing.assert_close(out.loss, ForSequenceClassificationLoss(labels, out.logits, reference_config))


def test_explicit_problem_type_is_respected():
    # Multi-label with two labels and float labels given as 0/1 per label.
    model = tiny_model(num_labels=2, problem_type="multi_label_classification")
    ids, mask = pad_batch(SENTENCES)
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert model.config.problem_type == "multi_label_classification"
    torch.testing.assert_close(out.loss, nn.functional.binary_cross_entropy_with_logits(out.logits, labels))


@pytest.mark.parametrize("pooling", POOLINGS)
def test_backward_reaches_every_parameter(pooling):
    model = tiny_model(pooling, bidirectional=True, num_layers=2).train()
    ids, mask = pad_batch(SENTENCES, side="left")
    out = model(input_ids=ids, attention_mask=mask, labels=torch.tensor([0, 1, 2, 1]))
    out.loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name
    # nn.Embedding(padding_idx=...) never updates the padding row.
    assert model.lstm.embeddings.weight.grad[model.config.pad_token_id].abs().sum() == 0


def test_a_few_steps_reduce_the_loss():
    model = tiny_model("attention", num_labels=2).train()
    ids, mask = pad_batch(SENTENCES)
    labels = torch.tensor([0, 1, 0, 1])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(15):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert losses[-1] < 0.5 * losses[0]


# ------------------------------------------------------------------------------------------- padding invariance


@pytest.mark.parametrize("pooling,bidirectional,num_layers", ALL_CONFIGS)
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("pad_row_zero", [True, False], ids=["zero-pad-row", "random-pad-row"])
def test_padding_invariance(pooling, bidirectional, num_layers, side, pad_row_zero):
    model = tiny_model(pooling, bidirectional, num_layers, pad_row_zero=pad_row_zero)
    ids, mask = pad_batch(SENTENCES, side=side, extra=3)  # every row padded, the longest one too
    with torch.no_grad():
        batched = model(input_ids=ids, attention_mask=mask).logits
    for row, sentence in enumerate(SENTENCES):
        torch.testing.assert_close(batched[row], alone(model, sentence).logits[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("side", ["right", "left"])
def test_mask_not_pad_id_does_the_work(pooling, side):
    """Random real-token ids under attention_mask == 0 must be ignored just like [PAD]."""
    model = tiny_model(pooling, bidirectional=True, num_layers=2)
    ids, mask = pad_batch(SENTENCES, side=side, fill="garbage", extra=2)
    assert (ids[mask == 0] != 0).all()
    with torch.no_grad():
        batched = model(input_ids=ids, attention_mask=mask).logits
    for row, sentence in enumerate(SENTENCES):
        torch.testing.assert_close(batched[row], alone(model, sentence).logits[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_invariance_test_has_teeth_padding_as_tokens_changes_logits(pooling):
    """The same comparison catches leakage: telling the model the padding is real changes the logits."""
    model = tiny_model(pooling, bidirectional=True, num_layers=1, pad_row_zero=True)
    ids, _ = pad_batch(SENTENCES, side="right", extra=3)
    with torch.no_grad():
        leaky = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    differences = [
        (leaky[row] - alone(model, sentence).logits[0]).abs().max().item()
        for row, sentence in enumerate(SENTENCES)
    ]
    assert max(differences) > 1e-3


def test_invariance_test_has_teeth_plain_bilstm_leaks():
    """An unpacked, unmasked nn.LSTM(bidirectional=True) with the same random weights does not pass this test."""
    torch.manual_seed(0)
    embeddings = nn.Embedding(VOCAB, 8, padding_idx=0)
    lstm = nn.LSTM(8, 8, batch_first=True, bidirectional=True)
    plain = nn.Module()
    plain.embeddings, plain.lstm = embeddings, lstm
    plain.get_input_embeddings = lambda: embeddings
    randomize_(plain.eval(), pad_row_zero=True)
    assert lstm.bias_hh_l0_reverse.abs().min() > 0 and (embeddings.weight[0] == 0).all()
    ids, mask = pad_batch(SENTENCES, side="right", extra=3)
    with torch.no_grad():
        padded, _ = lstm(embeddings(ids))
        for row, sentence in enumerate(SENTENCES):
            single, _ = lstm(embeddings(torch.tensor([sentence])))
            positions = real_positions(mask[row])
            forward_part = padded[row, positions, :8]
            backward_part = padded[row, positions, 8:]
            # The forward direction reads padding only after the sentence: identical...
            torch.testing.assert_close(forward_part, single[0, :, :8], rtol=0, atol=1e-6)
            # ...but the backward one starts in the padding, and padding with non-zero biases moves the state.
            assert (backward_part - single[0, :, 8:]).abs().max() > 1e-3


def test_zero_biases_and_zero_pad_row_hide_the_leak():
    """Why the tests above randomise: with zero biases the plain BiLSTM would pass (STACK_NOTES)."""
    torch.manual_seed(0)
    embeddings = nn.Embedding(VOCAB, 8, padding_idx=0)
    lstm = nn.LSTM(8, 8, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias"):
                param.zero_()
    ids, _ = pad_batch(SENTENCES, side="right", extra=3)
    with torch.no_grad():
        padded, _ = lstm(embeddings(ids))
        single, _ = lstm(embeddings(torch.tensor([SENTENCES[0]])))
    torch.testing.assert_close(padded[0, : len(SENTENCES[0]), 8:], single[0, :, 8:], rtol=0, atol=1e-6)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("side", ["right", "left"])
def test_all_padding_row_is_finite_and_harmless(pooling, side):
    model = tiny_model(pooling, bidirectional=True, num_layers=2, pad_row_zero=False)
    ids, mask = pad_batch([*SENTENCES, []], side=side)
    assert mask[-1].sum() == 0
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    assert torch.isfinite(out.logits).all()
    for row, sentence in enumerate(SENTENCES):
        torch.testing.assert_close(out.logits[row], alone(model, sentence).logits[0], rtol=0, atol=1e-5)
    if pooling == "attention":
        assert (out.attentions[0][-1] == 0).all()
    # A batch made of padding only works too, and every row then gets the classifier's bias.
    with torch.no_grad():
        empty = model(input_ids=torch.zeros(2, 4, dtype=torch.long)).logits
    assert torch.isfinite(empty).all()
    torch.testing.assert_close(empty, model.classifier.bias.detach().expand(2, -1))
    # So does a batch of empty texts, which tokenizers return with no columns at all.
    with torch.no_grad():
        no_columns = model(input_ids=torch.zeros(2, 0, dtype=torch.long)).logits
    torch.testing.assert_close(no_columns, model.classifier.bias.detach().expand(2, -1))


# -------------------------------------------------------------------------------- attentions and hidden states


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("side", ["right", "left"])
def test_attention_weights_are_aligned_with_input_positions(bidirectional, side):
    model = tiny_model("attention", bidirectional=bidirectional, num_layers=2)
    ids, mask = pad_batch(SENTENCES, side=side, extra=2)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_attentions=True)
    weights = out.attentions[0]
    assert weights.shape == ids.shape
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(len(SENTENCES)))
    assert (weights[mask == 0] == 0).all()
    assert (weights[mask == 1] > 0).all()
    for row, sentence in enumerate(SENTENCES):
        single = alone(model, sentence, output_attentions=True).attentions[0][0]
        torch.testing.assert_close(weights[row, real_positions(mask[row])], single, rtol=0, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("side", ["right", "left"])
def test_hidden_states_are_aligned_with_input_positions(bidirectional, side):
    model = tiny_model("max", bidirectional=bidirectional, num_layers=2)
    ids, mask = pad_batch(SENTENCES, side=side, extra=2)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        # Layer 0 is the embedding of each input position, padding included.
        torch.testing.assert_close(out.hidden_states[0], model.lstm.embeddings(ids), rtol=0, atol=0)
    for row, sentence in enumerate(SENTENCES):
        single = alone(model, sentence, output_hidden_states=True).hidden_states
        positions = real_positions(mask[row])
        for layer, (batched_layer, single_layer) in enumerate(zip(out.hidden_states, single, strict=True)):
            torch.testing.assert_close(
                batched_layer[row, positions],
                single_layer[0],
                rtol=0,
                atol=1e-5,
                msg=lambda m, layer=layer: f"layer {layer}: {m}",
            )


# ------------------------------------------------------------------------------------------------ call interface


def test_attention_mask_defaults_to_non_pad_ids():
    # A non-zero pad id, so the default must come from the config, not from "id 0".
    model = tiny_model("mean", bidirectional=True, num_layers=1, pad_token_id=3, pad_row_zero=False)
    sentences = [[7, 4, 9], [12, 5, 30, 8, 2, 41, 6]]
    ids, mask = pad_batch(sentences, side="left", pad_id=3)
    with torch.no_grad():
        default = model(input_ids=ids).logits
        explicit = model(input_ids=ids, attention_mask=mask).logits
        all_ones = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    torch.testing.assert_close(default, explicit, rtol=0, atol=0)
    assert (default - all_ones).abs().max() > 1e-3
    torch.testing.assert_close(default[0], alone(model, sentences[0]).logits[0], rtol=0, atol=1e-5)


def test_inputs_embeds_match_input_ids():
    model = tiny_model("attention", bidirectional=True, num_layers=1)
    ids, mask = pad_batch(SENTENCES, side="left")
    with torch.no_grad():
        from_ids = model(input_ids=ids, attention_mask=mask).logits
        from_embeds = model(inputs_embeds=model.lstm.embeddings(ids), attention_mask=mask).logits
    torch.testing.assert_close(from_ids, from_embeds, rtol=0, atol=0)


def test_exactly_one_of_input_ids_and_inputs_embeds():
    model = tiny_model()
    ids, _ = pad_batch(SENTENCES)
    with pytest.raises(ValueError, match="exactly one"):
        model()
    with pytest.raises(ValueError, match="exactly one"):
        model(input_ids=ids, inputs_embeds=model.lstm.embeddings(ids))


def test_return_dict_false_returns_a_tuple():
    model = tiny_model("attention", num_labels=3)
    ids, mask = pad_batch(SENTENCES, side="left")
    labels = torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        as_dict = model(
            input_ids=ids,
            attention_mask=mask,
            labels=labels,
            output_hidden_states=True,
            output_attentions=True,
        )
        plain = model(input_ids=ids, attention_mask=mask, return_dict=False)
        full = model(
            input_ids=ids,
            attention_mask=mask,
            labels=labels,
            output_hidden_states=True,
            output_attentions=True,
            return_dict=False,
        )
    assert type(plain) is tuple and len(plain) == 1
    torch.testing.assert_close(plain[0], as_dict.logits, rtol=0, atol=0)
    assert type(full) is tuple and len(full) == 4
    loss, logits, hidden_states, attentions = full
    torch.testing.assert_close(loss, as_dict.loss, rtol=0, atol=0)
    torch.testing.assert_close(logits, as_dict.logits, rtol=0, atol=0)
    assert len(hidden_states) == len(as_dict.hidden_states) == 2
    torch.testing.assert_close(attentions[0], as_dict.attentions[0], rtol=0, atol=0)


def test_return_dict_false_in_config():
    config = tiny_config(return_dict=False)
    model = LSTMForSequenceClassification(config).eval()
    out = model(input_ids=torch.tensor([SENTENCES[1]]))
    assert type(out) is tuple and out[0].shape == (1, 3)


def test_fresh_model_keeps_pad_row_zero_and_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = LSTMForSequenceClassification(tiny_config("attention", pad_token_id=5)).eval()
    assert model.lstm.embeddings.padding_idx == 5
    assert (model.lstm.embeddings.weight[5] == 0).all()
    randomize_(model)
    model.save_pretrained(tmp_path)
    loaded = LSTMForSequenceClassification.from_pretrained(tmp_path).eval()
    ids, mask = pad_batch(SENTENCES, side="left", pad_id=5)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(input_ids=ids, attention_mask=mask).logits,
            model(input_ids=ids, attention_mask=mask).logits,
            rtol=0,
            atol=0,
        )


# ------------------------------------------------------------------------------------ length buckets at inference


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("side", ["right", "left"])
def test_length_buckets_at_inference_give_the_same_logits(pooling, side):
    generator = torch.Generator().manual_seed(3)
    lengths = torch.randint(1, 30, (37,), generator=generator).tolist()
    sentences = [torch.randint(2, VOCAB, (n,), generator=generator).tolist() for n in lengths] + [[]]
    model = tiny_model(pooling, bidirectional=True, num_layers=2)
    ids, mask = pad_batch(sentences, side=side, extra=2)
    with torch.no_grad():
        assert model.lstm.use_length_buckets(
            mask, per_token_outputs=False
        )  # this batch does take the bucketed path
        bucketed = model(input_ids=ids, attention_mask=mask).logits
        model.config.inference_length_buckets = 1
        assert not model.lstm.use_length_buckets(mask, per_token_outputs=False)
        plain = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(bucketed, plain, rtol=0, atol=1e-5)


def test_length_buckets_only_for_logits_at_inference():
    model = tiny_model("attention")
    ids, mask = pad_batch([[5]] * 15 + [list(range(2, 40))], side="right")
    with torch.no_grad():
        assert model.lstm.use_length_buckets(mask, per_token_outputs=False)
        assert not model.lstm.use_length_buckets(
            mask, per_token_outputs=True
        )  # hidden states / attentions asked
        # No padding: nothing to gain.
        assert not model.lstm.use_length_buckets(mask[:, :1], per_token_outputs=False)
        assert not model.lstm.use_length_buckets(mask[:7], per_token_outputs=False)  # too few rows to split
        out = model(input_ids=ids, attention_mask=mask, output_attentions=True)
    assert out.attentions[0].shape == ids.shape
    assert not model.train().lstm.use_length_buckets(mask, per_token_outputs=False)
    model.eval()
    assert not model.lstm.use_length_buckets(
        mask, per_token_outputs=False
    )  # gradients enabled: training-like use


def test_length_buckets_under_bf16_autocast():
    """Mixed-precision evaluation (Accelerate's autocast) takes the bucketed path too: the sub-batch logits come
    out in bf16 and must be put together as such."""
    model = tiny_model("max")
    ids, mask = pad_batch([[5, 6]] * 15 + [list(range(2, 40))], side="right")
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.lstm.use_length_buckets(mask, per_token_outputs=False)
        logits = model(input_ids=ids, attention_mask=mask).logits
    with torch.no_grad():
        reference = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(logits.float(), reference, rtol=0, atol=0.05)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("side", ["right", "left"])
def test_a_token_masked_inside_a_text_is_skipped(pooling, side):
    """attention_mask = 0 inside a text (leave-one-out explanations) means the text without that token."""
    model = tiny_model(pooling, bidirectional=True, num_layers=2)
    ids, mask = pad_batch(SENTENCES, side=side, extra=2)
    row, sentence = 1, SENTENCES[1]
    hole = real_positions(mask[row])[3]
    mask[row, hole] = 0
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    without = sentence[:3] + sentence[4:]
    torch.testing.assert_close(out.logits[row], alone(model, without).logits[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(out.logits[0], alone(model, SENTENCES[0]).logits[0], rtol=0, atol=1e-5)
    assert (out.hidden_states[-1][row, hole] == 0).all()
    if pooling == "attention":
        assert out.attentions[0][row, hole] == 0
