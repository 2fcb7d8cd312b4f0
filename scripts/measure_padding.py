"""Masking vs packing on CPU: what does ignoring padding cost a BiLSTM classifier?

Compares, on the same batches and side by side (interleaved, so machine noise hits all alike):
  masked  - LSTMForSequenceClassification as implemented (bias-free BiLSTM with an is-a-token input, masked pooling)
  packed  - nn.LSTM(bidirectional=True) over pack_padded_sequence, masked pooling
  plain   - nn.LSTM(bidirectional=True) over the padded batch, no masking at all: the lower bound (and wrong)
All three: embedding -> 1-layer BiLSTM -> max pooling -> linear -> cross-entropy. Prints a Markdown table of
milliseconds per batch and ratios; no asserts. Usage: python scripts/measure_padding.py [--repeats 3]
On a busy machine 2-thread wall-clock times are noise; `--threads 1 --clock cpu` (CPU time of one thread) is steady.
"""

import argparse
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from modeling_lstm import LSTMConfig, LSTMForSequenceClassification

VOCAB, EMB, HIDDEN, LABELS, BATCH = 8000, 128, 256, 6, 64


class BiLSTM(nn.Module):
    """Reference classifier: packed (exact) or plain (padding runs through the LSTM and the pooling)."""

    def __init__(self, packed: bool):
        super().__init__()
        self.packed = packed
        self.embeddings = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.lstm = nn.LSTM(EMB, HIDDEN, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * HIDDEN, LABELS)

    def forward(self, input_ids, attention_mask):
        embedded = self.embeddings(input_ids)
        if self.packed:
            lengths = attention_mask.sum(1)
            packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
            hidden, _ = pad_packed_sequence(
                self.lstm(packed)[0], batch_first=True, total_length=input_ids.size(1)
            )
            hidden = hidden.masked_fill(~attention_mask.bool().unsqueeze(-1), torch.finfo(hidden.dtype).min)
        else:
            hidden, _ = self.lstm(embedded)
        return self.classifier(hidden.max(dim=1).values)


def make_batches(num_batches: int, grouped: bool, generator: torch.Generator):
    """Right-padded (input_ids, attention_mask, labels) batches; lengths uniform in 5..60 tokens."""
    lengths = torch.randint(5, 61, (num_batches * BATCH,), generator=generator)
    if grouped:  # sort by length, cut into batches (what a length-grouped sampler does)
        lengths = lengths.sort().values
    batches = []
    for chunk in lengths.split(BATCH):
        width = int(chunk.max())
        mask = (torch.arange(width).unsqueeze(0) < chunk.unsqueeze(1)).long()
        ids = torch.randint(2, VOCAB, (len(chunk), width), generator=generator) * mask
        batches.append((ids, mask, torch.randint(0, LABELS, (len(chunk),), generator=generator)))
    return batches


def step(model, batch, train: bool) -> None:
    ids, mask, labels = batch
    if train:
        logits = model(input_ids=ids, attention_mask=mask)
        logits = logits.logits if hasattr(logits, "logits") else logits
        F.cross_entropy(logits, labels).backward()
        model.zero_grad(set_to_none=True)
    else:
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask)


def copy_weights(masked: LSTMForSequenceClassification, reference: BiLSTM) -> None:
    """Give the reference the masked model's weights: the last input column of our bias-free LSTM is its bias."""
    with torch.no_grad():
        reference.embeddings.weight.copy_(masked.get_input_embeddings().weight)
        reference.classifier.load_state_dict(masked.classifier.state_dict())
        ours = masked.lstm.encoder.layers[0]
        for suffix in ("_l0", "_l0_reverse"):
            weight_ih = getattr(ours, "weight_ih" + suffix)
            getattr(reference.lstm, "weight_ih" + suffix).copy_(weight_ih[:, :-1])
            getattr(reference.lstm, "bias_ih" + suffix).copy_(weight_ih[:, -1])
            getattr(reference.lstm, "bias_hh" + suffix).zero_()
            getattr(reference.lstm, "weight_hh" + suffix).copy_(getattr(ours, "weight_hh" + suffix))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=6, help="batches per setting")
    parser.add_argument(
        "--repeats", type=int, default=3, help="passes over the batches (first one is warm-up)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu = this process's CPU time: steadier on a busy machine, fair only with --threads 1",
    )
    return parser.parse_args()


def build_models() -> dict[str, nn.Module]:
    """The three classifiers, the references holding the masked model's weights."""
    config = LSTMConfig(
        vocab_size=VOCAB,
        embedding_dim=EMB,
        hidden_size=HIDDEN,
        num_layers=1,
        bidirectional=True,
        pooling="max",
        dropout=0.0,
        embedding_dropout=0.0,
        id2label={i: str(i) for i in range(LABELS)},
    )
    models = {"masked": LSTMForSequenceClassification(config), "packed": BiLSTM(True), "plain": BiLSTM(False)}
    copy_weights(models["masked"], models["packed"])
    copy_weights(models["masked"], models["plain"])
    return models


def print_agreement(models: dict[str, nn.Module], batch) -> None:
    """Sanity: with shared weights, masked == packed (both exact); plain differs (padding leaks)."""
    ids, mask, _ = batch
    with torch.inference_mode():
        for model in models.values():
            model.eval()
        outputs = {name: model(input_ids=ids, attention_mask=mask) for name, model in models.items()}
        outputs["masked"] = outputs["masked"].logits
    print(
        f"max |logits - masked| on one random batch: packed {(outputs['packed'] - outputs['masked']).abs().max():.1e},"
        f" plain {(outputs['plain'] - outputs['masked']).abs().max():.1e}\n"
    )


def time_models(models: dict[str, nn.Module], settings: dict, repeats: int, clock) -> dict:
    """Seconds per batch for each (setting, mode, model): one mean per repeat. Models take turns batch by batch."""
    times: dict[tuple[str, str, str], list[float]] = {}
    for repeat in range(repeats + 1):  # repeat 0 warms up allocators and kernels
        for setting, batches in settings.items():
            for mode in ("train", "infer"):
                for model in models.values():
                    model.train(mode == "train")
                spent = dict.fromkeys(models, 0.0)
                for batch in batches:
                    for name, model in models.items():
                        start = clock()
                        step(model, batch, train=mode == "train")
                        spent[name] += clock() - start
                if repeat > 0:
                    for name in models:
                        times.setdefault((setting, mode, name), []).append(spent[name] / len(batches))
    return times


def print_report(args: argparse.Namespace, settings: dict, times: dict, models: dict[str, nn.Module]) -> None:
    """The Markdown table: median milliseconds per batch of each model, and their ratios."""
    print(
        f"BiLSTM vocab {VOCAB}, emb {EMB}, hidden {HIDDEN}, 1 layer, batch {BATCH}, lengths 5..60, {args.threads} threads;"
    )
    print(f"{args.clock} ms per batch: mean over {args.batches} batches, median of {args.repeats} repeats\n")
    print(
        "| batches | padding | mode | masked | packed | plain | masked/plain | packed/plain | masked/packed |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for setting, batches in settings.items():
        padding = 1 - sum(int(m.sum()) for _, m, _ in batches) / sum(m.numel() for _, m, _ in batches)
        for mode, label in (("train", "fwd+bwd"), ("infer", "inference")):
            ms = {name: 1000 * statistics.median(times[(setting, mode, name)]) for name in models}
            print(
                f"| {setting} | {padding:.0%} | {label} | {ms['masked']:.1f} | {ms['packed']:.1f} | {ms['plain']:.1f} "
                f"| {ms['masked'] / ms['plain']:.2f} | {ms['packed'] / ms['plain']:.2f} "
                f"| {ms['masked'] / ms['packed']:.2f} |"
            )


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    torch.manual_seed(0)
    models = build_models()

    generator = torch.Generator().manual_seed(0)
    settings = {
        name: make_batches(args.batches, name == "grouped", generator) for name in ("random", "grouped")
    }
    print_agreement(models, settings["random"][0])
    times = time_models(models, settings, args.repeats, clock)
    print_report(args, settings, times, models)


if __name__ == "__main__":
    main()
