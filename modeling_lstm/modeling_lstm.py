"""LSTM text classifier as transformers `PreTrainedModel`s: `LSTMModel` (embeddings, the (bi)LSTM encoder and the
pooling; `AutoModel`) and `LSTMForSequenceClassification` (that model under `lstm`, plus dropout and a linear layer).

Self-contained (imports only torch, transformers and the sibling configuration file): this file ships to the Hub
as remote code, so users load the model with `trust_remote_code=True` without installing this package.

Padding is handled by masking, not by packed sequences (on CPU, `pack_padded_sequence` costs more than the padding it
skips, see docs/benchmarks.md), with one fused bidirectional `nn.LSTM` call per layer and no reordering. The LSTMs have
no bias; instead each token carries one extra input feature, 1 for real tokens and 0 for padding, whose input weights
play the bias's part. A padding step then has an all-zero input, and from a zero state a bias-free LSTM cell maps a
zero input to a zero state (sigmoid(0) * 0 + sigmoid(0) * tanh(0) = 0): padding before a text leaves each direction
exactly where it started, and padding after it is only read after the text. Outputs at real positions are therefore
what each text gives alone, with padding on either side. Layer outputs are zeroed at padding before the next layer.
A mask with holes inside a text (a token masked out, as leave-one-out explanations do) is not padding: those rows'
real tokens are moved together first, and per-token outputs moved back.

Folders saved before `LSTMModel` existed name the weights `embeddings.*`, `encoder.*`, `attention.*`, `classifier.*`.
They load unchanged: `from_pretrained` adds the base model's prefix (`lstm.`) to a saved name that the model has only
under that prefix, and strips it when `AutoModel` loads a classifier's folder.
"""

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPooling, SequenceClassifierOutput

from .configuration_lstm import LSTMConfig


def has_holes(mask: torch.Tensor) -> bool:
    """Some row has a masked position between two real tokens (more than one run of real tokens)."""
    runs = mask[:, 0].long() + (mask[:, 1:] & ~mask[:, :-1]).sum(dim=1)  # (batch,)
    return bool((runs > 1).any())


def compact_order(mask: torch.Tensor) -> torch.Tensor:
    """(batch, seq) column order that puts each row's real tokens first, in their order (a stable sort)."""
    return torch.argsort((~mask).to(torch.int8), dim=1, stable=True)


def gather_time(tensor: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """`tensor[b, order[b, t]]` for a (batch, seq, features) tensor.

    One `index_select` over the flattened (batch * seq) rows: on CPU it is several times faster, forward and
    backward, than `gather` with the index expanded over the features (docs/benchmarks.md).
    """
    batch, seq = order.shape
    offsets = torch.arange(batch, device=order.device).unsqueeze(1) * tensor.size(1)
    rows = tensor.reshape(batch * tensor.size(1), tensor.size(2))
    return rows.index_select(0, (order + offsets).reshape(-1)).view(batch, seq, tensor.size(2))


def compact_holes(
    embeddings: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Tokens masked inside a text (leave-one-out explanations do this) are not padding: the LSTM would still step
    through them, which moves its state. Such rows get their real tokens moved together, in order; returns the
    embeddings, the mask and the `compact_order` used (None when no row has holes: nothing moved)."""
    if not has_holes(mask):
        return embeddings, mask, None
    order = compact_order(mask)
    return gather_time(embeddings, order), mask.gather(1, order), order


def scatter_time(tensor: torch.Tensor, order: torch.Tensor, width: int) -> torch.Tensor:
    """The inverse of `gather_time`: puts position t back at `order[b, t]` in a (batch, width, ...) tensor of zeros;
    positions past `order`'s columns (a last window's padding) are dropped."""
    tensor = tensor[:, : order.size(1)]
    index = order.view(*order.shape, *([1] * (tensor.dim() - 2))).expand_as(tensor)
    return tensor.new_zeros(tensor.size(0), width, *tensor.shape[2:]).scatter(1, index, tensor)


def scatter_outputs(
    outputs: BaseModelOutputWithPooling, order: torch.Tensor, width: int
) -> BaseModelOutputWithPooling:
    """Per-token outputs computed on moved tokens (see `compact_order`), put back at the input's `width` positions."""
    outputs.last_hidden_state = scatter_time(outputs.last_hidden_state, order, width)
    if outputs.hidden_states is not None:
        outputs.hidden_states = tuple(scatter_time(t, order, width) for t in outputs.hidden_states)
    if outputs.attentions is not None:
        outputs.attentions = (scatter_time(outputs.attentions[0], order, width),)  # (batch, width)
    return outputs


def head_tail_order(mask: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The positions of the first `length - length // 2` and the last `length // 2` positions of each row's text
    (from its first to its last real token), in order: a (batch, <= length) order for `gather_time`, and the
    (batch, seq) mask of the real tokens kept."""
    positions = torch.arange(mask.size(1), device=mask.device)  # (seq,)
    first = mask.to(torch.int8).argmax(dim=1, keepdim=True)  # (batch, 1)
    last = mask.size(1) - 1 - mask.flip(1).to(torch.int8).argmax(dim=1, keepdim=True)
    tail = length // 2
    keep = mask & ((positions < first + length - tail) | (positions > last - tail))
    return compact_order(keep)[:, :length], keep


def split_windows(
    embeddings: torch.Tensor, mask: torch.Tensor, length: int, max_windows: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Each row's real tokens, in order, as consecutive windows of `length` (at most `max_windows`, as many as the
    longest row needs): (batch * windows, length, features) embeddings and mask, the order for `scatter_time`
    and the windows per row. Windows past a row's end are all padding."""
    longest = int(mask.sum(dim=1).max())
    windows = min(max(-(-longest // length), 1), max_windows)
    order = compact_order(mask)[:, : windows * length]  # (batch, <= windows * length)
    embeddings, mask = gather_time(embeddings, order), mask.gather(1, order)
    missing = windows * length - order.size(1)
    if missing:
        embeddings = torch.cat(
            [embeddings, embeddings.new_zeros(mask.size(0), missing, embeddings.size(2))], 1
        )
        mask = torch.cat([mask, mask.new_zeros(mask.size(0), missing)], 1)
    rows = mask.size(0) * windows
    return embeddings.reshape(rows, length, embeddings.size(2)), mask.reshape(rows, length), order, windows


class LSTMEncoder(nn.Module):
    """Stacked (bi)LSTM whose outputs at real positions ignore the padding (see the module docstring)."""

    def __init__(self, config: LSTMConfig):
        super().__init__()
        num_directions = 2 if config.bidirectional else 1
        self.layers = nn.ModuleList(
            nn.LSTM(
                # +1: the "is a real token" feature, whose input weights act as the gate biases.
                (config.embedding_dim if layer == 0 else config.hidden_size * num_directions) + 1,
                config.hidden_size,
                bias=False,
                batch_first=True,
                bidirectional=config.bidirectional,
            )
            for layer in range(config.num_layers)
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, inputs: torch.Tensor, mask: torch.Tensor, output_hidden_states: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        is_token = mask.unsqueeze(-1).to(inputs.dtype)  # (batch, seq, 1)
        # Zero at padding, whatever the embeddings there (inputs_embeds may come from the caller).
        hidden = inputs * is_token  # (batch, seq, embedding_dim)
        all_hidden = []
        for layer, lstm in enumerate(self.layers):
            if layer > 0:
                hidden = self.dropout(hidden)
            output, _ = lstm(torch.cat([hidden, is_token], dim=-1))  # (batch, seq, num_directions * hidden)
            # Zero at padding again: the backward direction's state after the text lingers at trailing padding.
            hidden = output * is_token
            if output_hidden_states:
                all_hidden.append(hidden)
        return hidden, tuple(all_hidden)


class LSTMPreTrainedModel(PreTrainedModel):
    config_class = LSTMConfig
    base_model_prefix = "lstm"
    main_input_name = "input_ids"

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Also maps `AutoModel` to `LSTMModel` in config.json's auto_map (transformers writes only the saved class's
        own entry), so `AutoModel.from_pretrained(folder, trust_remote_code=True)` loads a classifier's encoder."""
        if self._auto_class is not None:
            module = type(self).__module__.rpartition(".")[2]
            auto_map = getattr(self.config, "auto_map", None) or {}
            self.config.auto_map = {**auto_map, "AutoModel": f"{module}.LSTMModel"}
        return super().save_pretrained(save_directory, *args, **kwargs)

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
            hidden = module.hidden_size
            for name, param in module.named_parameters():
                if name.startswith("weight_hh"):
                    nn.init.orthogonal_(param)
                else:  # weight_ih: (4 * hidden, input_size); its last column is the bias (LSTMEncoder)
                    nn.init.xavier_uniform_(param[:, :-1])
                    # Gates i, f, g, o: a forget-gate bias of 1 helps gradients flow early on.
                    param[:, -1].zero_()
                    param[hidden : 2 * hidden, -1] = 1.0


class LSTMModel(LSTMPreTrainedModel):
    """The bare encoder: token embeddings, embedding dropout, the (bi)LSTM stack and the pooling over time.

    Returns the last layer's per-token states and the pooled vector (`BaseModelOutputWithPooling`), for text
    embeddings (`pipeline("feature-extraction")`) and for any head that shares the encoder.
    """

    # Loaded from a classifier folder, whose head weights it has no use for.
    _keys_to_ignore_on_load_unexpected = [r"^classifier\."]

    def __init__(self, config: LSTMConfig):
        super().__init__(config)
        self.embeddings = nn.Embedding(
            config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id
        )
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.encoder = LSTMEncoder(config)
        self.pooled_size = config.hidden_size * (2 if config.bidirectional else 1)
        # Created only when used: DDP rejects parameters that receive no gradient.
        self.attention = (
            nn.Sequential(
                nn.Linear(self.pooled_size, self.pooled_size),
                nn.Tanh(),
                nn.Linear(self.pooled_size, 1, bias=False),
            )
            if config.pooling == "attention"
            else None
        )
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
            rows = torch.arange(hidden.size(0), device=hidden.device)
            # (batch,): the first real token, whichever side is padded
            first = mask.to(torch.int8).argmax(dim=1)
            last = (first + lengths - 1).clamp(min=0)
            forward_size = self.config.hidden_size
            pooled = hidden[rows, last, :forward_size]
            if self.config.bidirectional:
                # The backward direction has read the whole text at its first token.
                pooled = torch.cat([pooled, hidden[rows, first, forward_size:]], dim=-1)
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
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        pooled_only: bool = False,
        **kwargs,
    ) -> BaseModelOutputWithPooling | tuple:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, sequence_length)`):
                Token ids; padding may be on either side.
            attention_mask (`torch.Tensor` of shape `(batch_size, sequence_length)`, *optional*):
                1 for real tokens, 0 for padding. Defaults to `input_ids != config.pad_token_id`. A 0 inside a text
                means the text without that token.
            output_attentions (`bool`, *optional*):
                With `pooling="attention"`, return the per-token pooling weights as `attentions[0]`
                (batch_size, sequence_length), aligned with `input_ids`.
            output_hidden_states (`bool`, *optional*):
                Return the embeddings and each layer's per-token outputs, aligned with `input_ids`.
            pooled_only (`bool`, *optional*, defaults to `False`):
                Only `pooler_output` is needed: at CPU inference a batch with much padding may then run as
                length-sorted sub-batches (`config.inference_length_buckets`), and `last_hidden_state` is None.

        Returns:
            `BaseModelOutputWithPooling`: `last_hidden_state` (batch_size, sequence_length, pooled_size), the last
            layer's per-token states aligned with `input_ids` (zero at masked positions); `pooler_output`
            (batch_size, pooled_size), the pooled vector (zeros for a text without tokens); `hidden_states` and
            `attentions` as asked.
        """
        output_attentions = (
            output_attentions if output_attentions is not None else self.config.output_attentions
        )
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        inputs_embeds, mask = self.embed(input_ids, attention_mask, inputs_embeds)
        width = mask.size(1)
        # Per-token outputs are moved back to the input positions below.
        embeddings, mask, order, windows = self.arrange_tokens(inputs_embeds, mask)
        per_token = not pooled_only or output_hidden_states or output_attentions
        outputs = self.encode_rows(
            embeddings, mask, windows, per_token, output_hidden_states, output_attentions
        )
        if outputs.last_hidden_state is not None:
            if order is not None:
                outputs = scatter_outputs(outputs, order, width)
            if output_hidden_states:
                outputs.hidden_states = (inputs_embeds, *outputs.hidden_states)
        return outputs if return_dict else outputs.to_tuple()

    def encode_rows(
        self,
        embeddings: torch.Tensor,
        mask: torch.Tensor,
        windows: int,
        per_token: bool,
        output_hidden_states: bool,
        output_attentions: bool,
    ) -> BaseModelOutputWithPooling:
        """The arranged rows (`arrange_tokens`) through the LSTM and pooling, one output per text: length-sorted
        sub-batches when only pooled vectors are needed (`use_length_buckets`), windows merged per text."""
        window_mask = mask
        if windows > 1:  # windows past a text's end hold no token: they are not run
            live = mask.any(dim=1)
            embeddings, mask = embeddings[live], mask[live]
        lengths = mask.sum(dim=1)  # (rows,)
        if self.use_length_buckets(mask, per_token):
            outputs = BaseModelOutputWithPooling(
                pooler_output=self.bucketed_pooled(embeddings, mask, lengths)
            )
        else:
            outputs = self.encode_and_pool(embeddings, mask, lengths, output_hidden_states, output_attentions)
        return self.merge_windows(outputs, window_mask, windows) if windows > 1 else outputs

    def arrange_tokens(
        self, embeddings: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, int]:
        """The tokens the LSTM reads, by `config.long_text_strategy`: (rows, seq, embedding_dim) embeddings and their
        mask, the order that moved them (None: nothing moved) and the windows per text (rows = batch * windows)."""
        strategy, length = self.config.long_text_strategy, self.config.max_seq_length
        if strategy == "head_tail" and mask.size(1) > length:
            order, keep = head_tail_order(mask, length)
            return gather_time(embeddings, order), keep.gather(1, order), order, 1
        if strategy == "chunks" and mask.size(1) > length:
            return split_windows(embeddings, mask, length, self.config.max_chunks)
        embeddings, mask, order = compact_holes(embeddings, mask)
        return embeddings, mask, order, 1

    def merge_windows(
        self, outputs: BaseModelOutputWithPooling, mask: torch.Tensor, windows: int
    ) -> BaseModelOutputWithPooling:
        """Outputs of the windows that hold a token (`split_windows`; `mask` covers all windows) as outputs per text:
        their pooled vectors pooled by `config.chunk_pooling` (zeros for a text without tokens), per-token outputs
        end to end."""
        batch = mask.size(0) // windows
        live = mask.any(dim=1)  # (batch * windows,): the windows that were run

        def all_windows(
            tensor: torch.Tensor,
        ) -> torch.Tensor:  # zeros for the windows not run, as they would give
            return tensor.new_zeros(live.size(0), *tensor.shape[1:]).index_put((live,), tensor)

        def end_to_end(tensor: torch.Tensor) -> torch.Tensor:  # (windows run, length, ...) -> (batch, ...)
            return all_windows(tensor).reshape(batch, -1, *tensor.shape[2:])

        pooled = all_windows(outputs.pooler_output).view(batch, windows, -1)
        has_tokens = live.view(batch, windows, 1)
        if self.config.chunk_pooling == "max":
            merged = torch.where(has_tokens, pooled, torch.finfo(pooled.dtype).min).amax(dim=1)
            outputs.pooler_output = merged * has_tokens.any(dim=1)
        else:
            outputs.pooler_output = (pooled * has_tokens).sum(dim=1) / has_tokens.sum(dim=1).clamp(min=1)

        if outputs.last_hidden_state is not None:
            outputs.last_hidden_state = end_to_end(outputs.last_hidden_state)
        if outputs.hidden_states is not None:
            outputs.hidden_states = tuple(end_to_end(t) for t in outputs.hidden_states)
        if outputs.attentions is not None:
            outputs.attentions = (end_to_end(outputs.attentions[0]),)
        return outputs

    def encode_and_pool(
        self,
        embeddings: torch.Tensor,
        mask: torch.Tensor,
        lengths: torch.Tensor,
        output_hidden_states: bool,
        output_attentions: bool,
    ) -> BaseModelOutputWithPooling:
        """The whole batch through the encoder and the pooling; `hidden_states` holds the layers' outputs only."""
        last_hidden, layer_outputs = self.encoder(
            self.embedding_dropout(embeddings), mask, output_hidden_states=output_hidden_states
        )  # (batch, seq, pooled_size)
        pooled, weights = self.pool(last_hidden, mask, lengths)
        return BaseModelOutputWithPooling(
            last_hidden_state=last_hidden,
            pooler_output=pooled,
            hidden_states=layer_outputs if output_hidden_states else None,
            attentions=(weights,) if output_attentions and weights is not None else None,
        )

    def embed(
        self,
        input_ids: torch.LongTensor | None,
        attention_mask: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, seq, embedding_dim) inputs and their (batch, seq) boolean mask, with the defaults filled in."""
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
        if inputs_embeds.size(1) == 0:
            # Only empty texts (tokenizer("") gives no tokens): one padding position keeps every operation defined,
            # and such rows pool to zeros like any all-padding row.
            inputs_embeds = inputs_embeds.new_zeros(inputs_embeds.size(0), 1, inputs_embeds.size(2))
            attention_mask = attention_mask.new_zeros(attention_mask.size(0), 1)
        return inputs_embeds, attention_mask.bool()

    def length_buckets(self, mask: torch.Tensor) -> int:
        """How many sub-batches a batch may be split into: the configured number, of 8 rows or more each."""
        return min(self.config.inference_length_buckets, mask.size(0) // 8)

    def use_length_buckets(self, mask: torch.Tensor, per_token_outputs: bool) -> bool:
        """Bucket by length only at CPU inference, for pooled vectors alone, when a quarter or more of the batch is
        padding. (On a GPU the host syncs would cost more than the padding steps.)"""
        return (
            self.length_buckets(mask) > 1
            and not self.training
            and not torch.is_grad_enabled()
            and not per_token_outputs
            and mask.device.type == "cpu"
            and mask.sum().item() <= 0.75 * mask.numel()
        )

    def bucketed_pooled(
        self, inputs_embeds: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """Pooled vectors of length-sorted sub-batches, each cut to the columns its texts use (either padding side)."""
        order = lengths.argsort()  # (batch,): shortest first
        parts = []
        for rows in order.chunk(self.length_buckets(mask)):
            # The columns holding a real token of these rows.
            used = mask[rows].any(dim=0).nonzero().squeeze(-1)
            columns = slice(int(used[0]), int(used[-1]) + 1) if used.numel() else slice(0, 1)
            bucket_mask = mask[rows, columns]  # (bucket, width)
            # (bucket, width, pooled_size)
            hidden, _ = self.encoder(inputs_embeds[rows, columns], bucket_mask)
            pooled, _ = self.pool(hidden, bucket_mask, lengths[rows])
            parts.append(pooled)  # (bucket, pooled_size)
        return torch.cat(parts)[order.argsort()]  # back to the batch's row order


class LSTMForSequenceClassification(LSTMPreTrainedModel):
    """`LSTMModel` with dropout and a linear layer on the pooled vector."""

    def __init__(self, config: LSTMConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.lstm = LSTMModel(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(self.lstm.pooled_size, config.num_labels)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.lstm.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Embedding):
        self.lstm.set_input_embeddings(value)

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
            input_ids, attention_mask, inputs_embeds, output_attentions, output_hidden_states:
                As in [`LSTMModel.forward`].
            labels (`torch.Tensor`, *optional*):
                Class indices of shape `(batch_size,)` for single-label classification, floats of shape
                `(batch_size, num_labels)` for multi-label classification, or floats for regression
                (`num_labels == 1`). The loss follows `config.problem_type`, inferred as in transformers when unset.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        outputs = self.lstm(
            input_ids,
            attention_mask,
            inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            pooled_only=True,  # logits alone may take the length-bucketed path
        )
        logits = self.classifier(self.dropout(outputs.pooler_output))  # (batch, num_labels)
        logits = self.to_target_scale(logits)
        loss = None if labels is None else self.compute_loss(logits, labels)
        output = SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()

    def per_label(self, name: str, like: torch.Tensor) -> torch.Tensor | None:
        """A per-label config list (class weights, target statistics) as a tensor beside `like`, or None."""
        value = getattr(self.config, name, None)
        return None if value is None else torch.tensor(value, dtype=like.dtype, device=like.device)

    def to_target_scale(self, logits: torch.Tensor) -> torch.Tensor:
        """Regression on standardised targets: outputs back in the targets' scale (raw * std + mean)."""
        std = self.per_label("target_std", logits)
        return logits if std is None else logits * std + self.per_label("target_mean", logits)

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy, binary cross-entropy or MSE by `config.problem_type`, with the config's class weights;
        standardised targets are compared in their standardised scale."""
        if self.config.problem_type is None:
            if self.num_labels == 1:
                self.config.problem_type = "regression"
            elif labels.dtype in (torch.long, torch.int):
                self.config.problem_type = "single_label_classification"
            else:
                self.config.problem_type = "multi_label_classification"
        if self.config.problem_type == "regression":
            labels = labels.view(logits.shape).to(logits.dtype)
            std = self.per_label("target_std", logits)
            if std is not None:
                mean = self.per_label("target_mean", logits)
                logits, labels = (logits - mean) / std, (labels - mean) / std
            return F.mse_loss(logits, labels)
        if self.config.problem_type == "single_label_classification":
            weight = self.per_label("class_weights", logits)
            return F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).long(), weight=weight)
        pos_weight = self.per_label("pos_weight", logits)
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), pos_weight=pos_weight)


__all__ = ["LSTMPreTrainedModel", "LSTMModel", "LSTMForSequenceClassification"]
