"""LSTM text classifier as a transformers `PreTrainedModel`.

Self-contained (imports only torch, transformers and the sibling configuration file): this file ships to the Hub
as remote code, so users load the model with `trust_remote_code=True` without installing this package.

Padding is handled by masking, not by packed sequences: on CPU, `pack_padded_sequence` costs more than the padding
it skips (see docs/benchmarks.md), and length-grouped batches keep padding small anyway. Each direction of a layer is
its own unidirectional `nn.LSTM`: the forward one reads right-aligned tokens, so padding comes after every real
token and cannot reach it; the backward one reads each row's tokens reversed in place (padding stays at the end).
Left-padded batches are right-aligned first. The result is exactly what each sentence gives alone.
"""

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_lstm import LSTMConfig


def right_align(attention_mask: torch.Tensor) -> torch.Tensor:
    """Column order that moves each row's real tokens to the front, keeping their order.

    Returns `order` (batch, seq) such that `tensor.gather(1, order)` is right-padded.
    """
    # A stable sort on "is padding" keeps the real tokens in their original order.
    return torch.argsort((attention_mask == 0).to(torch.int8), dim=1, stable=True)


def reverse_within_length(lengths: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Index (batch, seq) that reverses the first `lengths[b]` positions of each row and leaves padding in place.

    The permutation is its own inverse.
    """
    positions = torch.arange(seq_len, device=lengths.device).unsqueeze(0)  # (1, seq)
    lengths = lengths.unsqueeze(1)  # (batch, 1)
    return torch.where(positions < lengths, lengths - 1 - positions, positions)  # (batch, seq)


def gather_time(tensor: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """`tensor[b, index[b, t]]` for a (batch, seq, features) tensor.

    One `index_select` over the flattened (batch * seq) rows: on CPU it is several times faster, forward and
    backward, than `gather` with the index expanded over the features (docs/benchmarks.md).
    """
    batch, seq = index.shape
    offsets = torch.arange(batch, device=index.device).unsqueeze(1) * tensor.size(1)
    rows = tensor.reshape(batch * tensor.size(1), tensor.size(2))
    return rows.index_select(0, (index + offsets).reshape(-1)).view(batch, seq, tensor.size(2))


class LSTMEncoder(nn.Module):
    """Stacked (bi)LSTM over right-aligned input whose output at real positions ignores the padding."""

    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.bidirectional = config.bidirectional
        num_directions = 2 if config.bidirectional else 1
        self.forward_layers = nn.ModuleList()
        self.backward_layers = nn.ModuleList()
        for layer in range(config.num_layers):
            input_size = config.embedding_dim if layer == 0 else config.hidden_size * num_directions
            self.forward_layers.append(nn.LSTM(input_size, config.hidden_size, batch_first=True))
            if config.bidirectional:
                self.backward_layers.append(nn.LSTM(input_size, config.hidden_size, batch_first=True))
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, inputs: torch.Tensor, lengths: torch.Tensor, output_hidden_states: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        reverse_index = reverse_within_length(lengths, inputs.size(1)) if self.bidirectional else None
        hidden = inputs  # (batch, seq, embedding_dim)
        all_hidden = []
        for layer, forward_lstm in enumerate(self.forward_layers):
            if layer > 0:
                hidden = self.dropout(hidden)
            output, _ = forward_lstm(hidden)  # (batch, seq, hidden_size)
            if self.bidirectional:
                backward, _ = self.backward_layers[layer](gather_time(hidden, reverse_index))
                output = torch.cat(
                    [output, gather_time(backward, reverse_index)], dim=-1
                )  # (batch, seq, 2*hidden)
            hidden = output
            if output_hidden_states:
                all_hidden.append(hidden)
        return hidden, tuple(all_hidden)


class LSTMPreTrainedModel(PreTrainedModel):
    config_class = LSTMConfig
    base_model_prefix = "lstm"
    main_input_name = "input_ids"

    @torch.no_grad()
    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, nn.Embedding):
            module.weight.normal_(mean=0.0, std=std)
            if module.padding_idx is not None:
                module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.Linear):
            module.weight.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.LSTM):
            for name, param in module.named_parameters():
                if name.startswith("weight_hh"):
                    nn.init.orthogonal_(param)
                elif name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(param)
                else:
                    # Forget-gate bias of 1 (split over the two bias vectors) helps gradients flow early on.
                    param.zero_()
                    hidden = param.numel() // 4
                    param[hidden : 2 * hidden] = 0.5


class LSTMForSequenceClassification(LSTMPreTrainedModel):
    def __init__(self, config: LSTMConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.embeddings = nn.Embedding(
            config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id
        )
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.encoder = LSTMEncoder(config)
        pooled_size = config.hidden_size * (2 if config.bidirectional else 1)
        # Created only when used: DDP rejects parameters that receive no gradient.
        self.attention = (
            nn.Sequential(
                nn.Linear(pooled_size, pooled_size), nn.Tanh(), nn.Linear(pooled_size, 1, bias=False)
            )
            if config.pooling == "attention"
            else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(pooled_size, config.num_labels)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings

    def set_input_embeddings(self, value: nn.Embedding):
        self.embeddings = value

    def pool(
        self, hidden: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(batch, seq, features) -> (batch, features), plus per-token weights for attention pooling."""
        has_tokens = (lengths > 0).unsqueeze(-1)  # (batch, 1): all-padding rows pool to zeros
        mask_3d = mask.unsqueeze(-1)  # (batch, seq, 1)
        pooling = self.config.pooling
        weights = None
        if pooling == "last":
            last = (lengths - 1).clamp(min=0)
            forward_size = self.config.hidden_size
            pooled = hidden[torch.arange(hidden.size(0), device=hidden.device), last, :forward_size]
            if self.config.bidirectional:
                # The backward direction has read the whole text by position 0.
                pooled = torch.cat([pooled, hidden[:, 0, forward_size:]], dim=-1)
        elif pooling == "mean":
            pooled = (hidden * mask_3d).sum(1) / lengths.clamp(min=1).unsqueeze(-1).to(hidden.dtype)
        elif pooling == "max":
            # amax, not max(dim): max also computes the argmax indices, which costs several times more.
            pooled = torch.where(mask_3d, hidden, torch.finfo(hidden.dtype).min).amax(dim=1)
        else:  # attention
            scores = self.attention(hidden).squeeze(-1)  # (batch, seq)
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
            weights = torch.softmax(scores, dim=-1) * mask  # all-padding rows get zero weights
            pooled = torch.bmm(weights.unsqueeze(1), hidden).squeeze(1)  # (batch, features)
        return pooled * has_tokens, weights

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput | tuple:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, sequence_length)`):
                Token ids; padding may be on either side.
            attention_mask (`torch.Tensor` of shape `(batch_size, sequence_length)`, *optional*):
                1 for real tokens, 0 for padding. Defaults to `input_ids != config.pad_token_id`.
            labels (`torch.Tensor`, *optional*):
                Class indices of shape `(batch_size,)` for single-label classification, floats of shape
                `(batch_size, num_labels)` for multi-label classification, or floats for regression
                (`num_labels == 1`). The loss follows `config.problem_type`, inferred as in transformers when unset.
            output_attentions (`bool`, *optional*):
                With `pooling="attention"`, return the per-token pooling weights as `attentions[0]`
                (batch_size, sequence_length), aligned with `input_ids`.
            output_hidden_states (`bool`, *optional*):
                Return the embeddings and each layer's per-token outputs, aligned with `input_ids`.
        """
        output_attentions = (
            output_attentions if output_attentions is not None else self.config.output_attentions
        )
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids and inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.embeddings(input_ids)  # (batch, seq, embedding_dim)
        if attention_mask is None:
            attention_mask = (
                input_ids != self.config.pad_token_id
                if input_ids is not None
                else torch.ones(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device)
            )
        mask = attention_mask.bool()  # (batch, seq)

        # Right-align (a no-op permutation for right-padded batches), so padding follows every real token.
        order = right_align(mask)  # (batch, seq)
        lengths = mask.sum(dim=1)  # (batch,)
        mask = mask.gather(1, order)
        embeddings = gather_time(inputs_embeds, order)

        hidden, layer_outputs = self.encoder(
            self.embedding_dropout(embeddings), lengths, output_hidden_states=output_hidden_states
        )  # (batch, seq, pooled_size)
        pooled, weights = self.pool(hidden, mask, lengths)
        logits = self.classifier(self.dropout(pooled))  # (batch, num_labels)

        loss = None
        if labels is not None:
            loss = self.compute_loss(logits, labels)

        # Hand per-token outputs back in the caller's positions: scatter undoes the gather above.
        def restore(tensor: torch.Tensor) -> torch.Tensor:
            if tensor.dim() == 2:
                return torch.zeros_like(tensor).scatter(1, order, tensor)
            return torch.zeros_like(tensor).scatter(1, order.unsqueeze(-1).expand_as(tensor), tensor)

        hidden_states = (
            tuple(restore(t) for t in (embeddings, *layer_outputs)) if output_hidden_states else None
        )
        attentions = (restore(weights),) if output_attentions and weights is not None else None

        if not return_dict:
            output = tuple(t for t in (logits, hidden_states, attentions) if t is not None)
            return ((loss,) + output) if loss is not None else output
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=hidden_states, attentions=attentions
        )

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.config.problem_type is None:
            if self.num_labels == 1:
                self.config.problem_type = "regression"
            elif labels.dtype in (torch.long, torch.int):
                self.config.problem_type = "single_label_classification"
            else:
                self.config.problem_type = "multi_label_classification"
        if self.config.problem_type == "regression":
            return F.mse_loss(logits.squeeze(-1), labels.squeeze(-1).to(logits.dtype))
        if self.config.problem_type == "single_label_classification":
            return F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).long())
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


__all__ = ["LSTMPreTrainedModel", "LSTMForSequenceClassification"]
