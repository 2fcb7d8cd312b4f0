"""Training on a stream (--streaming): data too big to download or to load, read as it goes.

The training split is a `datasets.IterableDataset`, checked, tokenised and batched row by row; validation and test
are small enough to load (their first --max_eval_samples rows). What the map-style path learns from all of train
(the tokenizer, max_seq_length, the label names, class weights) is learned from the first rows of the stream.

Batches: `StreamBatches` reads --shuffle_buffer_size rows at a time, shuffles them (seeded) and cuts batches of
similar length within them, as the map-style sampler does within its chunks. A checkpoint records the stream's
position where the current buffer began (`IterableDataset.state_dict()`) and how many of its batches were trained,
so a resumed run reads the same buffer again and goes on with the very batches the uninterrupted run trains next.
"""

import itertools
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import datasets
from accelerate.utils import set_seed
from datasets import ClassLabel, Dataset, DatasetDict, IterableDataset
from datasets.distributed import split_dataset_by_node
from transformers import DataCollatorWithPadding

from .data import (
    FORMATS,
    LABEL_COLUMN_CANDIDATES,
    TEXT_COLUMN_CANDIDATES,
    TOKENIZER_CHARACTER_BUDGET,
    LabelledData,
    builder_options,
    check_data_file,
    clean_split,
    encode_labels,
    expand_data_files,
    find_split_files,
    label_names_from_train,
    load_hub_dataset,
    load_split_files,
    pick_column,
    split_source,
    standard_columns,
)
from .errors import UserInputError
from .labels import SINGLE_LABEL, LabelSource, decide_problem_type
from .metrics import load_problem_metric
from .problem_types import metric_for_best_model
from .run_identity import run_identity
from .training import (
    LengthGroupedBatchSampler,
    best_model,
    build_loaders,
    build_tokenizer_model_and_data,
    final_results,
    finish_run,
    hash_seed,
    init_trackers,
    make_accelerator,
    prepare_output_dir_for_run,
    prepare_run,
    removed_on_user_error,
    restore_state,
    rows_trained,
    train_epochs,
)

logger = logging.getLogger(__name__)

# Formats `datasets` reads a piece at a time. A .json file may be one JSON document, which datasets parses whole.
STREAM_FORMATS = {suffix: builder for suffix, builder in FORMATS.items() if suffix != ".json"}
LABEL_SCAN_ROWS = 100_000  # without a ClassLabel, the label names are the values seen in this many first rows
DEFAULT_EVAL_ROWS = 10_000  # validation / test rows read from a stream without --max_eval_samples
STREAM_STATE = "stream_state_{}.json"  # one per process, in each checkpoint


@dataclass
class StreamData:
    """The training stream (columns `text` and `label`, raw) and what was learned before training from its start."""

    train: IterableDataset
    evaluation: DatasetDict  # validation and maybe test, loaded, labels encoded
    label_names: list[str]
    length: int | None  # rows in the training stream, where the Hub states it
    first_row: int  # the stream's row 1 is this file row (rows held out for validation come first)


def open_local_stream(option: str, patterns: list[str]) -> IterableDataset:
    """The files of a split as one stream; each is checked first (a CSV streams through the row checks)."""
    files = expand_data_files(option, patterns)
    for file in files:
        if Path(file).suffix.lower() not in STREAM_FORMATS:
            raise UserInputError(
                f"--{option} {file}: --streaming reads {', '.join(STREAM_FORMATS)} files; a .json file may be one "
                "JSON document, which is read whole: save it as JSON Lines (.jsonl)"
            )
        check_data_file(option, file)
    suffixes = {Path(file).suffix.lower() for file in files}
    if len(suffixes) > 1:
        raise UserInputError(f"--{option}: --streaming needs the files of one split in one format")
    builder = STREAM_FORMATS[suffixes.pop()]
    options = builder_options(builder, files[0])
    columns = [
        stream_columns(
            datasets.load_dataset(builder, data_files=[file], split="train", streaming=True, **options), file
        )
        for file in files
    ]
    for file, names in zip(files[1:], columns[1:], strict=True):
        if names != columns[0]:
            raise UserInputError(
                f"--{option}: {file} has columns {', '.join(names)}, unlike {files[0]} ({', '.join(columns[0])}); "
                "the files of one split need the same columns"
            )
    return datasets.load_dataset(builder, data_files=files, split="train", streaming=True, **options)


def stream_columns(stream: IterableDataset, source: str) -> list[str]:
    """The column names: from the features, or (JSON Lines) the first row's keys."""
    if stream.column_names is not None:
        return stream.column_names
    first = next(iter(stream.take(1)), None)
    if first is None:
        raise UserInputError(f"{source}: no rows")
    return list(first)


def open_streams(data_args) -> tuple[dict, int | None]:
    """The raw splits (train a stream; validation and test streams or loaded files) and train's length if known."""
    if data_args.data_dir:
        find_split_files(data_args)
    if data_args.train_file is None:
        hub = load_hub_dataset(data_args, streaming=True)
        info = hub["train"].info.splits
        length = info["train"].num_examples if info and "train" in info else None
        return dict(hub), length or None
    splits = {"train": open_local_stream("train_file", data_args.train_file)}
    for split, option in (("validation", "validation_file"), ("test", "test_file")):
        patterns = getattr(data_args, option)
        if patterns is not None:
            splits[split] = load_split_files(option, expand_data_files(option, patterns))
    return splits, None


def first_rows_of(split, rows: int) -> Dataset:
    """The first `rows` rows of a stream, loaded (a loaded split: its first rows)."""
    if isinstance(split, IterableDataset):
        return Dataset.from_list(list(split.take(rows)), features=split.features)
    return split.select(range(min(rows, len(split))))


def scan_label_names(train: IterableDataset, data_args, source: str, first_row: int) -> list[str]:
    """The label names from the stream's features (a ClassLabel) or from the labels of its first rows (the first
    being file row `first_row`); logged."""
    label = "label"
    feature = (train.features or {}).get(label)
    if isinstance(feature, ClassLabel):
        logger.info("Label names from the dataset's features (ClassLabel): %s", ", ".join(feature.names))
        return list(feature.names)
    values = [row[label] for row in train.select_columns([label]).take(LABEL_SCAN_ROWS)]
    values = [value.strip() or None if isinstance(value, str) else value for value in values]
    if not values:
        raise UserInputError(f"{source}: no rows left to train on")
    missing = [index for index, value in enumerate(values) if value is None]
    if missing:
        raise UserInputError(f"{source} row {first_row + missing[0]}: no label; every row needs one")
    where = LabelSource([label], None, several=False)
    problem_type, _ = decide_problem_type({label: values}, where, data_args.problem_type, source)
    if problem_type != SINGLE_LABEL:
        raise UserInputError(f"--streaming trains single-label classifiers; {source} reads as {problem_type}")
    names = label_names_from_train(Dataset.from_dict({"label": values}))
    if len(names) < 2:
        raise UserInputError(f"{source}: a single class ({names[0]!r}) in the first {len(values):,} rows")
    logger.info(
        "Label names from a scan of the first %d training rows: %s (a label first seen later stops training, "
        "naming its row)",
        len(values),
        ", ".join(names),
    )
    return names


def hold_out_validation(train: IterableDataset, rows: int, source: str) -> tuple[Dataset, IterableDataset]:
    """The first `rows` rows of the training stream, loaded, and the stream after them."""
    validation = first_rows_of(train, rows)
    if len(validation) < rows:
        raise UserInputError(
            f"{source}: validation would take all {len(validation)} rows (the first --max_eval_samples {rows}); "
            "give --validation_file or a smaller --max_eval_samples"
        )
    logger.info("Validation: the first %d rows of the training stream, which training skips", rows)
    return validation, train.skip(rows)


def load_stream_problem(data_args) -> StreamData:
    """The training stream with its columns named, the label names, and validation / test loaded and encoded.

    Without a validation split the first --max_eval_samples rows of the stream are held out, and training
    starts after them."""
    if data_args.label_columns or data_args.label_separator:
        raise UserInputError(
            "--streaming trains single-label classifiers: no --label_columns or --label_separator"
        )
    raw, length = open_streams(data_args)
    source = split_source(data_args, "train")
    columns = stream_columns(raw["train"], source)
    text = pick_column(columns, data_args.text_column, TEXT_COLUMN_CANDIDATES, "text", source)
    label = pick_column(columns, data_args.label_column, LABEL_COLUMN_CANDIDATES, "label", source)
    eval_rows = data_args.max_eval_samples or DEFAULT_EVAL_ROWS
    evaluation = {
        split: first_rows_of(raw[split], eval_rows) for split in ("validation", "test") if split in raw
    }
    first_row = 1
    if "validation" not in evaluation:
        evaluation["validation"], raw["train"] = hold_out_validation(raw["train"], eval_rows, source)
        first_row = eval_rows + 1
        length = length and length - eval_rows
    train = (
        raw["train"]
        .select_columns([text, label])
        .rename_columns({old: new for old, new in ((text, "text"), (label, "label")) if old != new})
    )
    if (
        data_args.max_train_samples is not None
    ):  # as without streaming: the first N rows (each pass reads them)
        train = train.take(data_args.max_train_samples)
        length = min(length or data_args.max_train_samples, data_args.max_train_samples)
    names = scan_label_names(train, data_args, source, first_row)
    for split, dataset in evaluation.items():
        where = source if split == "validation" and first_row > 1 else split_source(data_args, split)
        dataset = standard_columns(dataset, data_args.text_column, data_args.label_column, where)
        evaluation[split] = encode_labels(clean_split(dataset, data_args, where), names, where)
    return StreamData(train, DatasetDict(evaluation), names, length, first_row)


def checked_rows(data: StreamData, data_args, source: str) -> IterableDataset:
    """The stream with every row checked as it is read (row numbers as in the file), labels as ids; empty texts
    are dropped with --drop_empty."""
    class_label = isinstance((data.train.features or {}).get("label"), ClassLabel)
    # A ClassLabel's values are ids already (-1: no label); other labels are matched by name.
    label_ids = {str(index) if class_label else name: index for index, name in enumerate(data.label_names)}
    names = ", ".join(data.label_names)

    def check(row, index):
        row_number = data.first_row + index
        text, label = row["text"], row["label"]
        if text is None or not str(text).strip():
            if data_args.drop_empty:
                return {"text": None, "label": -1}
            raise UserInputError(
                f"{source} row {row_number}: empty or null text; fix it or pass --drop_empty"
            )
        label = label.strip() if isinstance(label, str) else label
        if label is None or label == "" or (class_label and label == -1):
            raise UserInputError(f"{source} row {row_number}: no label; every row needs one")
        if str(label) not in label_ids:
            raise UserInputError(
                f"{source} row {row_number}: label '{label}' is not among the labels of the first rows ({names})"
            )
        return {"text": str(text), "label": label_ids[str(label)]}

    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("int64")})
    checked = data.train.map(check, with_indices=True, features=features)
    return checked.filter(lambda row: row["text"] is not None) if data_args.drop_empty else checked


def first_texts(stream: IterableDataset, samples: int | None) -> Dataset:
    """The first `samples` rows, or by default as many as the tokenizer's character budget holds."""
    if samples is not None and samples < 1:
        raise UserInputError(f"--tokenizer_train_samples must be at least 1, got {samples}")
    rows, characters = [], 0
    for row in stream:
        rows.append(row)
        characters += len(row["text"])
        if len(rows) == samples or (samples is None and characters >= TOKENIZER_CHARACTER_BUDGET):
            break
    if not rows:
        raise UserInputError("--streaming: the training stream has no rows")
    return Dataset.from_list(rows)


def tokenised_stream(stream: IterableDataset, tokenizer) -> IterableDataset:
    """Token ids, attention mask and length per row, cut at the tokenizer's model_max_length on its
    truncation_side (as encode_splits set them); `label` stays."""

    def tokenize(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=tokenizer.model_max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    return stream.map(tokenize, batched=True, remove_columns=["text"])


class StreamBatches:
    """A process's training batches from a tokenised stream, a period (an "epoch" to the loop) at a time.

    Reads `buffer_size` rows, orders them as LengthGroupedBatchSampler orders a dataset (seeded by the run's seed,
    the process, the pass over the data and the buffer's number), and yields their batches; at the end of the data
    it starts the next pass. `position` says where the current buffer began and how many of its batches were
    yielded: `restore` from it reads the same buffer again and yields the same next batches.
    """

    def __init__(
        self, stream, collator, batch_size, buffer_size, seed, group, device, batches_per_period, rank=0
    ):
        self.stream, self.collator, self.device = stream, collator, device
        self.batch_size, self.buffer_size, self.seed, self.group = batch_size, buffer_size, seed, group
        self.batches_per_period, self.rank = batches_per_period, rank
        self.num_processes = 1
        self.position = {"pass": 0, "buffer": 0, "buffer_start": None, "batches_done": 0}
        self.skip = 0
        self.rows, self.batches, self.iterator = [], [], None

    def __len__(self) -> int:
        """Batches per period over all processes, as len() of a DataLoader that Accelerate then shards."""
        return self.batches_per_period * self.num_processes

    def set_epoch(self, epoch: int) -> None:
        """The loop numbers periods; the stream's position alone decides the batches."""

    def set_skip(self, batches: int) -> None:
        """Batches of this period (over all processes) a resumed run trained already: fewer are left to yield."""
        self.skip = batches // self.num_processes

    def __iter__(self):
        remaining, self.skip = self.batches_per_period - self.skip, 0
        for _ in range(remaining):
            yield self.next_batch()

    def next_batch(self) -> dict:
        if self.position["batches_done"] == len(self.batches):
            self.read_buffer()
        batch = self.batches[self.position["batches_done"]]
        self.position["batches_done"] += 1
        features = [
            {key: value for key, value in self.rows[index].items() if key != "length"} for index in batch
        ]
        return {key: tensor.to(self.device) for key, tensor in self.collator(features).items()}

    def read_buffer(self) -> None:
        """The next buffer of rows and its batches; past the end of the data, the next pass's first buffer."""
        if self.iterator is None:
            self.iterator = iter(self.stream)
        else:
            self.position["buffer"] += 1
            self.position["buffer_start"] = self.stream.state_dict()
        self.rows = list(itertools.islice(self.iterator, self.buffer_size))
        if not self.rows:  # the end of the data: the next pass reads it again, in another order
            self.position.update({"pass": self.position["pass"] + 1, "buffer": 0, "buffer_start": None})
            self.stream.set_epoch(self.position["pass"])
            self.iterator = iter(self.stream)
            self.rows = list(itertools.islice(self.iterator, self.buffer_size))
        self.plan_batches()

    def plan_batches(self) -> None:
        buffer_seed = hash_seed(self.seed, self.rank, self.position["pass"], self.position["buffer"])
        lengths = [row["length"] for row in self.rows]
        sampler = LengthGroupedBatchSampler(lengths, self.batch_size, buffer_seed % 2**62, group=self.group)
        self.batches = list(sampler)
        self.position["batches_done"] = 0

    def restore(self, position: dict) -> None:
        """Go back to a saved position: its buffer is read again and its yielded batches passed over."""
        self.stream.set_epoch(position["pass"])
        if position["buffer_start"] is not None:
            self.stream.load_state_dict(position["buffer_start"])
        self.iterator = iter(self.stream)
        self.position = {**position, "batches_done": 0}
        self.rows = list(itertools.islice(self.iterator, self.buffer_size))
        self.plan_batches()
        self.position["batches_done"] = position["batches_done"]


def updates_to_train(train_args, length: int | None, num_processes: int) -> int:
    """--max_steps, or the epochs over a stream whose length the Hub states; otherwise a one-line error."""
    if train_args.max_steps:
        return train_args.max_steps
    if length is None:
        raise UserInputError(
            "--streaming: the training stream's length is unknown (local files are not counted ahead); give "
            "--max_steps"
        )
    rows_per_update = train_args.per_device_train_batch_size * train_args.gradient_accumulation_steps
    return train_args.num_train_epochs * math.ceil(length / (rows_per_update * num_processes))


def write_position(batches: StreamBatches, folder: str, rank: int) -> None:
    """Accelerate's save-state hook: this process's stream position, as JSON, into the checkpoint being written."""
    (Path(folder) / STREAM_STATE.format(rank)).write_text(json.dumps(batches.position), encoding="utf-8")


def read_position(checkpoint: Path, rank: int) -> dict:
    path = checkpoint / STREAM_STATE.format(rank)
    if not path.is_file():
        raise UserInputError(
            f"the checkpoint {checkpoint} holds no stream position ({path.name}); not a --streaming run's"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def prepare_stream(
    data_args, tokenizer_args, train_args, accelerator
) -> tuple[StreamData, IterableDataset, Dataset]:
    """Everything read before anything is written: the stream and its checks, --max_steps (or the Hub's length)
    and the first rows the tokenizer learns from."""
    data = load_stream_problem(data_args)
    if train_args.dataloader_num_workers:
        logger.warning(
            "--dataloader_num_workers is ignored with --streaming: the stream is read in this process"
        )
    # prepare_run reads --max_steps; a stream of known length gets the steps its epochs make.
    train_args.max_steps = updates_to_train(train_args, data.length, accelerator.num_processes)
    train_args.metric_for_best_model = metric_for_best_model(
        train_args.metric_for_best_model, SINGLE_LABEL, data.label_names
    )
    rows = checked_rows(data, data_args, split_source(data_args, "train"))
    sample = first_texts(rows, tokenizer_args.tokenizer_train_samples)
    logger.info(
        "The tokenizer, max_seq_length and class weights learn from the first %d texts of the stream",
        len(sample),
    )
    return data, rows, sample


def stream_batches(rows: IterableDataset, tokenizer, accelerator, train_args, data_args) -> StreamBatches:
    """This process's share of the stream (a shard, or every n-th row), tokenised and batched."""
    if accelerator.num_processes > 1:
        rows = split_dataset_by_node(rows, accelerator.process_index, accelerator.num_processes)
    period_steps = train_args.eval_steps or train_args.max_steps
    batches = StreamBatches(
        tokenised_stream(rows, tokenizer),
        DataCollatorWithPadding(tokenizer),
        train_args.per_device_train_batch_size,
        data_args.shuffle_buffer_size,
        train_args.seed,
        train_args.group_by_length,
        accelerator.device,
        period_steps * train_args.gradient_accumulation_steps,
        accelerator.process_index,
    )
    batches.num_processes = accelerator.num_processes
    accelerator.register_save_state_pre_hook(
        lambda _models, _weights, folder: write_position(batches, folder, accelerator.process_index)
    )
    return batches


def train_streaming(data_args, tokenizer_args, model_args, train_args, argv: list[str]) -> dict:
    """train() for --streaming: the same model, loop, checkpoints and folder; the data read as it goes."""
    output_dir = Path(train_args.output_dir)
    report_to = None if train_args.report_to == "none" else train_args.report_to
    accelerator = make_accelerator(train_args, output_dir, report_to)
    set_seed(train_args.seed)
    arguments = (data_args, tokenizer_args, model_args, train_args)
    data, rows, sample = prepare_stream(data_args, tokenizer_args, train_args, accelerator)
    problem = LabelledData(DatasetDict({"train": sample, **data.evaluation}), SINGLE_LABEL, data.label_names)
    identity = run_identity(arguments, problem.splits, problem.label_names)
    checkpoint, fresh_output_dir = prepare_output_dir_for_run(accelerator, train_args, identity, output_dir)
    tokenizer, model, encoded, data_results = build_tokenizer_model_and_data(
        accelerator, data_args, tokenizer_args, model_args, problem, train_args.seed, output_dir,
        fresh_output_dir, identity,
    )  # fmt: skip
    batches = stream_batches(rows, tokenizer, accelerator, train_args, data_args)
    eval_loaders = build_loaders(encoded, tokenizer, train_args)[
        2
    ]  # (the sample's training loader is not used)
    run = prepare_run(accelerator, model, batches, batches, eval_loaders, train_args)
    metric = load_problem_metric(SINGLE_LABEL)
    if report_to:
        init_trackers(accelerator, model_args, train_args)
    state = restore_state(run, checkpoint, identity)
    if checkpoint is not None:
        batches.restore(read_position(checkpoint, accelerator.process_index))
    # A bad row far into the stream is found only now: as for any bad input, a folder this run created goes.
    with removed_on_user_error(output_dir, fresh_output_dir and accelerator.is_main_process):
        stopped_early = train_epochs(run, state, metric, train_args, output_dir)
    model = best_model(accelerator, run.model, output_dir)
    results, outputs = final_results(
        run, model, state, stopped_early, metric, problem, encoded, data_results, train_args
    )
    # final_results counts the sample's rows; a stream's are the rows its batches held (the last may be short).
    rows = rows_trained(state, train_args, accelerator.num_processes, None)
    results.update(
        streaming=True,
        num_train_samples=rows,
        train_samples_per_second=rows / max(state.train_seconds, 1e-9),
    )
    return finish_run(accelerator, model, tokenizer, (results, outputs), arguments, argv)
