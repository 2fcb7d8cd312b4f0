"""Every training default in one place: the dataclasses `HfArgumentParser` reads.

`parse_args` layers three sources: the dataclass defaults, then a YAML file given with `--config`, then the
command-line flags, so `--config configs/emotion.yaml --num_train_epochs 2` runs the tuned config for two epochs.
"""

import dataclasses
import difflib
import inspect
import math
import os
import shlex
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from transformers import HfArgumentParser, SchedulerType

from .configuration_lstm import POOLING_MODES, LSTMConfig
from .errors import UserInputError
from .tokenization import TOKENIZER_KINDS, TextCleaning, train_tokenizer


def default_of(function, parameter: str):
    """The library's default for `parameter` of `function` (or class): each default lives in one place, the CLI
    reads it."""
    return inspect.signature(function).parameters[parameter].default


# Checked when an arguments object is made (after the command line and the YAML file are parsed), so a bad value is
# one line before anything is read or written. (test, what the value must be, the arguments it applies to)
VALUE_RULES = (
    (lambda value: value >= 1, "at least 1", ("max_seq_length", "num_train_epochs", "per_device_train_batch_size",
     "per_device_eval_batch_size", "gradient_accumulation_steps", "vocab_size", "min_frequency", "max_train_samples",
     "max_eval_samples", "preprocessing_num_workers", "early_stopping_patience", "max_steps", "eval_steps",
     "shuffle_buffer_size", "max_chunks")),
    (lambda value: value >= 0, "at least 0", ("dataloader_num_workers", "weight_decay", "max_grad_norm",
     "save_total_limit")),
    (lambda value: value > 0, "positive", ("learning_rate",)),
    (lambda value: 0 <= value <= 1, "in [0, 1]", ("warmup_ratio",)),
    (lambda value: 0 <= value < 1, "in [0, 1)", ("ema_decay",)),
    (lambda value: 1 <= value <= 99, "between 1 and 99", ("validation_split_percentage",)),
    (lambda value: 0 <= value < 2**32, "in [0, 2**32)", ("seed",)),  # numpy's seed range
)  # fmt: skip


def type_matches(value, types_allowed: tuple) -> bool:
    if isinstance(value, list):  # --train_file a.csv b.csv, --label_columns a b: list[str]
        return list[str] in types_allowed and all(isinstance(item, str) for item in value)
    if isinstance(value, bool):
        return bool in types_allowed
    if isinstance(value, int):
        return int in types_allowed or float in types_allowed
    return isinstance(value, tuple(t for t in types_allowed if t in (float, str)))


def check_value_type(args, spec: dataclasses.Field) -> None:
    """What argparse checks on the command line, for values that came from the YAML file (set as defaults)."""
    value = getattr(args, spec.name)
    annotation = typing.get_type_hints(type(args))[spec.name]  # HfArgumentParser rewrites spec.type in place
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    options = typing.get_args(annotation) if union else (annotation,)
    if value is None and type(None) in options:
        return
    choices = [
        c for option in options if typing.get_origin(option) is Literal for c in typing.get_args(option)
    ]
    choices += spec.metadata.get("choices", [])
    if choices and value not in choices:
        raise UserInputError(f"--{spec.name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    if not choices and not type_matches(value, options):
        expected = " or ".join(option.__name__ for option in options if option is not type(None))
        raise UserInputError(f"--{spec.name} must be of type {expected}; got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UserInputError(f"--{spec.name} must be a finite number, got {value}")


def check_arguments(args) -> None:
    """Each value's type and range (VALUE_RULES): a UserInputError naming the flag."""
    for spec in dataclasses.fields(args):
        check_value_type(args, spec)
    for test, requirement, names in VALUE_RULES:
        for name in names:
            value = getattr(args, name, None)
            if value is not None and not test(value):
                raise UserInputError(f"--{name} must be {requirement}, got {value}")


@dataclass
class DataArguments:
    dataset_name: str | None = field(default=None, metadata={"help": "A dataset repo id on the Hub."})
    dataset_config_name: str | None = field(
        default=None, metadata={"help": "The Hub dataset's configuration."}
    )
    data_dir: str | None = field(
        default=None,
        metadata={
            "help": "A folder with train.* / validation.* / test.* files; used instead of dataset_name."
        },
    )
    train_file: list[str] | None = field(
        default=None,
        metadata={
            "help": "CSV, TSV, JSON/JSONL or Parquet: one file, several, or a quoted glob ('data/train-*.parquet')."
        },
    )
    validation_file: list[str] | None = field(default=None, metadata={"help": "Same forms as train_file."})
    test_file: list[str] | None = field(default=None, metadata={"help": "Same forms as train_file."})
    text_column: str | None = field(
        default=None, metadata={"help": "Column with the texts (default: text, sentence, content, ...)."}
    )
    label_column: str | None = field(
        default=None, metadata={"help": "Column with the labels (default: label, labels, category, ...)."}
    )
    problem_type: Literal[
        "auto", "single_label_classification", "multi_label_classification", "regression"
    ] = field(
        default="auto",
        metadata={
            "help": "auto decides from the labels (and logs why): a list column, --label_separator or several 0/1 "
            "--label_columns: multi-label; a float column or numeric --label_columns: regression; else single-label."
        },
    )
    label_separator: str | None = field(
        default=None, metadata={"help": 'Multi-label: split a string label column on this (e.g. ",").'}
    )
    label_columns: list[str] | None = field(
        default=None,
        metadata={
            "help": "Several label columns, their names becoming the labels: 0/1 columns (multi-label) or numeric "
            "targets (regression), e.g. --label_columns valence arousal dominance."
        },
    )
    normalize_targets: bool = field(
        default=False,
        metadata={
            "help": "Regression: train on targets standardised with train statistics (undone at inference)."
        },
    )
    class_weights: Literal["none", "balanced", "balanced_sqrt"] = field(
        default="none",
        metadata={
            "help": "balanced: weight the loss by inverse class frequency in train (single-label), or each label's "
            "positives by negatives/positives (multi-label pos_weight); balanced_sqrt: by their square root, milder "
            "for labels that are very rare."
        },
    )
    validation_split_percentage: int = field(
        default=10,
        metadata={"help": "Share of train held out (stratified) when there is no validation split."},
    )
    max_seq_length: int | None = field(
        default=None,
        metadata={
            "help": "Texts are truncated to this many tokens. Default: from the training data, the 98th percentile "
            "of its token counts rounded up to a multiple of 16, within 32-512 (logged)."
        },
    )
    truncation_side: Literal["right", "left", "head_tail"] = field(
        default="right",
        metadata={
            "help": "Which part of a long text is read: right keeps the start, left keeps the end, head_tail the first "
            "and the last half of max_seq_length (within the first max_seq_length * max_chunks tokens). Saved with "
            "the model, so the pipeline, predict.py and the Space read the same tokens."
        },
    )
    long_text_strategy: Literal["truncate", "chunks"] = field(
        default="truncate",
        metadata={
            "help": "chunks: read a long text as consecutive windows of max_seq_length tokens (at most max_chunks) "
            "through the same LSTM and pool the windows (max), at training and inference. truncate: read one window."
        },
    )
    max_chunks: int = field(
        default=8,
        metadata={
            "help": "chunks: windows read per text; head_tail: the tail is taken within this many windows."
        },
    )
    preprocessing_num_workers: int | None = field(
        default=None, metadata={"help": "Processes for tokenisation (datasets' map num_proc)."}
    )
    overwrite_cache: bool = field(
        default=False,
        metadata={
            "help": "Tokenise again instead of reusing the datasets cache of an earlier run on the same data and "
            "tokenizer."
        },
    )
    drop_empty: bool = field(default=False, metadata={"help": "Skip empty or null texts instead of failing."})
    streaming: bool = field(
        default=False,
        metadata={
            "help": "Read train as a stream (datasets' IterableDataset) instead of loading it: for Hub datasets too "
            "big to download and large local CSV/TSV/JSONL/Parquet files. Needs --max_steps unless the Hub states "
            "the split's length. Single-label only."
        },
    )
    shuffle_buffer_size: int = field(
        default=10_000,
        metadata={
            "help": "--streaming: texts read at a time, shuffled (seeded) and batched by length within the buffer."
        },
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Keep only the first N train rows."}
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Keep only the first N validation and test rows."}
    )
    # Cleaning: the classic preprocessing, applied by the tokenizer's normalizer so inference repeats it.
    lowercase: bool = field(default=False, metadata={"help": "Lowercase texts."})
    strip_html: bool = field(default=False, metadata={"help": "Remove HTML tags and entities."})
    replace_urls: bool = field(default=False, metadata={"help": "Replace URLs with the word xxurl."})
    replace_emails: bool = field(default=False, metadata={"help": "Replace e-mail addresses with xxemail."})
    replace_numbers: bool = field(default=False, metadata={"help": "Replace numbers with xxnum."})
    remove_punctuation: bool = field(default=False, metadata={"help": "Remove punctuation."})
    unicode_normalization: Literal["NFC", "NFD", "NFKC", "NFKD"] | None = field(
        default=None, metadata={"help": "Unicode normal form."}
    )
    normalize_whitespace: bool = field(default=True, metadata={"help": "Collapse runs of whitespace."})

    def __post_init__(self):
        # A YAML config or a Python caller may give one file as a plain string.
        for name in ("train_file", "validation_file", "test_file"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, [getattr(self, name)])
        check_arguments(self)
        if self.truncation_side == "head_tail" and self.long_text_strategy == "chunks":
            raise UserInputError(
                "--truncation_side head_tail reads one window: it needs --long_text_strategy truncate"
            )

    def long_text_fields(self, max_seq_length: int) -> dict:
        """The LSTMConfig fields that say how the model reads a long text (see LSTMConfig.long_text_strategy)."""
        strategy = "head_tail" if self.truncation_side == "head_tail" else self.long_text_strategy
        return {
            "long_text_strategy": strategy,
            "max_seq_length": max_seq_length,
            "max_chunks": self.max_chunks,
        }

    def tokens_given(self, max_seq_length: int) -> int:
        """How many tokens of a text the tokenizer passes to the model: more than it reads with head_tail or
        chunks, which the model applies (the same at training and in every inference path)."""
        reads_more = self.truncation_side == "head_tail" or self.long_text_strategy == "chunks"
        return max_seq_length * self.max_chunks if reads_more else max_seq_length

    def cleaning(self) -> TextCleaning:
        names = {f.name for f in dataclasses.fields(TextCleaning)}
        return TextCleaning(**{name: getattr(self, name) for name in names})


@dataclass
class TokenizerArguments:
    tokenizer_name: str | None = field(
        default=None,
        metadata={"help": "Reuse a saved tokenizer (folder or repo id) instead of training one."},
    )
    tokenizer_type: Literal[TOKENIZER_KINDS] = field(
        default=default_of(train_tokenizer, "kind"),
        metadata={"help": "wordlevel pairs best with --pretrained_embeddings."},
    )
    vocab_size: int = field(
        default=default_of(train_tokenizer, "vocab_size"),
        metadata={"help": "Upper bound on the trained vocabulary."},
    )
    min_frequency: int = field(
        default=default_of(train_tokenizer, "min_frequency"),
        metadata={"help": "Minimum count for a token to enter the vocabulary."},
    )
    tokenizer_train_samples: int | None = field(
        default=None,
        metadata={
            "help": "Train the tokenizer on a seeded sample of N training texts. Default: as many as fit 30M "
            "characters (about 25 s on 2 CPU cores; 570k SST-2 sentences), all of them when they fit."
        },
    )

    def __post_init__(self):
        check_arguments(self)


@dataclass
class ModelArguments:
    """LSTMConfig's architecture parameters with its defaults, and how to initialise the embeddings."""

    embedding_dim: int = default_of(LSTMConfig, "embedding_dim")
    hidden_size: int = default_of(LSTMConfig, "hidden_size")
    num_layers: int = default_of(LSTMConfig, "num_layers")
    bidirectional: bool = default_of(LSTMConfig, "bidirectional")
    dropout: float = default_of(LSTMConfig, "dropout")
    embedding_dropout: float = default_of(LSTMConfig, "embedding_dropout")
    pooling: Literal[POOLING_MODES] = default_of(LSTMConfig, "pooling")
    pretrained_embeddings: str | None = field(
        default=None,
        metadata={
            "help": "GloVe / word2vec text file to initialise the embedding rows it covers; its width replaces "
            "--embedding_dim. `make vectors` writes GloVe 6B 50d to vectors/glove.6B.50d.txt."
        },
    )
    freeze_embeddings: bool = field(default=False, metadata={"help": "Do not train the embedding table."})

    def __post_init__(self):
        check_arguments(self)
        try:  # the model's own limits (sizes, dropout ranges, pooling), from LSTMConfig
            LSTMConfig(**self.config_kwargs())
        except ValueError as error:
            raise UserInputError(str(error).replace("LSTMConfig.", "--")) from None

    def config_kwargs(self) -> dict:
        """The fields that are LSTMConfig parameters, by name."""
        parameters = inspect.signature(LSTMConfig).parameters
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name in parameters}


@dataclass
class TrainArguments:
    output_dir: str | None = field(default=None, metadata={"help": "Where the model folder is written."})
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "Replace this project's files there (a model, training state); others are kept."},
    )
    num_train_epochs: int = 3
    max_steps: int | None = field(
        default=None,
        metadata={
            "help": "Train this many optimizer steps; overrides num_train_epochs (as in transformers)."
        },
    )
    eval_steps: int | None = field(
        default=None,
        metadata={
            "help": "--streaming: evaluate (and keep the best weights) every N steps; default once, at the end."
        },
    )
    per_device_train_batch_size: int = 64
    per_device_eval_batch_size: int = 256
    learning_rate: float = 4e-3
    weight_decay: float = 0.01
    lr_scheduler_type: str = field(default="linear", metadata={"help": "Any name get_scheduler knows."})
    warmup_ratio: float = 0.05
    max_grad_norm: float = 1.0
    ema_decay: float = field(
        default=0.0,
        metadata={
            "help": "Keep an exponential moving average of the weights, updated after each optimizer step with this"
            " decay (e.g. 0.99): it is what is evaluated, kept as the best epoch and saved. 0: the raw weights."
        },
    )
    gradient_accumulation_steps: int = 1
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = field(
        default="auto",
        metadata={
            "help": "auto: what `accelerate launch` passes (its config file or --mixed_precision), else bf16 "
            "where the GPU or CPU computes bf16 natively (AVX512-BF16, AMX), else no. A value here wins over both."
        },
    )
    seed: int = 42
    group_by_length: bool = field(default=True, metadata={"help": "Batch texts of similar length together."})
    metric_for_best_model: str | None = field(
        default=None,
        metadata={
            "help": "A validation metric: accuracy, macro_f1, loss (single-label); micro_f1, macro_f1, samples_f1, "
            "subset_accuracy, hamming_loss (multi-label); pearson, spearman, mae, rmse, r2 or <target>_<metric> "
            "(regression). Default: accuracy, macro_f1 or pearson by problem type."
        },
    )
    per_label_thresholds: bool = field(
        default=False,
        metadata={
            "help": "Multi-label: tune one decision threshold per label on validation, not one for all."
        },
    )
    early_stopping_patience: int | None = field(
        default=2, metadata={"help": "Stop after this many evaluations without improvement (None: never)."}
    )
    checkpointing_steps: str = field(
        default="epoch", metadata={"help": "'epoch', a number of optimizer steps, or 'no'."}
    )
    save_total_limit: int = field(
        default=2,
        metadata={"help": "Step checkpoints kept (the newest); the one just written stays even with 0."},
    )
    resume_from_checkpoint: str | None = field(
        default=None, metadata={"help": "A checkpoint folder, or 'latest' for the newest in output_dir."}
    )
    report_to: str = field(
        default="none", metadata={"help": "Trackers for Accelerate: tensorboard, wandb, all."}
    )
    use_cpu: bool = field(default=False, metadata={"help": "Train on the CPU even when a GPU is present."})
    dataloader_num_workers: int = 0
    push_to_hub: bool = False
    hub_model_id: str | None = None
    hub_token: str | None = field(
        default=None, metadata={"help": "Defaults to HF_TOKEN or the stored login."}
    )
    hub_private_repo: bool = False

    def __post_init__(self):
        check_arguments(self)
        steps = self.checkpointing_steps
        if steps not in ("epoch", "no") and not (steps.isdigit() and int(steps) > 0):
            raise UserInputError(
                f"--checkpointing_steps must be 'epoch', 'no' or a number of steps >= 1; got {steps!r}"
            )
        schedulers = [kind.value for kind in SchedulerType]
        if self.lr_scheduler_type not in schedulers:
            raise UserInputError(
                f"--lr_scheduler_type must be one of {', '.join(schedulers)}; got {self.lr_scheduler_type!r}"
            )


ARGUMENT_CLASSES = (DataArguments, TokenizerArguments, ModelArguments, TrainArguments)
SECTIONS = ("data", "tokenizer", "model", "training")


def load_yaml_config(path: str) -> dict:
    """Flat `name: value` pairs; every name must be a known argument."""
    config_path = Path(path)
    if not config_path.is_file():
        raise UserInputError(f"--config {path}: file not found")
    try:
        values = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise UserInputError(f"--config {path}: not valid YAML ({error})") from None
    if not isinstance(values, dict):
        raise UserInputError(f"--config {path}: expected 'name: value' pairs at the top level")
    known = {f.name for cls in ARGUMENT_CLASSES for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserInputError(f"--config {path}: unknown argument(s) {', '.join(unknown)}")
    return values


class OneLineErrorParser(HfArgumentParser):
    """argparse's errors (a bad type or choice, a missing value) as one line naming the flag, not the long usage."""

    def error(self, message: str) -> typing.NoReturn:
        raise UserInputError(f"{message}; see --help")


def unknown_flags_error(remaining: list[str], parser: HfArgumentParser) -> UserInputError:
    """`--learning_rte 0.1`: name it and suggest the closest flag."""
    flags = [item for item in remaining if item.startswith("-")] or remaining
    names = [option for action in parser._actions for option in action.option_strings]
    close = difflib.get_close_matches(flags[0].split("=")[0], names, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return UserInputError(f"unrecognized argument(s): {' '.join(remaining)}{hint}; see --help")


def parse_args(argv: list[str] | None = None):
    """Parse YAML + flags into (DataArguments, TokenizerArguments, ModelArguments, TrainArguments)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # No abbreviations: `--hub_tok X` would be the token under a name `without_secrets` does not know.
    parser = OneLineErrorParser(ARGUMENT_CLASSES, allow_abbrev=False)
    parser.add_argument("--config", default=None, help="YAML file of argument values; flags override it.")
    known, _ = parser.parse_known_args(argv)
    if known.config:
        parser.set_defaults(**load_yaml_config(known.config))
    *arg_objects, _, remaining = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
    if remaining:
        raise unknown_flags_error(remaining, parser)
    data_args, tokenizer_args, model_args, train_args = arg_objects
    if train_args.output_dir is None:
        raise UserInputError("--output_dir is required (on the command line or in the --config file)")
    if not (data_args.dataset_name or data_args.train_file or data_args.data_dir):
        raise UserInputError(
            "give --train_file (CSV, TSV, JSON/JSONL, Parquet), --data_dir or --dataset_name"
        )
    if train_args.push_to_hub and not train_args.hub_model_id:
        raise UserInputError("--push_to_hub needs --hub_model_id namespace/name")
    if train_args.eval_steps and not data_args.streaming:
        raise UserInputError("--eval_steps applies to --streaming runs; other runs evaluate after each epoch")
    return data_args, tokenizer_args, model_args, train_args


# Local paths among the arguments: training_args.yaml (uploaded with the model, shown in its card) records them
# without the user's folders.
PATH_ARGUMENTS = ("config", "data_dir", "train_file", "validation_file", "test_file", "tokenizer_name",
                  "pretrained_embeddings", "output_dir", "resume_from_checkpoint")  # fmt: skip


def rewrite_flag_values(argv: list[str], rewrites: dict[str, Callable[[str], str | None]]) -> list[str]:
    """argv with the value of each flag named in `rewrites` (`--name value`, `--name=value`, or with dashes, which
    HfArgumentParser accepts too) passed through its function; None drops the flag and its value."""
    result, pending, taken = [], None, 0
    for item in argv:
        # The first value always; more while they are not flags (--train_file a.csv b.csv).
        if pending is not None and (taken == 0 or not item.startswith("--")):
            new = rewrites[pending](item)
            if new is not None:
                result += [new] if taken else [f"--{pending}", new]
            taken += 1
            continue
        pending, taken = None, 0
        name, equals, value = item.removeprefix("--").partition("=")
        name = name.replace("-", "_")
        if not item.startswith("--") or name not in rewrites:
            result.append(item)
        elif not equals:
            pending = name
        elif (new := rewrites[name](value)) is not None:
            result.append(f"--{name}={new}")
    return result


def without_secrets(argv: list[str]) -> list[str]:
    """argv minus `--hub_token X` / `--hub_token=X`: HF_TOKEN or the stored login replace it on a rerun."""
    return rewrite_flag_values(argv, {"hub_token": lambda token: None})


def recorded_path(value: str | None) -> str | None:
    """An absolute path as the record keeps it: relative to the working folder when under it, else the bare name
    (/home/alice/data/train.csv -> train.csv). Relative paths and Hub ids stay as given."""
    if value is None or not os.path.isabs(os.path.expanduser(value)):
        return value
    path = Path(os.path.abspath(os.path.expanduser(value)))
    try:
        return str(path.relative_to(os.path.abspath(os.getcwd())))
    except ValueError:
        return path.name


def recorded_paths(value: str | list[str] | None) -> str | list[str] | None:
    return [recorded_path(item) for item in value] if isinstance(value, list) else recorded_path(value)


def args_to_yaml(arg_objects, argv: list[str]) -> str:
    """The record written as training_args.yaml: the command that reproduces the run, then every value."""
    command = rewrite_flag_values(without_secrets(argv), dict.fromkeys(PATH_ARGUMENTS, recorded_path))
    record = {"command": "python scripts/train.py " + shlex.join(command)}
    for section, args in zip(SECTIONS, arg_objects, strict=True):
        values = dataclasses.asdict(args)
        values.pop("hub_token", None)  # a secret never goes into a file
        record[section] = {
            name: recorded_paths(value) if name in PATH_ARGUMENTS else value for name, value in values.items()
        }
    return yaml.safe_dump(record, sort_keys=False, allow_unicode=True)
