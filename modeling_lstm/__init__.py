"""modeling-lstm: an LSTM text classifier that lives natively in the Hugging Face ecosystem."""

from transformers import AutoConfig, AutoModelForSequenceClassification

from .configuration_lstm import LSTMConfig
from .modeling_lstm import LSTMForSequenceClassification, LSTMPreTrainedModel
from .tokenization import TOKENIZER_KINDS, TextCleaning, train_tokenizer

__version__ = "0.1.0"

# In-process registration, so AutoModel* work on our folders without trust_remote_code...
AutoConfig.register(LSTMConfig.model_type, LSTMConfig, exist_ok=True)
AutoModelForSequenceClassification.register(LSTMConfig, LSTMForSequenceClassification, exist_ok=True)
# ...and registration for save_pretrained, which then writes auto_map and copies the two self-contained files.
LSTMConfig.register_for_auto_class()
LSTMForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "LSTMConfig",
    "LSTMForSequenceClassification",
    "LSTMPreTrainedModel",
    "TOKENIZER_KINDS",
    "TextCleaning",
    "train_tokenizer",
]
