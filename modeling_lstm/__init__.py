"""modeling-lstm: an LSTM text classifier that lives natively in the Hugging Face ecosystem."""

from .hardware import choose_omp_wait_policy

choose_omp_wait_policy()  # before transformers imports torch, which reads it once

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification  # noqa: E402

from .configuration_lstm import LSTMConfig  # noqa: E402
from .modeling_lstm import LSTMForSequenceClassification, LSTMModel, LSTMPreTrainedModel  # noqa: E402
from .tokenization import TOKENIZER_KINDS, TextCleaning, train_tokenizer  # noqa: E402

__version__ = "0.1.0"

# In-process registration, so AutoModel* work on our folders without trust_remote_code...
AutoConfig.register(LSTMConfig.model_type, LSTMConfig, exist_ok=True)
AutoModel.register(LSTMConfig, LSTMModel, exist_ok=True)
AutoModelForSequenceClassification.register(LSTMConfig, LSTMForSequenceClassification, exist_ok=True)
# ...and registration for save_pretrained, which then writes auto_map and copies the two self-contained files.
LSTMConfig.register_for_auto_class()
LSTMModel.register_for_auto_class("AutoModel")
LSTMForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "LSTMConfig",
    "LSTMForSequenceClassification",
    "LSTMModel",
    "LSTMPreTrainedModel",
    "TOKENIZER_KINDS",
    "TextCleaning",
    "train_tokenizer",
]
