"""The naive PyTorch LSTM of tutorials, with our sizes and epochs: what the project's engineering is measured
against."""

from __future__ import annotations

import copy
import logging
import time
from collections import Counter

import torch
from torch import nn

from .measure import PeakMemory, parameter_count, serialized_mb, time_inference, time_to_accuracy
from .rows_baselines import basic_english
from .settings import BenchmarkSettings, Data, Row, scores

logger = logging.getLogger(__name__)


class NaiveLSTMClassifier(nn.Module):
    """An LSTM classifier as tutorials write it: the last hidden state of a padded, unpacked batch.

    With right padding the forward direction's last state has read every padding step: the model must learn to
    ignore them, which costs accuracy, and all the padding costs time.
    """

    def __init__(
        self, vocab_size, embedding_dim, hidden_size, num_layers, bidirectional, dropout, num_labels
    ):
        super().__init__()
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_labels)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        embedded = self.dropout(self.embedding(input_ids))
        _, (hidden, _) = self.lstm(embedded)
        hidden = torch.cat([hidden[-2], hidden[-1]], dim=1) if self.bidirectional else hidden[-1]
        return self.fc(self.dropout(hidden))


class WordVocabulary:
    """Word -> id over the training texts (<pad> 0, <unk> 1), with every text padded to one fixed length."""

    def __init__(self, texts: list[str], max_length: int, max_size: int = 25_000):
        counts = Counter(token for text in texts for token in basic_english(text))
        self.itos = ["<pad>", "<unk>"] + [word for word, _ in counts.most_common(max_size - 2)]
        self.stoi = {word: index for index, word in enumerate(self.itos)}
        longest = max((len(basic_english(text)) for text in texts), default=1)
        self.max_length = max(1, min(longest, max_length))

    def encode(self, texts: list[str]) -> torch.Tensor:
        ids = torch.zeros(len(texts), self.max_length, dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = [self.stoi.get(token, 1) for token in basic_english(text)[: self.max_length]]
            ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return ids


def benchmark_naive_lstm(
    settings: BenchmarkSettings, data: Data, sizes: dict, training: dict, epochs: int
) -> tuple[Row, dict]:
    """Train the tutorial LSTM with our sizes, batch size and epoch count; time each epoch (evaluation excluded)."""
    from torch.utils.data import DataLoader, TensorDataset

    label_names = sorted(set(data.train.labels))
    label_ids = {label: index for index, label in enumerate(label_names)}
    torch.manual_seed(settings.seed)
    row = Row("naive PyTorch LSTM (tutorial style)")
    with PeakMemory() as memory:
        start = time.perf_counter()
        vocabulary = WordVocabulary(data.train.texts, training["max_seq_length"])
        inputs = vocabulary.encode(data.train.texts)
        targets = torch.tensor([label_ids[label] for label in data.train.labels])
        preparation_seconds = time.perf_counter() - start
        model = NaiveLSTMClassifier(
            len(vocabulary.itos),
            sizes["embedding_dim"],
            sizes["hidden_size"],
            sizes["num_layers"],
            sizes["bidirectional"],
            training["dropout"],
            len(label_names),
        )
        loader = DataLoader(TensorDataset(inputs, targets), batch_size=training["batch_size"], shuffle=True)

        def predict(texts: list[str]) -> list[str]:
            with torch.inference_mode():
                logits = model(vocabulary.encode(texts))
            return [label_names[index] for index in logits.argmax(-1).tolist()]

        evaluation = data.validation or data.test
        epoch_log, row.train_seconds = train_naive(
            model, loader, predict, evaluation, epochs, settings, preparation_seconds
        )
    row.peak_rss_mb, row.rss_increase_mb = memory.peak_mb, memory.increase_mb
    row.epoch_seconds = (row.train_seconds - preparation_seconds) / epochs
    row.train_samples_per_second = len(inputs) / row.epoch_seconds
    row.train_tokens_per_second = int((inputs != 0).sum()) / row.epoch_seconds
    row.parameters = parameter_count(model)
    row.size_mb = serialized_mb(model.state_dict())
    predictions = time_inference(row, predict, data.test.texts, settings)
    row.accuracy, row.macro_f1 = scores(data.test.labels, predictions)
    row.notes = (
        f"{epochs} epoch{'s' if epochs != 1 else ''}, Adam 1e-3, batch {training['batch_size']}, {len(vocabulary.itos):,} words, "
        f"every text padded to {vocabulary.max_length}"
    )
    if len(epoch_log) > epochs:
        row.notes += f"; trained on to {len(epoch_log)} epochs for the time to the target accuracy"
    info = {
        "epoch_log": epoch_log,
        "time_to_target_seconds": time_to_accuracy(epoch_log, settings.target_accuracy),
        "trained_seconds": epoch_log[-1]["seconds"],
        "max_length": vocabulary.max_length,
        "evaluated_on": "validation" if data.validation else "test",
    }
    return row, info


def train_naive(
    model: nn.Module,
    loader,
    predict,
    evaluation,
    epochs: int,
    settings: BenchmarkSettings,
    start_seconds: float,
) -> tuple[list[dict], float]:
    """Our epoch count, then on (up to `naive_max_epochs` in all) until the validation accuracy reaches the target.

    Leaves the model with its weights after our epoch count: the row's accuracy and speed are measured on them.
    Returns the epoch log (cumulative seconds from `start_seconds`, evaluation excluded) and the seconds at our epoch
    count."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    epoch_log, total, row_state, row_seconds = [], start_seconds, None, None
    for epoch in range(1, max(epochs, settings.naive_max_epochs) + 1):
        seconds = tutorial_epoch(model, loader, optimizer, criterion)
        total += seconds
        model.eval()
        accuracy, _ = scores(evaluation.labels, predict(evaluation.texts))
        epoch_log.append({"epoch": epoch, "seconds": total, "validation_accuracy": accuracy})
        logger.info("naive LSTM epoch %d: %.1f s, validation accuracy %.4f", epoch, seconds, accuracy)
        if epoch == epochs:
            row_state, row_seconds = copy.deepcopy(model.state_dict()), total
        target = settings.target_accuracy
        if epoch >= epochs and (target is None or accuracy >= target):
            break
    model.load_state_dict(row_state)
    return epoch_log, row_seconds


def tutorial_epoch(model: nn.Module, loader, optimizer, criterion) -> float:
    """One training epoch as tutorials write it; returns its seconds."""
    model.train()
    start = time.perf_counter()
    epoch_loss = 0.0
    for batch_inputs, batch_targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(batch_inputs), batch_targets)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()  # tutorials log the running loss this way (a sync every step)
    return time.perf_counter() - start
