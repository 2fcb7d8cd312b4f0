"""Train an LSTM classifier with Accelerate: data -> tokenizer -> model -> loop -> best model folder.

One process or many (CPU gloo or GPUs), mixed precision, gradient accumulation, checkpoints that a killed run resumes
from, early stopping on a validation metric, trackers. The output folder is written aside and renamed into place, so
a crash never leaves a half-written model.
"""

import hashlib
import json
import logging
import math
import os
import pickle
import re
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.scheduler import AcceleratedScheduler
from accelerate.utils import set_seed
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Sampler
from tqdm.auto import tqdm
from transformers import AutoTokenizer, DataCollatorWithPadding, get_scheduler

from .args import args_to_yaml, parse_args
from .configuration_lstm import LSTMConfig
from .data import (
    auto_max_seq_length,
    column_values,
    iter_texts,
    load_problem,
    tokenize_splits,
    tokenizer_training_sample,
    truncation_stats,
)
from .embeddings import initialise_embeddings, read_word_vectors
from .errors import UserInputError
from .hardware import resolve_mixed_precision
from .inference import scores_from_logits
from .labels import MULTI_LABEL, REGRESSION, SINGLE_LABEL, balanced_weights, target_statistics
from .metrics import load_problem_metric
from .modeling_lstm import LSTMForSequenceClassification
from .output_dir import CHECKPOINTS, folder_written_aside, prepare_output_dir, publish, write_text_atomic
from .phases import add_phase_results, phase, recording_phases
from .plots import plot_confusion_matrix, plot_label_f1, plot_predicted_vs_true, plot_training_curves
from .problem_types import (
    losses_per_text,
    lower_is_better,
    metric_for_best_model,
    score_outputs,
    tune_thresholds,
)
from .run_identity import check_same_run, run_identity
from .serving import add_serving_files
from .tokenization import train_tokenizer

logger = get_logger(__name__)

TRAINER_STATE = "trainer_state.json"
RUN_RECORD = "run.json"  # checkpoints/run.json: the identity of the run whose tokenizer is saved there
AVERAGE_STATE = "weight_average.safetensors"


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Shuffled batches of texts of similar length, so little of each batch is padding.

    Each epoch shuffles all indices, sorts them by length within chunks of `chunk_batches` batches, cuts batches and
    shuffles the batch order. The order depends only on (seed, epoch): a resumed run sees the same batches.
    """

    def __init__(
        self, lengths: list[int], batch_size: int, seed: int, shuffle=True, group=True, chunk_batches=50
    ):
        self.lengths = lengths
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.group = group
        self.chunk_size = batch_size * chunk_batches
        self.epoch = 0
        self.skip = 0  # batches of this epoch already trained by a run we resume

    def set_skip(self, batches: int):
        self.skip = batches

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        if self.shuffle:
            order = torch.randperm(len(self.lengths), generator=generator).tolist()
        else:
            order = list(range(len(self.lengths)))
        if self.group:
            chunk = self.chunk_size if self.shuffle else len(order)
            order = [
                index
                for start in range(0, len(order), chunk)
                for index in sorted(order[start : start + chunk], key=self.lengths.__getitem__, reverse=True)
            ]
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        yield from batches[self.skip :]


def make_dataloader(dataset, collator, batch_size, seed, shuffle, group, num_workers=0):
    sampler = LengthGroupedBatchSampler(
        column_values(dataset, "length"), batch_size, seed, shuffle=shuffle, group=group
    )
    # A private generator: iterating a DataLoader otherwise draws from the global torch RNG, so a resumed run (whose
    # RNG state is restored mid-epoch) would get different dropout masks from the uninterrupted one.
    loader = DataLoader(
        dataset.remove_columns("length"),
        batch_sampler=sampler,
        collate_fn=collator,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(seed),
    )
    return loader, sampler


@dataclass
class TrainerState:
    """The loop's progress, saved as trainer_state.json in each checkpoint: a killed run resumes from it."""

    epoch: int = 0  # epochs finished
    batches_in_epoch: int = 0  # batches of the current epoch this process has trained
    global_step: int = 0  # optimizer updates
    history: list[dict] = field(default_factory=list)  # one entry per finished epoch
    best_metric: float | None = None
    best_epoch: int | None = None
    evaluations_without_improvement: int = 0
    train_seconds: float = 0.0
    tokens_seen: int = 0
    # The training loss summed over this epoch's batches up to the last checkpoint (a resumed run adds to it).
    epoch_loss_sum: float = 0.0
    run: dict | None = None  # the run's identity (run_identity.py): only the same run resumes from this state

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainerState":
        return cls(**values)


@dataclass
class PreparedRun:
    """What the loop works on, as Accelerate prepared it."""

    accelerator: Accelerator
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: AcceleratedScheduler
    train_loader: DataLoader
    train_sampler: LengthGroupedBatchSampler
    eval_loaders: dict[str, DataLoader]
    averaged: AveragedModel | None  # the weight average (--ema_decay), if any
    total_updates: int
    num_epochs: int  # --num_train_epochs, or as many as --max_steps reaches into

    @property
    def evaluated(self) -> torch.nn.Module:
        """The weights that are evaluated and kept as the best: the average where there is one."""
        return self.averaged.module if self.averaged is not None else self.model


def hash_seed(*parts: int) -> int:
    """A 63-bit seed from integers, stable across runs and processes (unlike hash())."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@contextmanager
def removed_on_user_error(output_dir: Path, remove: bool):
    """Bad input found once the folder exists (a tokenizer or word vectors file) still leaves no folder behind."""
    try:
        yield
    except UserInputError:
        if remove:
            shutil.rmtree(output_dir, ignore_errors=True)
        raise


def step_checkpoints(output_dir: Path) -> list[Path]:
    """Finished checkpoints (not `.partial` ones a killed run left behind), oldest first."""
    found = [
        path for path in (output_dir / CHECKPOINTS).glob("step_*") if re.fullmatch(r"step_\d+", path.name)
    ]
    return sorted(found, key=lambda path: int(path.name.split("_")[1]))


def read_json_record(path: Path, what: str):
    """A JSON file this project wrote; a damaged one is a one-line error, not a traceback."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserInputError(
            f"{what} {path} cannot be read ({type(error).__name__}); start afresh with --overwrite_output_dir"
        ) from None


def find_checkpoint(output_dir: Path, resume: str) -> Path:
    if resume != "latest":
        path = Path(resume)
        if not (path / TRAINER_STATE).is_file():
            raise UserInputError(
                f"--resume_from_checkpoint {resume}: not a checkpoint folder (no {TRAINER_STATE})"
            )
        return path
    candidates = [path for path in step_checkpoints(output_dir) if (path / TRAINER_STATE).is_file()]
    if not candidates:
        raise UserInputError(f"--resume_from_checkpoint latest: no checkpoint in {output_dir / CHECKPOINTS}")
    return candidates[-1]


def load_or_train_tokenizer(
    accelerator, tokenizer_args, data_args, train, seed: int, tokenizer_dir: Path, identity
):
    """The main process trains (or loads) the tokenizer and saves it; the others load that copy.

    A tokenizer already saved in checkpoints/ (a resumed run's) is taken only if the same run saved it."""
    record = tokenizer_dir.with_name(RUN_RECORD)
    if tokenizer_dir.is_dir():
        check_same_run(
            read_json_record(record, "the run record"), identity, f"the saved tokenizer {tokenizer_dir}"
        )
    elif accelerator.is_main_process:
        if tokenizer_args.tokenizer_name:
            try:
                tokenizer = AutoTokenizer.from_pretrained(
                    tokenizer_args.tokenizer_name, trust_remote_code=True
                )
            except (OSError, ValueError) as error:
                reason = str(error).strip().splitlines()[0].rstrip(": ")
                raise UserInputError(
                    f"--tokenizer_name {tokenizer_args.tokenizer_name}: no tokenizer found there ({reason})"
                ) from None
        else:
            sample = tokenizer_training_sample(train, tokenizer_args.tokenizer_train_samples, seed)
            logger.info(
                f"Training the tokenizer on {len(sample):,} of {len(train):,} texts", main_process_only=True
            )
            tokenizer = train_tokenizer(
                iter_texts(sample),
                vocab_size=tokenizer_args.vocab_size,
                kind=tokenizer_args.tokenizer_type,
                min_frequency=tokenizer_args.min_frequency,
                # None (auto): encode_splits sets the value it chooses from the data.
                model_max_length=data_args.max_seq_length or 512,
                cleaning=data_args.cleaning(),
            )
        write_text_atomic(record, json.dumps(identity, indent=2))
        with folder_written_aside(tokenizer_dir) as aside:  # a kill mid-save leaves no half-written tokenizer
            tokenizer.save_pretrained(aside)
    accelerator.wait_for_everyone()
    try:
        return AutoTokenizer.from_pretrained(tokenizer_dir)
    except (OSError, ValueError) as error:  # damaged outside this project (a JSONDecodeError is a ValueError)
        raise UserInputError(
            f"the saved tokenizer {tokenizer_dir} cannot be read ({type(error).__name__}); start afresh with "
            "--overwrite_output_dir"
        ) from None


def label_config_fields(data, data_args) -> dict:
    """Config fields the train labels decide: the problem type, class weights, the regression targets' range."""
    fields = {"problem_type": data.problem_type}
    labels = np.asarray(column_values(data.splits["train"], "label"))
    if data_args.class_weights != "none":
        fields.update(
            balanced_weights(labels, data.problem_type, len(data.label_names), data_args.class_weights)
        )
    if data.problem_type == REGRESSION:
        fields.update(target_statistics(labels, data_args.normalize_targets))
    return fields


def build_model(
    model_args, data_args, tokenizer, label_names, trained_tokenizer: bool, label_fields: dict | None = None
):
    """The model for these labels; `label_fields` are the config fields the labels decide (label_config_fields)."""
    config = LSTMConfig(
        **model_args.config_kwargs(),
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        id2label=dict(enumerate(label_names)),
        text_cleaning=data_args.cleaning().to_dict() if trained_tokenizer else {},
        **(label_fields or {}),
    )
    vectors = None
    if model_args.pretrained_embeddings:
        vectors, dimension = read_word_vectors(model_args.pretrained_embeddings, tokenizer.get_vocab())
        config.embedding_dim = dimension  # the file decides the width
    model = LSTMForSequenceClassification(config)
    if vectors is not None:
        coverage = initialise_embeddings(model.get_input_embeddings(), vectors, config.pad_token_id)
        logger.info(
            f"Pretrained embeddings cover {coverage:.1%} of the {config.vocab_size} tokens",
            main_process_only=True,
        )
    if model_args.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    return model


def make_optimizer(model, train_args):
    # No weight decay on biases and embeddings: decaying rare tokens' rows towards zero only hurts them.
    decay, no_decay = [], []
    embeddings = model.get_input_embeddings().weight
    for parameter in model.parameters():
        if not parameter.requires_grad:
            continue
        (no_decay if parameter.dim() < 2 or parameter is embeddings else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": train_args.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # fused: one kernel for all parameters instead of a Python loop over them (-12% per step on CPU).
    return torch.optim.AdamW(groups, lr=train_args.learning_rate, fused=True)


def split_outputs(model, dataloader, accelerator) -> tuple[np.ndarray, np.ndarray, float]:
    """Scores (texts, num_labels; as the pipeline gives them), references and the mean unweighted loss over a
    split, from every process."""
    model.eval()
    problem_type = accelerator.unwrap_model(
        model
    ).config.problem_type  # under DDP the config is on the inner model
    scores, references, losses = [], [], []
    with torch.inference_mode():
        for batch in dataloader:
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            loss = losses_per_text(logits, batch["labels"], problem_type)
            batch_scores = scores_from_logits(logits.float(), problem_type)
            gathered = accelerator.gather_for_metrics((batch_scores, batch["labels"], loss))
            scores.append(gathered[0].cpu())
            references.append(gathered[1].cpu())
            losses.append(gathered[2].cpu())
    mean_loss = torch.cat(losses).mean().item()
    return torch.cat(scores).numpy(), torch.cat(references).numpy(), mean_loss


def scored(config, outputs: tuple[np.ndarray, np.ndarray, float], metric) -> dict:
    scores, references, loss = outputs
    return {**score_outputs(config.problem_type, scores, references, metric, config), "loss": loss}


def tune_on_validation(
    config, outputs: tuple[np.ndarray, np.ndarray, float], metric_name: str, per_label: bool
):
    """Multi-label: set the config's thresholds to the ones that maximise the metric on these validation outputs,
    so epochs are compared, and the model saved, at the thresholds it is used with."""
    if config.problem_type == MULTI_LABEL:
        probabilities, references, _ = outputs
        config.update(tune_thresholds(probabilities, references, metric_name, per_label))


def is_better(score: float, best: float | None, metric_name: str) -> bool:
    if best is None:
        return True
    return score < best if lower_is_better(metric_name) else score > best


def save_checkpoint(
    accelerator, output_dir: Path, state: TrainerState, save_total_limit: int, averaged=None
) -> None:
    """Accelerate state (model, optimizer, scheduler, RNG), the weight average and our loop state, written aside
    then renamed. The average is saved as plain tensors (safetensors): Accelerate would pickle it, and unpickling
    a checkpoint runs whatever code was planted in it.

    Of the older step checkpoints, the newest `save_total_limit - 1` stay: the one just written always does (even
    with a limit of 0), as resuming needs it.
    """
    final = output_dir / CHECKPOINTS / f"step_{state.global_step}"
    partial = final.with_name(final.name + ".partial")
    accelerator.save_state(str(partial))
    # Every rank writes its own RNG state into `partial`: rename it only once all of them are done (under load,
    # rank 1 was still writing when rank 0 renamed the folder, and crashed).
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if averaged is not None:
            average = {
                name: tensor.detach().cpu().contiguous() for name, tensor in averaged.state_dict().items()
            }
            save_file(average, partial / AVERAGE_STATE)
        (partial / TRAINER_STATE).write_text(json.dumps(state.to_dict(), indent=2))
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
        older = [path for path in reversed(step_checkpoints(output_dir)) if path != final]  # newest first
        for old in older[max(save_total_limit - 1, 0) :]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def load_checkpoint(accelerator, checkpoint: Path, averaged) -> None:
    """Accelerate's states and the weight average from `checkpoint`, as tensors only: a pickle (which runs code
    when loaded) is refused."""
    pickled = sorted(path.name for path in checkpoint.glob("custom_checkpoint_*.pkl"))
    if pickled:  # Accelerate unpickles these without restriction; this project no longer writes them
        raise UserInputError(
            f"the checkpoint {checkpoint} holds {', '.join(pickled)}, a pickle this version will not load "
            "(unpickling runs code); resume from a checkpoint written by this version"
        )
    try:
        accelerator.load_state(str(checkpoint))  # torch.load(weights_only=True) for every other file
    except pickle.UnpicklingError as error:
        reason = str(error).strip().splitlines()[0]
        raise UserInputError(
            f"the checkpoint {checkpoint} holds more than tensors ({reason}); not loaded"
        ) from None
    if averaged is not None:
        averaged.load_state_dict(load_file(str(checkpoint / AVERAGE_STATE), device=str(accelerator.device)))


def save_best(accelerator, model, output_dir: Path) -> None:
    if accelerator.is_main_process:
        with folder_written_aside(output_dir / CHECKPOINTS / "best") as aside:
            accelerator.unwrap_model(model).save_pretrained(aside)
    accelerator.wait_for_everyone()


def prefixed(split: str, scores: dict) -> dict:
    """Flat `split_metric` keys like transformers' all_results.json (per-class tables and matrix included)."""
    return {f"{split}_{key}": value for key, value in scores.items()}


def pick_widget_examples(
    texts: list[str],
    labels: list,
    label_names: list[str],
    problem_type: str = SINGLE_LABEL,
    per_class: int = 1,
) -> list[str]:
    """Short example texts, one per class where possible (the first few for regression), for the model card
    widget and the Space."""
    short = [(text, label) for text, label in zip(texts, labels, strict=True) if len(text) < 120]
    if problem_type == REGRESSION:
        return [text for text, _ in short[: len(label_names) + 2]]
    chosen = []
    for label_id in range(len(label_names)):
        chosen += [text for text, label in short if has_label(label, label_id, problem_type)][:per_class]
    return chosen


def has_label(label, label_id: int, problem_type: str) -> bool:
    """Whether an encoded label (a class id, or a multi-hot vector) holds `label_id`."""
    return label[label_id] > 0.5 if problem_type == MULTI_LABEL else label == label_id


def make_accelerator(train_args, output_dir: Path, report_to: str | None) -> Accelerator:
    on_cpu = train_args.use_cpu or not torch.cuda.is_available()
    accelerator = Accelerator(
        cpu=on_cpu,
        mixed_precision=resolve_mixed_precision(train_args.mixed_precision, on_cpu),
        gradient_accumulation_steps=train_args.gradient_accumulation_steps,
        log_with=report_to,
        project_dir=str(output_dir),
    )
    if accelerator.device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        # Processes share the cores: more threads than cores per process only adds contention.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // accelerator.num_processes))
    logger.info(
        f"Training with {accelerator.num_processes} process(es) on {accelerator.device.type}, "
        f"mixed precision {accelerator.mixed_precision}, {torch.get_num_threads()} thread(s) per process",
        main_process_only=True,
    )
    return accelerator


def load_data_and_prepare_output_dir(accelerator, arguments: tuple, output_dir: Path):
    """The labelled splits, the run's identity, the checkpoint to resume from (or None) and whether this run created
    the output folder.

    Everything the user gave is validated before anything is written, down to whether the checkpoint to resume
    belongs to this run (same arguments, same data). The problem type is decided here, once, and
    --metric_for_best_model resolved for it.
    """
    data_args, train_args = (
        arguments[0],
        arguments[-1],
    )  # (data, tokenizer, model, training) as parse_args gives
    data = load_problem(data_args, train_args.seed)
    train_args.metric_for_best_model = metric_for_best_model(
        train_args.metric_for_best_model, data.problem_type, data.label_names
    )
    identity = run_identity(arguments, data.splits, data.label_names)
    checkpoint, fresh_output_dir = prepare_output_dir_for_run(accelerator, train_args, identity, output_dir)
    return data, identity, checkpoint, fresh_output_dir


def prepare_output_dir_for_run(accelerator, train_args, identity: dict, output_dir: Path):
    """The checkpoint to resume from (checked to be this run's) or None, and whether this run creates the output
    folder, which is then prepared (refused if it holds the user's files)."""
    checkpoint = None
    if train_args.resume_from_checkpoint:
        checkpoint = find_checkpoint(output_dir, train_args.resume_from_checkpoint)
        recorded = read_json_record(checkpoint / TRAINER_STATE, "the checkpoint state")
        check_same_run(recorded.get("run"), identity, f"the checkpoint {checkpoint}")
    fresh_output_dir = not output_dir.exists()
    if accelerator.is_main_process:
        prepare_output_dir(
            output_dir,
            train_args.overwrite_output_dir,
            train_args.resume_from_checkpoint,
            tracking=train_args.report_to != "none",
        )
    accelerator.wait_for_everyone()
    return checkpoint, fresh_output_dir


def build_tokenizer_model_and_data(
    accelerator,
    data_args,
    tokenizer_args,
    model_args,
    data,
    seed: int,
    output_dir: Path,
    fresh_output_dir: bool,
    identity,
):
    """The tokenizer (trained, or --tokenizer_name), the model, the tokenized splits, and what preparing them
    measured for all_results.json (the tokenizer's seconds, max_seq_length, truncation)."""
    splits = data.splits
    with removed_on_user_error(output_dir, fresh_output_dir and accelerator.is_main_process):
        tokenizer_start = time.perf_counter()
        with phase("tokenizer training"):
            tokenizer = load_or_train_tokenizer(
                accelerator,
                tokenizer_args,
                data_args,
                splits["train"],
                seed,
                output_dir / CHECKPOINTS / "tokenizer",
                identity,
            )
        tokenizer_runtime = time.perf_counter() - tokenizer_start
        model = build_model(
            model_args,
            data_args,
            tokenizer,
            data.label_names,
            not tokenizer_args.tokenizer_name,
            label_config_fields(data, data_args),
        )
    encoded, data_results = encode_splits(accelerator, tokenizer, splits, data_args, seed)
    model.config.update(data_args.long_text_fields(data_results["max_seq_length"]))
    return tokenizer, model, encoded, {"tokenizer_train_runtime": tokenizer_runtime, **data_results}


def encode_splits(accelerator, tokenizer, splits, data_args, seed: int):
    """Tokenise every split at max_seq_length (given, or chosen from the training texts), cut on
    --truncation_side; the tokenizer saved with the model carries both, so inference cuts the same way."""
    max_seq_length = data_args.max_seq_length
    if max_seq_length is None:
        max_seq_length, percentile = auto_max_seq_length(tokenizer, splits["train"], seed)
        logger.info(
            f"max_seq_length {max_seq_length}: the training texts' 98th percentile is {percentile:.0f} tokens "
            "(rounded up to a multiple of 16, within 32-512; --max_seq_length overrides)",
            main_process_only=True,
        )
    tokens_given = data_args.tokens_given(max_seq_length)
    tokenizer.model_max_length = tokens_given
    # head_tail is the model's: the tokenizer keeps the start, the model its first and last tokens.
    tokenizer.truncation_side = (
        "right" if data_args.truncation_side == "head_tail" else data_args.truncation_side
    )
    with accelerator.main_process_first():
        encoded = tokenize_splits(
            splits,
            tokenizer,
            tokens_given,
            data_args.preprocessing_num_workers,
            load_from_cache_file=False if data_args.overwrite_cache else None,
        )
    stats = truncation_stats(encoded["train"])
    logger.info(
        f"Truncation at {tokens_given} tokens ({tokenizer.truncation_side} side) cut "
        f"{stats['train_truncated_share']:.1%} of the training texts, by {stats['train_truncated_mean_tokens_cut']:.1f}"
        f" tokens on average (at most {stats['train_truncated_max_tokens_cut']}); "
        + long_text_note(data_args, max_seq_length),
        main_process_only=True,
    )
    return encoded.remove_columns("tokens_cut"), {"max_seq_length": max_seq_length, **stats}


def long_text_note(data_args, max_seq_length: int) -> str:
    """What the model reads of the tokens the tokenizer gives it (logged next to the truncation)."""
    if data_args.truncation_side == "head_tail":
        return (
            f"the model reads the first {max_seq_length - max_seq_length // 2} and last {max_seq_length // 2}"
        )
    if data_args.long_text_strategy == "chunks":
        return f"the model reads them as up to {data_args.max_chunks} windows of {max_seq_length}, pooled"
    return "the model reads all of them"


def build_loaders(encoded, tokenizer, train_args):
    """The shuffled training loader with its sampler, and one evaluation loader per other split."""
    collator = DataCollatorWithPadding(tokenizer)
    train_loader, train_sampler = make_dataloader(
        encoded["train"],
        collator,
        train_args.per_device_train_batch_size,
        train_args.seed,
        shuffle=True,
        group=train_args.group_by_length,
        num_workers=train_args.dataloader_num_workers,
    )
    eval_loaders = {
        split: make_dataloader(
            encoded[split], collator, train_args.per_device_eval_batch_size, 0, False, True
        )[0]
        for split in encoded
        if split != "train"
    }
    return train_loader, train_sampler, eval_loaders


def prepare_run(accelerator, model, train_loader, train_sampler, eval_loaders, train_args) -> PreparedRun:
    """The weight average, optimizer and scheduler, then everything through accelerator.prepare."""
    # With --ema_decay, an exponential moving average of the weights is evaluated and saved instead of the raw
    # weights (a smoother model: +0.2-0.3 accuracy points on emotion over 5 seeds, docs/tuning.md). It is copied
    # from the bare model, before Accelerate wraps it, and is saved in each checkpoint (save_checkpoint), so a
    # resumed run goes on averaging.
    averaged = None
    if train_args.ema_decay:
        averaged = AveragedModel(
            model, multi_avg_fn=get_ema_multi_avg_fn(train_args.ema_decay), use_buffers=True
        )
    optimizer = make_optimizer(model, train_args)
    updates_per_epoch = math.ceil(
        len(train_loader) / accelerator.num_processes / accelerator.gradient_accumulation_steps
    )
    num_epochs = train_args.num_train_epochs
    total_updates = updates_per_epoch * num_epochs
    if train_args.max_steps:  # overrides the epochs, as in transformers; the last epoch may stop part-way
        total_updates = train_args.max_steps
        num_epochs = math.ceil(total_updates / updates_per_epoch)
    scheduler = get_scheduler(
        train_args.lr_scheduler_type,
        optimizer,
        # The prepared scheduler steps once per process for each update, hence the factor.
        num_warmup_steps=int(train_args.warmup_ratio * total_updates) * accelerator.num_processes,
        num_training_steps=total_updates * accelerator.num_processes,
    )
    model, optimizer, train_loader, scheduler, *prepared_eval = accelerator.prepare(
        model, optimizer, train_loader, scheduler, *eval_loaders.values()
    )
    if averaged is not None:
        averaged.to(accelerator.device)
    eval_loaders = dict(zip(eval_loaders, prepared_eval, strict=True))
    return PreparedRun(
        accelerator=accelerator,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        train_loader=train_loader,
        train_sampler=train_sampler,
        eval_loaders=eval_loaders,
        averaged=averaged,
        total_updates=total_updates,
        num_epochs=num_epochs,
    )


def init_trackers(accelerator, model_args, train_args) -> None:
    hyperparameters = {k: v for args in (model_args, train_args) for k, v in asdict(args).items()}
    accelerator.init_trackers(
        "modeling-lstm",
        config={k: v for k, v in hyperparameters.items() if isinstance(v, (int, float, str, bool))},
    )


def restore_state(run: PreparedRun, checkpoint: Path | None, identity: dict) -> TrainerState:
    """A fresh state, or the checkpoint's (with the model, optimizer, scheduler, RNG and weight-average states it
    holds; load_data_and_prepare_output_dir checked that this run wrote it)."""
    if checkpoint is None:
        return TrainerState(run=identity)
    state = TrainerState.from_dict(read_json_record(checkpoint / TRAINER_STATE, "the checkpoint state"))
    load_checkpoint(run.accelerator, checkpoint, run.averaged)
    logger.info(
        f"Resumed from {checkpoint} (epoch {state.epoch + 1}, step {state.global_step})",
        main_process_only=True,
    )
    return state


def training_step(run: PreparedRun, batch, max_grad_norm: float) -> torch.Tensor:
    accelerator, model = run.accelerator, run.model
    with accelerator.accumulate(model):
        loss = model(**batch).loss
        accelerator.backward(loss)
        if accelerator.sync_gradients and max_grad_norm:
            accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
        run.optimizer.step()
        run.scheduler.step()
        run.optimizer.zero_grad()
    return loss.detach()


def train_one_epoch(
    run: PreparedRun, state: TrainerState, epoch: int, train_args, output_dir, progress
) -> float:
    """The epoch's batches (the rest of them, on resume), with step checkpoints; returns the mean training loss."""
    accelerator = run.accelerator
    run.model.train()
    # Accelerate's loader sets its own count of the epochs it has iterated as the sampler's epoch: a resumed run
    # (or an epoch whose batches were all trained before the checkpoint) must tell it, or it shuffles as another.
    run.train_loader.set_epoch(epoch)
    run.train_sampler.set_epoch(epoch)
    epoch_start = time.perf_counter()
    # Skip in our sampler rather than with accelerator.skip_first_batches: the resumed run then iterates the very
    # DataLoader the uninterrupted run does (with the other, it diverged from the next epoch on).
    run.train_sampler.set_skip(state.batches_in_epoch * accelerator.num_processes)
    checkpoint_every = (
        int(train_args.checkpointing_steps) if train_args.checkpointing_steps.isdigit() else None
    )
    loss_sum = torch.zeros((), device=accelerator.device)  # summed on device: no host sync per step
    tokens = torch.zeros((), dtype=torch.long, device=accelerator.device)
    for batch in run.train_loader:
        # Dropout masks depend only on (seed, rank, epoch, batch): a resumed run gets the uninterrupted run's masks
        # whatever else drew random numbers in between (DataLoader iterators do).
        torch.manual_seed(
            hash_seed(train_args.seed, accelerator.process_index, epoch, state.batches_in_epoch)
        )
        loss_sum += training_step(run, batch, train_args.max_grad_norm)
        tokens += batch["attention_mask"].sum()
        state.batches_in_epoch += 1
        if accelerator.sync_gradients:
            if run.averaged is not None:
                run.averaged.update_parameters(accelerator.unwrap_model(run.model))
            state.global_step += 1
            progress.update(1)
            if checkpoint_every and state.global_step % checkpoint_every == 0:
                state.train_seconds += time.perf_counter() - epoch_start
                epoch_start = time.perf_counter()
                # The loss so far goes into the checkpoint: a resumed run's epoch loss covers the whole epoch.
                state.epoch_loss_sum += accelerator.reduce(loss_sum, "mean").item()
                loss_sum.zero_()
                save_checkpoint(accelerator, output_dir, state, train_args.save_total_limit, run.averaged)
            if state.global_step >= run.total_updates:  # --max_steps reached within the epoch
                break
    epoch_loss_sum = state.epoch_loss_sum + accelerator.reduce(loss_sum, "mean").item()
    train_loss = epoch_loss_sum / max(state.batches_in_epoch, 1)
    state.tokens_seen += int(accelerator.reduce(tokens, "sum").item())
    state.train_seconds += time.perf_counter() - epoch_start
    return train_loss


def evaluate_epoch(run: PreparedRun, state: TrainerState, epoch: int, train_loss: float, metric, train_args):
    """Validation scores of the epoch's weights, added to the history, logged and sent to the trackers."""
    config = run.accelerator.unwrap_model(run.evaluated).config
    outputs = split_outputs(run.evaluated, run.eval_loaders["validation"], run.accelerator)
    tune_on_validation(config, outputs, train_args.metric_for_best_model, train_args.per_label_thresholds)
    scores = scored(config, outputs, metric)
    entry = {
        "epoch": epoch + 1,
        "train_loss": train_loss,
        "learning_rate": run.scheduler.get_last_lr()[0],
        "seconds": state.train_seconds,
        **{f"validation_{name}": value for name, value in scores.items() if isinstance(value, float)},
    }
    state.history.append(entry)
    shown = dict.fromkeys(["loss", *CURVE_METRICS[config.problem_type], train_args.metric_for_best_model])
    logger.info(
        f"epoch {epoch + 1}: train_loss {train_loss:.4f} lr {entry['learning_rate']:.2e} "
        + " ".join(f"validation_{name} {scores[name]:.4f}" for name in shown)
        + f" ({state.train_seconds:.1f}s)",
        main_process_only=True,
    )
    if run.accelerator.trackers:
        run.accelerator.log({k: v for k, v in entry.items() if k != "epoch"}, step=epoch + 1)
    return scores


def end_epoch(
    run: PreparedRun, state: TrainerState, epoch: int, scores: dict, train_args, output_dir
) -> bool:
    """Keep the best weights, checkpoint, and say whether to stop early."""
    metric_name = train_args.metric_for_best_model
    score = scores[metric_name]
    if is_better(score, state.best_metric, metric_name):
        state.best_metric, state.best_epoch, state.evaluations_without_improvement = score, epoch + 1, 0
        save_best(run.accelerator, run.evaluated, output_dir)
    else:
        state.evaluations_without_improvement += 1
    patience = train_args.early_stopping_patience
    stop = patience is not None and state.evaluations_without_improvement >= patience
    state.epoch, state.batches_in_epoch, state.epoch_loss_sum = epoch + 1, 0, 0.0
    if train_args.checkpointing_steps == "epoch" or stop:
        save_checkpoint(run.accelerator, output_dir, state, train_args.save_total_limit, run.averaged)
    if stop:
        logger.info(
            f"Early stopping: no {metric_name} improvement for {patience} evaluation(s)",
            main_process_only=True,
        )
    return stop


def train_epochs(run: PreparedRun, state: TrainerState, metric, train_args, output_dir) -> bool:
    """The epochs left to train, each evaluated; returns whether training stopped early."""
    stopped_early = False
    # Closed on an error too, so a one-line error (a bad row found mid-stream) stays the last line printed.
    with tqdm(
        total=run.total_updates,
        initial=state.global_step,
        disable=not run.accelerator.is_local_main_process,
        desc="Training",
    ) as progress:
        for epoch in range(state.epoch, run.num_epochs):
            train_loss = train_one_epoch(run, state, epoch, train_args, output_dir, progress)
            with phase("evaluation"):
                scores = evaluate_epoch(run, state, epoch, train_loss, metric, train_args)
            stopped_early = end_epoch(run, state, epoch, scores, train_args, output_dir)
            if stopped_early:
                break
    return stopped_early


def rows_trained(state: TrainerState, train_args, num_processes: int, epoch_rows: int | None) -> int:
    """Rows the training batches held: whole epochs, or fewer where --max_steps stopped one part-way (a stream,
    `epoch_rows` None, counts its updates; an epoch's last batch may be short, so updates alone overcount)."""
    rows_per_update = train_args.per_device_train_batch_size * train_args.gradient_accumulation_steps
    by_updates = state.global_step * rows_per_update * num_processes
    if epoch_rows is None:
        return by_updates
    by_epochs = epoch_rows * len(state.history)
    return min(by_epochs, by_updates) if train_args.max_steps else by_epochs


def best_model(accelerator, model, output_dir: Path):
    """The best epoch's weights, without the mixed-precision wrapper.

    Training is over: evaluate in full precision, as users load the saved folder (the figures then reproduce).
    """
    model = accelerator.unwrap_model(model, keep_fp32_wrapper=False)
    model.load_state_dict(load_file(str(output_dir / CHECKPOINTS / "best" / "model.safetensors")))
    return model


def final_results(
    run: PreparedRun,
    model,
    state: TrainerState,
    stopped_early,
    metric,
    data,
    encoded,
    data_results: dict,
    train_args,
) -> tuple[dict, dict]:
    """all_results.json: how training went, then every split's scores with the best weights (multi-label: at the
    thresholds tuned on validation, saved in the config); and each split's (scores, references, loss)."""
    accelerator = run.accelerator
    splits, label_names, problem_type = data.splits, data.label_names, data.problem_type
    outputs = {split: split_outputs(model, loader, accelerator) for split, loader in run.eval_loaders.items()}
    metric_name = train_args.metric_for_best_model
    tune_on_validation(model.config, outputs["validation"], metric_name, train_args.per_label_thresholds)
    if problem_type == MULTI_LABEL:
        logger.info(
            f"Thresholds tuned on validation: {model.config.threshold} ({model.config.thresholds})",
            main_process_only=True,
        )
    results = {
        "train_loss": state.history[-1]["train_loss"],
        "train_runtime": state.train_seconds,
        **data_results,
        "train_samples_per_second": rows_trained(
            state, train_args, accelerator.num_processes, len(encoded["train"])
        )
        / max(state.train_seconds, 1e-9),
        "train_tokens_per_second": state.tokens_seen / max(state.train_seconds, 1e-9),
        "epoch": float(len(state.history)),
        "best_epoch": state.best_epoch,
        "stopped_early": stopped_early,
        "num_processes": accelerator.num_processes,
        "mixed_precision": accelerator.mixed_precision,
        "num_train_samples": len(encoded["train"]),
        "labels": label_names,
        "problem_type": problem_type,
        "metric_for_best_model": metric_name,
    }
    for split, split_output in outputs.items():
        results.update(prefixed(split, scored(model.config, split_output, metric)))
        results[f"num_{split}_samples"] = len(encoded[split])
    results["widget_examples"] = pick_widget_examples(
        column_values(splits["validation"], "text"),
        column_values(splits["validation"], "label"),
        label_names,
        problem_type,
    )
    results["epoch_log"] = state.history
    return results, outputs


def write_model_folder(
    accelerator, model, tokenizer, results: dict, outputs: dict, arguments: tuple, argv
) -> None:
    """The model, tokenizer, arguments, results and plots, swapped into --output_dir in one go (main process)."""
    train_args = arguments[-1]  # (data, tokenizer, model, training) as parse_args returns them
    output_dir = Path(train_args.output_dir)
    final_model = accelerator.unwrap_model(model)
    final_model.config.text_cleaning = final_model.config.text_cleaning or {}

    def write_files(folder: Path):
        final_model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        add_serving_files(folder)  # handler.py and the fast pipeline, registered in config.json
        (folder / "training_args.yaml").write_text(args_to_yaml(arguments, argv), encoding="utf-8")
        (folder / "all_results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
        curves = CURVE_METRICS[final_model.config.problem_type]
        plot_training_curves(
            results["epoch_log"], folder / "training_curves.png", train_args.metric_for_best_model, curves
        )
        write_problem_plots(final_model.config, folder, results, outputs)

    publish(output_dir, write_files)
    logger.info(f"Saved the model folder {output_dir}", main_process_only=True)
    summary = {k: round(v, 4) for k, v in results.items() if isinstance(v, float)}
    logger.info(f"Results: {json.dumps(summary)}", main_process_only=True)


# Validation metrics drawn per epoch beside the one that picks the best epoch.
CURVE_METRICS = {
    SINGLE_LABEL: ("accuracy", "macro_f1"),
    MULTI_LABEL: ("micro_f1", "macro_f1"),
    REGRESSION: ("pearson", "spearman"),
}


def write_problem_plots(config, folder: Path, results: dict, outputs: dict) -> None:
    """The confusion matrix (single-label), per-label F1 bars (multi-label) or predicted-vs-true scatter plots
    (regression), on test when there is one."""
    split = "test" if "test" in outputs else "validation"
    label_names = [config.id2label[i] for i in range(config.num_labels)]
    if config.problem_type == SINGLE_LABEL:
        matrix = results[f"{split}_confusion_matrix"]
        plot_confusion_matrix(
            matrix, label_names, folder / "confusion_matrix.png", f"Confusion matrix ({split})"
        )
    elif config.problem_type == MULTI_LABEL:
        plot_label_f1(results[f"{split}_per_class"], folder / "label_f1.png", f"F1 per label ({split})")
    else:
        predicted, references, _ = outputs[split]
        plot_predicted_vs_true(predicted, references, label_names, folder / "predicted_vs_true.png", split)


def push_model_folder(train_args) -> None:
    from .hub import push_to_hub

    push_to_hub(
        Path(train_args.output_dir),
        train_args.hub_model_id,
        token=train_args.hub_token,
        private=train_args.hub_private_repo,
    )


@recording_phases  # seconds and peak RSS per phase, logged and added to all_results.json
def train(data_args, tokenizer_args, model_args, train_args, argv: list[str]) -> dict:
    if data_args.streaming:  # read, checked, tokenised and batched as it goes: streaming.py
        from .streaming import train_streaming

        return train_streaming(data_args, tokenizer_args, model_args, train_args, argv)
    output_dir = Path(train_args.output_dir)
    report_to = None if train_args.report_to == "none" else train_args.report_to
    accelerator = make_accelerator(train_args, output_dir, report_to)
    set_seed(train_args.seed)
    arguments = (data_args, tokenizer_args, model_args, train_args)
    with phase("load"):
        data, identity, checkpoint, fresh_output_dir = load_data_and_prepare_output_dir(
            accelerator, arguments, output_dir
        )
    with phase("tokenisation"):
        tokenizer, model, encoded, data_results = build_tokenizer_model_and_data(
            accelerator,
            data_args,
            tokenizer_args,
            model_args,
            data,
            train_args.seed,
            output_dir,
            fresh_output_dir,
            identity,
        )
    with phase("training"):
        run = prepare_run(accelerator, model, *build_loaders(encoded, tokenizer, train_args), train_args)
        metric = load_problem_metric(data.problem_type)
        if report_to:
            init_trackers(accelerator, model_args, train_args)
        state = restore_state(run, checkpoint, identity)
        stopped_early = train_epochs(run, state, metric, train_args, output_dir)

    # The best epoch's weights, not the last ones, are evaluated and saved.
    with phase("evaluation"):
        model = best_model(accelerator, run.model, output_dir)
        results, outputs = final_results(
            run, model, state, stopped_early, metric, data, encoded, data_results, train_args
        )
    return finish_run(accelerator, model, tokenizer, (results, outputs), arguments, argv)


def finish_run(accelerator, model, tokenizer, scored_run: tuple[dict, dict], arguments: tuple, argv) -> dict:
    """The model folder (main process), the trackers closed, the push: what follows final_results."""
    results, outputs = scored_run
    train_args = arguments[-1]
    if accelerator.is_main_process:
        with phase("saving"):
            write_model_folder(accelerator, model, tokenizer, results, outputs, arguments, argv)
        add_phase_results(results, Path(train_args.output_dir) / "all_results.json")
    accelerator.wait_for_everyone()
    # Ends the trackers, and tears the process group down before exit: left to interpreter shutdown, gloo's threads
    # can abort a process that has finished ("terminate called without an active exception", exit -6).
    accelerator.end_training()
    if train_args.push_to_hub and accelerator.is_main_process:
        push_model_folder(train_args)
    return results


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    # httpx2: huggingface_hub >= 2's HTTP client, one INFO line per request during a push.
    noisy_loggers = (
        "httpx",
        "httpx2",
        "datasets",
        "transformers",
        "accelerate.checkpointing",
        "accelerate.accelerator",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = parse_args(argv)
    train_args = args[3]
    if train_args.push_to_hub and os.environ.get("RANK", "0") == "0":  # the main process, before any work
        from .hub import check_push_access

        check_push_access(train_args.hub_model_id, train_args.hub_token)
    return train(*args, argv=argv)
