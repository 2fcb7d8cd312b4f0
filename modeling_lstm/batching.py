"""Length-sorted batches of tokenised texts, shared by predict.py / evaluate_model.py and the pipeline shipped with a model.

Self-contained (imports only torch): this file ships to the Hub with the model, next to `pipeline_lstm.py`.
"""

import itertools
from collections.abc import Iterator

import torch


def pad_rows(
    flat_ids: torch.Tensor, starts: torch.Tensor, lengths: torch.Tensor, pad_token_id: int, left: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded (input_ids, attention_mask) of shape (rows, longest) for the texts whose token ids sit at
    `flat_ids[starts[i] : starts[i] + lengths[i]]`: a few tensor operations instead of a Python loop over rows."""
    width = max(int(lengths.max()), 1)
    position = torch.arange(width).unsqueeze(0)  # (1, width)
    if left:
        position = position - (width - lengths).unsqueeze(1)  # (rows, width): negative on the padding
    is_token = (position >= 0) & (position < lengths.unsqueeze(1))  # (rows, width)
    if flat_ids.numel() == 0:  # only empty texts
        return torch.full(is_token.shape, pad_token_id), is_token.long()
    # (rows, width): where each position's id sits in flat_ids, clamped on the padding (masked out below)
    index = (starts.unsqueeze(1) + position).clamp(0, flat_ids.numel() - 1)
    return torch.where(is_token, flat_ids[index], pad_token_id), is_token.long()


def length_sorted_batches(
    ids: list[list[int]], batch_size: int, pad_token_id: int | None, left: bool
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(rows, input_ids, attention_mask) per batch of `batch_size` texts of similar length, shortest first.

    `ids` are the token ids of every text, from ONE tokenizer call: the Rust tokenizer then works on the whole list
    in parallel and transformers' per-call cost is paid once. `rows` index `ids`; batches carry almost no padding.
    """
    lengths = torch.tensor([len(text_ids) for text_ids in ids], dtype=torch.long)  # (texts,)
    starts = lengths.cumsum(0) - lengths  # (texts,)
    flat_ids = torch.tensor(list(itertools.chain.from_iterable(ids)), dtype=torch.long)  # (total tokens,)
    # Padding positions are masked, so any id does where a tokenizer has no pad token.
    pad_token_id = pad_token_id if pad_token_id is not None else 0
    for rows in lengths.argsort(stable=True).split(batch_size):
        yield (rows, *pad_rows(flat_ids, starts[rows], lengths[rows], pad_token_id, left))
