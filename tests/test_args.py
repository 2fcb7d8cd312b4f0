"""Arguments: every bad value or flag is one line naming it, exit code 2, before anything is read or written; each
default lives in one place (the CLI reads the library's defaults and choices)."""

import inspect
import subprocess
import sys

import pytest
import yaml
from conftest import REPO_ROOT, subprocess_env
from transformers import HfArgumentParser

from modeling_lstm import LSTMConfig, train_tokenizer
from modeling_lstm.args import DataArguments, ModelArguments, TokenizerArguments, args_to_yaml, parse_args
from modeling_lstm.cli import run_cli
from modeling_lstm.configuration_lstm import POOLING_MODES
from modeling_lstm.tokenization import TOKENIZER_KINDS
from modeling_lstm.training import build_model
from modeling_lstm.training import main as train_main

# (arguments, the start of the one error line)
BAD_VALUES = {
    "max_seq_length 0": (["--max_seq_length", "0"], "--max_seq_length must be at least 1, got 0"),
    "max_seq_length -1": (["--max_seq_length", "-1"], "--max_seq_length must be at least 1, got -1"),
    "num_train_epochs 0": (["--num_train_epochs", "0"], "--num_train_epochs must be at least 1, got 0"),
    "train batch 0": (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size must be at least 1"),
    "eval batch 0": (["--per_device_eval_batch_size", "0"], "--per_device_eval_batch_size must be at least 1"),
    "learning rate 0": (["--learning_rate", "0"], "--learning_rate must be positive, got 0.0"),
    "learning rate -1": (["--learning_rate", "-0.001"], "--learning_rate must be positive"),
    "learning rate nan": (["--learning_rate", "nan"], "--learning_rate must be a finite number"),
    "warmup ratio 1.5": (["--warmup_ratio", "1.5"], "--warmup_ratio must be in [0, 1], got 1.5"),
    "warmup ratio -0.1": (["--warmup_ratio", "-0.1"], "--warmup_ratio must be in [0, 1]"),
    "accumulation 0": (["--gradient_accumulation_steps", "0"], "--gradient_accumulation_steps must be at least 1"),
    "vocab size 0": (["--vocab_size", "0"], "--vocab_size must be at least 1"),
    "min frequency 0": (["--min_frequency", "0"], "--min_frequency must be at least 1"),
    "validation share 0": (["--validation_split_percentage", "0"], "--validation_split_percentage must be between"),
    "validation share 100": (["--validation_split_percentage", "100"], "--validation_split_percentage must be"),
    "save_total_limit -1": (["--save_total_limit", "-1"], "--save_total_limit must be at least 0"),
    "patience 0": (["--early_stopping_patience", "0"], "--early_stopping_patience must be at least 1"),
    "max_train_samples 0": (["--max_train_samples", "0"], "--max_train_samples must be at least 1"),
    "weight decay -1": (["--weight_decay", "-1"], "--weight_decay must be at least 0"),
    "seed -1": (["--seed", "-1"], "--seed must be in [0, 2**32)"),
    "ema decay 1": (["--ema_decay", "1"], "--ema_decay must be in [0, 1), got 1.0"),
    "checkpointing 0": (["--checkpointing_steps", "0"], "--checkpointing_steps must be 'epoch', 'no' or a number"),
    "checkpointing typo": (["--checkpointing_steps", "epochs"], "--checkpointing_steps must be 'epoch'"),
    "scheduler typo": (["--lr_scheduler_type", "cosin"], "--lr_scheduler_type must be one of linear, cosine,"),
    # The model's limits come from LSTMConfig.
    "dropout 1": (["--dropout", "1"], "--dropout must be in [0, 1), got 1.0"),
    "embedding dropout -0.1": (["--embedding_dropout", "-0.1"], "--embedding_dropout must be in [0, 1)"),
    "hidden size 0": (["--hidden_size", "0"], "--hidden_size must be a positive integer, got 0"),
    "num layers 0": (["--num_layers", "0"], "--num_layers must be a positive integer, got 0"),
    # argparse's own errors, as one line instead of the 60-line usage.
    "not a number": (["--max_seq_length", "abc"], "argument --max_seq_length/--max-seq-length: invalid int value"),
    "bad choice": (["--pooling", "maxx"], "argument --pooling: invalid choice: 'maxx'"),
    "mistyped flag": (["--learning_rte", "0.1"], "unrecognized argument(s): --learning_rte 0.1 (did you mean"),
    "unknown flag=value": (["--epochs=3"], "unrecognized argument(s): --epochs=3"),
    # An abbreviation would slip the token past without_secrets under another name.
    "abbreviated flag": (["--hub_tok", "secret"], "unrecognized argument(s): --hub_tok secret"),
}  # fmt: skip

# Values argparse never sees: they come from the YAML file as parser defaults.
BAD_YAML = {
    "float epochs": ("num_train_epochs: 2.5", "--num_train_epochs must be of type int; got 2.5"),
    "pooling typo": ("pooling: maxx", "--pooling must be one of last, mean, max, attention; got 'maxx'"),
    "precision typo": ("mixed_precision: fp8", "--mixed_precision must be one of auto, no, fp16, bf16"),
    "flag as number": ("lowercase: 3", "--lowercase must be of type bool; got 3"),
    "negative from YAML": ("max_seq_length: -5", "--max_seq_length must be at least 1, got -5"),
}


@pytest.fixture
def train_csv(tmp_path):
    rows = "".join(
        f"{text},{label}\n" for text, label in [("good fun film", "pos"), ("bad dull film", "neg")] * 10
    )
    path = tmp_path / "train.csv"
    path.write_text("text,label\n" + rows)
    return path


def assert_one_error_line(code: int, stderr: str, expected: str) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {expected}"), stderr


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_value_is_one_line_before_anything_is_written(case, train_csv, tmp_path, capsys):
    extra, expected = BAD_VALUES[case]
    output_dir = tmp_path / "out"
    code = run_cli(train_main, ["--train_file", str(train_csv), "--output_dir", str(output_dir), *extra])
    assert_one_error_line(code, capsys.readouterr().err, expected)
    assert not output_dir.exists()


@pytest.mark.parametrize("case", list(BAD_YAML))
def test_bad_value_in_the_config_file(case, train_csv, tmp_path, capsys):
    line, expected = BAD_YAML[case]
    config = tmp_path / "config.yaml"
    config.write_text(f"train_file: {train_csv}\noutput_dir: {tmp_path / 'out'}\n{line}\n")
    code = run_cli(train_main, ["--config", str(config)])
    assert_one_error_line(code, capsys.readouterr().err, expected)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # five child Python processes
def test_hostile_values_through_the_real_script(train_csv, tmp_path):
    """The cases of issue 14 as a user runs them: one line on stderr, exit code 2, no output folder."""
    cases = ["max_seq_length 0", "max_seq_length -1", "num_train_epochs 0", "train batch 0", "mistyped flag"]
    processes = {
        case: subprocess.Popen(
            [
                sys.executable,
                "scripts/train.py",
                "--train_file",
                str(train_csv),
                "--output_dir",
                str(tmp_path / case),
                *BAD_VALUES[case][0],
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )  # fmt: skip
        for case in cases
    }
    for case, process in processes.items():
        _, stderr = process.communicate(timeout=600)
        assert_one_error_line(process.returncode, stderr, BAD_VALUES[case][1])
        assert not (tmp_path / case).exists()


def test_values_at_the_limits_are_accepted(train_csv, tmp_path):
    arguments = ["--train_file", str(train_csv), "--output_dir", str(tmp_path / "out"), "--max_seq_length", "1",
                 "--warmup_ratio", "1", "--weight_decay", "0", "--save_total_limit", "0", "--dropout", "0",
                 "--checkpointing_steps", "5", "--lr_scheduler_type", "cosine", "--validation_split_percentage",
                 "99", "--learning_rate", "1e-5", "--seed", "0"]  # fmt: skip
    data_args, _, model_args, train_args = parse_args(arguments)
    assert data_args.max_seq_length == 1 and model_args.dropout == 0 and train_args.checkpointing_steps == "5"


TOKEN = "hf_tHiSiSaSeCrEtToKeN"


@pytest.mark.parametrize(
    "token_flags",
    [["--hub_token", TOKEN], [f"--hub_token={TOKEN}"], ["--hub-token", TOKEN], [f"--hub-token={TOKEN}"]],
)
def test_the_token_is_nowhere_in_the_record(token_flags, tmp_path):
    argv = ["--train_file", "train.csv", *token_flags, "--output_dir", "out", "--push_to_hub",
            "--hub_model_id", "me/model"]  # fmt: skip
    arg_objects = parse_args(argv)
    assert arg_objects[3].hub_token == TOKEN
    record_text = args_to_yaml(arg_objects, argv)
    assert TOKEN not in record_text
    record = yaml.safe_load(record_text)
    # The rest of the command is kept, in order: it reruns the same training (the token comes from HF_TOKEN).
    assert record["command"] == (
        "python scripts/train.py --train_file train.csv --output_dir out --push_to_hub --hub_model_id me/model"
    )
    assert "hub_token" not in record["training"]


def test_the_record_holds_no_absolute_local_path(tmp_path, monkeypatch):
    project, elsewhere = tmp_path / "project", tmp_path / "home" / "alice"
    (project / "data").mkdir(parents=True)
    elsewhere.mkdir(parents=True)
    config = elsewhere / "emotion.yaml"
    config.write_text("num_train_epochs: 2\n")
    monkeypatch.chdir(project)
    argv = [f"--config={config}", "--train_file", str(project / "data" / "train.csv"), "--validation_file",
            "data/dev.csv", "--output_dir", str(elsewhere / "models" / "run1"), "--pretrained_embeddings",
            str(elsewhere / "glove.txt"), "--tokenizer_name", "someone/tokenizer"]  # fmt: skip
    record_text = args_to_yaml(parse_args(argv), argv)
    assert str(tmp_path) not in record_text
    record = yaml.safe_load(record_text)
    assert record["command"] == (
        "python scripts/train.py --config=emotion.yaml --train_file data/train.csv --validation_file data/dev.csv "
        "--output_dir run1 --pretrained_embeddings glove.txt --tokenizer_name someone/tokenizer"
    )
    assert (
        record["data"]["train_file"] == ["data/train.csv"]  # a split's files are a list
        and record["data"]["validation_file"] == ["data/dev.csv"]
    )
    assert (
        record["training"]["output_dir"] == "run1" and record["model"]["pretrained_embeddings"] == "glove.txt"
    )
    assert record["tokenizer"]["tokenizer_name"] == "someone/tokenizer"
    assert record["training"]["num_train_epochs"] == 2


TEXTS = ["a good film", "a bad film", "good acting", "bad acting"]


def test_model_arguments_default_to_the_configs_defaults():
    arguments = ModelArguments().config_kwargs()
    assert set(arguments) == {"embedding_dim", "hidden_size", "num_layers", "bidirectional", "dropout",
                              "embedding_dropout", "pooling"}  # fmt: skip
    config = LSTMConfig()
    assert arguments == {name: getattr(config, name) for name in arguments}


def test_build_model_passes_every_architecture_argument():
    tokenizer = train_tokenizer(TEXTS, vocab_size=30, kind="wordlevel", min_frequency=1)
    chosen = dict(embedding_dim=6, hidden_size=5, num_layers=2, bidirectional=False, dropout=0.2,
                  embedding_dropout=0.05, pooling="mean")  # fmt: skip
    assert all(value != getattr(LSTMConfig(), name) for name, value in chosen.items())
    model = build_model(ModelArguments(**chosen), DataArguments(), tokenizer, ["bad", "good"], True)
    assert {name: getattr(model.config, name) for name in chosen} == chosen
    assert model.config.vocab_size == len(tokenizer) and model.config.pad_token_id == tokenizer.pad_token_id


def choices_of(arguments_class, name: str) -> list:
    parser = HfArgumentParser(arguments_class)
    return next(action.choices for action in parser._actions if action.dest == name)


def test_choices_are_the_librarys():
    assert list(choices_of(ModelArguments, "pooling")) == list(POOLING_MODES)
    assert list(choices_of(TokenizerArguments, "tokenizer_type")) == list(TOKENIZER_KINDS)


@pytest.mark.parametrize(
    ("arguments_class", "name", "parameter"),
    [
        (TokenizerArguments, "vocab_size", "vocab_size"),
        (TokenizerArguments, "tokenizer_type", "kind"),
        (TokenizerArguments, "min_frequency", "min_frequency"),
    ],
)
def test_tokenizer_arguments_agree_with_train_tokenizer(arguments_class, name, parameter):
    """scripts/train.py and `train_tokenizer(texts)` train the same tokenizer."""
    library_default = inspect.signature(train_tokenizer).parameters[parameter].default
    assert getattr(arguments_class(), name) == library_default


# max_seq_length has no fixed default: training chooses it from the data and sets the tokenizer's
# model_max_length to it (tests/test_scale.py).


def test_eval_steps_without_streaming_is_refused(train_csv, tmp_path, capsys):
    output_dir = tmp_path / "out"
    argv = ["--train_file", str(train_csv), "--output_dir", str(output_dir), "--eval_steps", "5"]
    code = run_cli(train_main, argv)
    assert_one_error_line(code, capsys.readouterr().err, "--eval_steps applies to --streaming runs")
    assert not output_dir.exists()
