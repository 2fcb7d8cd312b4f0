"""LSTM classifier configuration.

Self-contained (imports only transformers): this file ships to the Hub as remote code.
"""

from transformers import PreTrainedConfig

POOLING_MODES = ("last", "mean", "max", "attention")
LONG_TEXT_STRATEGIES = ("truncate", "head_tail", "chunks")
CHUNK_POOLING_MODES = ("mean", "max")
PER_LABEL_FIELDS = (
    "class_weights",
    "pos_weight",
    "thresholds",
    "target_mean",
    "target_std",
    "target_min",
    "target_max",
)


def check_arguments(
    *,
    vocab_size,
    embedding_dim,
    hidden_size,
    num_layers,
    inference_length_buckets,
    dropout,
    embedding_dropout,
    pooling,
    pad_token_id,
    initializer_range,
    threshold,
) -> None:
    """A ValueError naming the first LSTMConfig argument out of range (`check_long_text_arguments` for the rest)."""
    for name, value in (
        ("vocab_size", vocab_size),
        ("embedding_dim", embedding_dim),
        ("hidden_size", hidden_size),
        ("num_layers", num_layers),
        ("inference_length_buckets", inference_length_buckets),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"LSTMConfig.{name} must be a positive integer, got {value!r}")
    for name, value in (("dropout", dropout), ("embedding_dropout", embedding_dropout)):
        if not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise ValueError(f"LSTMConfig.{name} must be in [0, 1), got {value!r}")
    if pooling not in POOLING_MODES:
        raise ValueError(f"LSTMConfig.pooling must be one of {', '.join(POOLING_MODES)}; got {pooling!r}")
    if not isinstance(pad_token_id, int) or not 0 <= pad_token_id < vocab_size:
        raise ValueError(
            f"LSTMConfig.pad_token_id must be in [0, vocab_size={vocab_size}), got {pad_token_id!r}"
        )
    if not initializer_range > 0:
        raise ValueError(f"LSTMConfig.initializer_range must be positive, got {initializer_range!r}")
    if not 0 < threshold < 1:
        raise ValueError(f"LSTMConfig.threshold must be in (0, 1), got {threshold!r}")


# The fields each check reads, by name (pad_token_id is checked too, but transformers' base class keeps it).
CHECKED_FIELDS = ("vocab_size", "embedding_dim", "hidden_size", "num_layers", "inference_length_buckets", "dropout",
                  "embedding_dropout", "pooling", "initializer_range", "threshold")  # fmt: skip
LONG_TEXT_FIELDS = ("long_text_strategy", "max_seq_length", "max_chunks", "chunk_pooling")


def check_long_text_arguments(*, long_text_strategy, max_seq_length, max_chunks, chunk_pooling) -> None:
    """A ValueError naming the first long-text argument of LSTMConfig out of range."""
    if long_text_strategy not in LONG_TEXT_STRATEGIES:
        raise ValueError(
            f"LSTMConfig.long_text_strategy must be one of {', '.join(LONG_TEXT_STRATEGIES)}; "
            f"got {long_text_strategy!r}"
        )
    if chunk_pooling not in CHUNK_POOLING_MODES:
        raise ValueError(
            f"LSTMConfig.chunk_pooling must be one of {', '.join(CHUNK_POOLING_MODES)}; got {chunk_pooling!r}"
        )
    for name, value in (("max_seq_length", max_seq_length), ("max_chunks", max_chunks)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"LSTMConfig.{name} must be a positive integer, got {value!r}")


class LSTMConfig(PreTrainedConfig):
    r"""
    Configuration of an [`LSTMModel`] (an embedding, a stack of (bi)LSTM layers that ignore padding and a pooling
    over time) and of an [`LSTMForSequenceClassification`] (that model plus a linear classifier).

    Args:
        vocab_size (`int`, *optional*, defaults to 16000):
            Number of rows in the embedding table; must match the tokenizer's vocabulary.
        embedding_dim (`int`, *optional*, defaults to 128):
            Size of each token embedding.
        hidden_size (`int`, *optional*, defaults to 128):
            Hidden size of each LSTM direction.
        num_layers (`int`, *optional*, defaults to 1):
            Number of stacked LSTM layers.
        bidirectional (`bool`, *optional*, defaults to `True`):
            Whether each layer reads the text in both directions; the pooled size is then `2 * hidden_size`.
        dropout (`float`, *optional*, defaults to 0.3):
            Dropout between LSTM layers and, in a classifier, before its linear layer.
        embedding_dropout (`float`, *optional*, defaults to 0.1):
            Dropout applied to the token embeddings.
        pooling (`str`, *optional*, defaults to `"max"`):
            How the per-token LSTM outputs become one vector: `"last"` (final state of each direction), `"mean"`,
            `"max"` or `"attention"` (a learned weighted sum whose weights can be returned with
            `output_attentions=True`).
        pad_token_id (`int`, *optional*, defaults to 0):
            Id of the padding token; its embedding row stays zero.
        initializer_range (`float`, *optional*, defaults to 0.1):
            Standard deviation of the normal initialiser for the embedding and the classifier.
        inference_length_buckets (`int`, *optional*, defaults to 4):
            At inference on the CPU (no gradient; logits, or pooled vectors with `pooled_only=True`), a batch
            whose padding is over a quarter of it is sorted by length and run as up to this many sub-batches, each
            cut to its own longest text: the LSTM then computes far fewer padding steps (about 1.3x the model's
            throughput on batches in file order). Results are the same; 1 turns it off.
        long_text_strategy (`str`, *optional*, defaults to `"truncate"`):
            How the model reads a text longer than `max_seq_length` tokens. `"truncate"`: every token it is given
            (the tokenizer has cut the text). `"head_tail"`: the first `max_seq_length - max_seq_length // 2` and the
            last `max_seq_length // 2` tokens it is given. `"chunks"`: consecutive windows of `max_seq_length`
            tokens (at most `max_chunks`), each read by the same LSTM and pooled alone, the windows' vectors then
            pooled by `chunk_pooling`. With head_tail and chunks the tokenizer's own limit
            (`model_max_length`) is `max_seq_length * max_chunks`: those are the tokens the model is given.
        max_seq_length (`int`, *optional*, defaults to 128):
            Tokens the LSTM reads per text (`"head_tail"`) or per window (`"chunks"`); unused by `"truncate"`.
        max_chunks (`int`, *optional*, defaults to 8):
            `"chunks"`: the windows read per text (further tokens are ignored).
        chunk_pooling (`str`, *optional*, defaults to `"max"`):
            `"chunks"`: how the windows' pooled vectors become one, `"max"` or `"mean"` over the windows that hold a
            token.
        text_cleaning (`dict`, *optional*):
            The cleaning applied to texts before tokenisation at training time, kept for the record (the tokenizer's
            normalizer applies it at inference).
        class_weights (`list[float]`, *optional*):
            Single-label: a cross-entropy weight per class (`--class_weights balanced` or `balanced_sqrt`).
        pos_weight (`list[float]`, *optional*):
            Multi-label: the weight of each label's positives in the binary cross-entropy (`--class_weights
            balanced` or `balanced_sqrt`).
        threshold (`float`, *optional*, defaults to 0.5):
            Multi-label: a label is predicted when its sigmoid score reaches this (tuned on validation).
        thresholds (`list[float]`, *optional*):
            Multi-label: one threshold per label, used instead of `threshold` when set.
        target_mean (`list[float]`, *optional*), target_std (`list[float]`, *optional*):
            Regression with standardised targets: the model learns `(target - mean) / std` and its logits are
            mapped back (`raw * std + mean`), so outputs are in the targets' own scale.
        target_min (`list[float]`, *optional*), target_max (`list[float]`, *optional*):
            Regression: each target's range in the training data, for display next to predictions.

    Example:

    ```python
    >>> from modeling_lstm import LSTMConfig, LSTMForSequenceClassification, LSTMModel

    >>> config = LSTMConfig(vocab_size=16000, id2label={0: "negative", 1: "positive"})
    >>> model = LSTMForSequenceClassification(config)
    >>> encoder = LSTMModel(config)  # the same layers without the classifier
    ```
    """

    model_type = "lstm_classifier"

    def __init__(
        self,
        vocab_size: int = 16000,
        embedding_dim: int = 128,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.3,
        embedding_dropout: float = 0.1,
        pooling: str = "max",
        pad_token_id: int = 0,
        initializer_range: float = 0.1,
        inference_length_buckets: int = 4,
        long_text_strategy: str = "truncate",
        max_seq_length: int = 128,
        max_chunks: int = 8,
        chunk_pooling: str = "max",
        text_cleaning: dict | None = None,
        class_weights: list[float] | None = None,
        pos_weight: list[float] | None = None,
        threshold: float = 0.5,
        thresholds: list[float] | None = None,
        target_mean: list[float] | None = None,
        target_std: list[float] | None = None,
        target_min: list[float] | None = None,
        target_max: list[float] | None = None,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.embedding_dropout = embedding_dropout
        self.pooling = pooling
        self.initializer_range = initializer_range
        self.inference_length_buckets = inference_length_buckets
        self.long_text_strategy = long_text_strategy
        self.max_seq_length = max_seq_length
        self.max_chunks = max_chunks
        self.chunk_pooling = chunk_pooling
        self.text_cleaning = text_cleaning or {}
        self.threshold = threshold
        self.class_weights = class_weights
        self.pos_weight = pos_weight
        self.thresholds = thresholds
        self.target_mean = target_mean
        self.target_std = target_std
        self.target_min = target_min
        self.target_max = target_max
        check_arguments(pad_token_id=pad_token_id, **{name: getattr(self, name) for name in CHECKED_FIELDS})
        check_long_text_arguments(**{name: getattr(self, name) for name in LONG_TEXT_FIELDS})
        self.dropout, self.embedding_dropout = float(dropout), float(embedding_dropout)
        self.threshold = float(threshold)
        super().__init__(pad_token_id=pad_token_id, **kwargs)
        self.complete_labels()

    def complete_labels(self) -> None:
        """label2id next to id2label; a ValueError unless each per-label field has one value per label."""
        # transformers 5 leaves label2id unset when only id2label is given; pipelines and users expect both.
        if not self.label2id and self.id2label:
            self.label2id = {label: index for index, label in self.id2label.items()}
        for name in PER_LABEL_FIELDS:
            value = getattr(self, name)
            if value is not None and len(value) != self.num_labels:
                raise ValueError(
                    f"LSTMConfig.{name} needs one value per label ({self.num_labels}), got {len(value)}"
                )


__all__ = ["LSTMConfig"]
